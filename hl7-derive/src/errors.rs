//! Every mistake of one derive, reported together.

pub struct Errors(Option<syn::Error>, usize);

impl Errors {
    pub fn new() -> Self {
        Errors(None, 0)
    }

    pub fn push(&mut self, e: syn::Error) {
        self.1 += 1;
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// How many errors so far (to tell whether one step added any).
    pub fn count(&self) -> usize {
        self.1
    }

    pub fn at(&mut self, span: proc_macro2::Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// `Err` with every error pushed so far, `Ok` when there is none.
    pub fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
