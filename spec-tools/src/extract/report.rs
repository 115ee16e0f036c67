//! What the extractor could not read. Each finding names the cell (`<page>#t<N>.r<M>`) so that
//! whoever keeps the hand file can check the guide and supply the value there.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub src: String,
    pub what: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn push(&mut self, src: impl Into<String>, what: impl Into<String>) {
        self.findings.push(Finding { src: src.into(), what: what.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings whose `src` starts with `prefix` (a page, or a page and table).
    pub fn about<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.src.starts_with(prefix))
    }

    /// One line per finding, `<src>: <what>`, as printed on stderr.
    pub fn lines(&self) -> Vec<String> {
        self.findings.iter().map(|f| format!("{}: {}", f.src, f.what)).collect()
    }
}
