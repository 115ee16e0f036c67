//! Every element of a message found once for validation: the fields of each segment, their
//! repetitions, components and subcomponents, split in one pass per field and kept in flat
//! lists, so that each check reads its element by index instead of making a view and
//! scanning for it again. The format checks read every component of every checked field, the
//! guide's constraints and rules read the same fields again: with views each read cost a few
//! hundred instructions (a segment view copied, a field and a component found, the text
//! searched for escapes); here the split is paid once, and a field without escapes is known
//! to be a slice of the message's text.
//!
//! The lists give what the views give (`er7::views`): an empty element has no children, an
//! opaque field (MSH-1, MSH-2) is never split, and text is decoded as the views decode it.

use std::borrow::Cow;

use crate::er7::{Ctx, Message};

/// A run of children in one of the lists.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    first: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.first as usize..(self.first as usize + self.len as usize)
    }
}

#[derive(Clone, Copy, Debug)]
struct FieldTok<'a> {
    raw: &'a [u8],
    reps: Span,
    /// MSH-1 or MSH-2: never split, never unescaped.
    opaque: bool,
    /// A slice of the message's text with nothing to decode: its parts are read as they are.
    plain: bool,
}

#[derive(Clone, Copy, Debug)]
struct Node<'a> {
    raw: &'a [u8],
    children: Span,
    /// The field this part belongs to (how to decode it).
    field: u32,
}

/// The elements of one message (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Tokens<'a> {
    ctx: Option<Ctx<'a>>,
    /// The fields of each segment (message index), field 1 first.
    segments: Vec<Span>,
    fields: Vec<FieldTok<'a>>,
    reps: Vec<Node<'a>>,
    comps: Vec<Node<'a>>,
    subs: Vec<Node<'a>>,
}

/// A repetition, component or subcomponent in [`Tokens`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Rep(u32),
    Comp(u32),
    Sub(u32),
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(message: &Message<'a>) -> Tokens<'a> {
        let n = message.segment_count();
        // Sized once from the message's length (grown by doubling, the lists cost a quarter
        // of the split in copies): a flow's message has about one field per 9 bytes and one
        // subcomponent per 4.
        let bytes = message.bytes().len();
        let mut t = Tokens {
            ctx: None,
            segments: Vec::with_capacity(n),
            fields: Vec::with_capacity(bytes / 8 + n),
            reps: Vec::with_capacity(bytes / 8 + n),
            comps: Vec::with_capacity(bytes / 6 + n),
            subs: Vec::with_capacity(bytes / 4 + n),
        };
        let ctx = message.ctx();
        t.ctx = Some(ctx);
        for i in 0..n {
            let first = t.fields.len() as u32;
            for (raw, opaque) in message.field_slices(i) {
                t.push_field(raw, Ctx { opaque, ..ctx });
            }
            t.segments.push(Span { first, len: t.fields.len() as u32 - first });
        }
        t
    }

    fn push_field(&mut self, raw: &'a [u8], ctx: Ctx<'a>) {
        let index = self.fields.len() as u32;
        let escape = ctx.delimiters.escape.filter(|_| !ctx.opaque);
        let plain = ctx.whole.is_some() && escape.is_none_or(|e| !raw.contains(&e));
        let reps = Span { first: self.reps.len() as u32, len: 0 };
        self.fields.push(FieldTok { raw, reps, opaque: ctx.opaque, plain });
        if raw.is_empty() {
            return;
        }
        let (Some(r), Some(c)) = (ctx.rep_sep(), ctx.comp_sep()) else {
            // Opaque: one repetition, one component, one subcomponent, the whole field.
            self.subs.push(Node { raw, children: Span::default(), field: index });
            let sub = Span { first: self.subs.len() as u32 - 1, len: 1 };
            self.comps.push(Node { raw, children: sub, field: index });
            let comp = Span { first: self.comps.len() as u32 - 1, len: 1 };
            self.reps.push(Node { raw, children: comp, field: index });
            self.close_field(index);
            return;
        };
        // The level each byte closes: 3 a repetition, 2 a component, 1 a subcomponent, 0 none.
        let mut levels = [0u8; 256];
        for (sep, level) in [(ctx.sub_sep(), 1), (Some(c), 2), (Some(r), 3)] {
            if let Some(slot) = sep.and_then(|b| levels.get_mut(usize::from(b))) {
                *slot = level;
            }
        }
        // One pass over the bytes: a separator closes the open parts at its level and below.
        let (mut rep_start, mut comp_start, mut sub_start) = (0usize, 0usize, 0usize);
        let (mut rep_children, mut comp_children) = (self.comps.len(), self.subs.len());
        for (i, &b) in raw.iter().enumerate() {
            let level = levels.get(usize::from(b)).copied().unwrap_or(0);
            if level == 0 {
                continue;
            }
            self.push_sub(raw, sub_start, i, index);
            sub_start = i + 1;
            if level >= 2 {
                self.push_comp(raw, comp_start, i, comp_children, index);
                comp_start = i + 1;
                comp_children = self.subs.len();
            }
            if level == 3 {
                self.push_rep(raw, rep_start, i, rep_children, index);
                rep_start = i + 1;
                rep_children = self.comps.len();
            }
        }
        self.push_sub(raw, sub_start, raw.len(), index);
        self.push_comp(raw, comp_start, raw.len(), comp_children, index);
        self.push_rep(raw, rep_start, raw.len(), rep_children, index);
        self.close_field(index);
    }

    fn push_sub(&mut self, raw: &'a [u8], start: usize, end: usize, field: u32) {
        self.subs.push(Node { raw: raw.get(start..end).unwrap_or(&[]), children: Span::default(), field });
    }

    /// A component ends: its subcomponents are those pushed since `children` (none when it
    /// is empty: an empty element has no children).
    fn push_comp(&mut self, raw: &'a [u8], start: usize, end: usize, children: usize, field: u32) {
        let raw = raw.get(start..end).unwrap_or(&[]);
        if raw.is_empty() {
            self.subs.truncate(children);
        }
        let span = Span { first: children as u32, len: (self.subs.len() - children) as u32 };
        self.comps.push(Node { raw, children: span, field });
    }

    fn push_rep(&mut self, raw: &'a [u8], start: usize, end: usize, children: usize, field: u32) {
        let raw = raw.get(start..end).unwrap_or(&[]);
        if raw.is_empty() {
            // Its one empty component (and that one's nothing) go.
            self.comps.truncate(children);
        }
        let span = Span { first: children as u32, len: (self.comps.len() - children) as u32 };
        self.reps.push(Node { raw, children: span, field });
    }

    fn close_field(&mut self, index: u32) {
        if let Some(f) = self.fields.get_mut(index as usize) {
            f.reps.len = self.reps.len() as u32 - f.reps.first;
        }
    }

    /// The message's separators (`None` for a message without segments).
    pub(crate) fn delimiters(&self) -> Option<crate::er7::Delimiters> {
        self.ctx.map(|c| c.delimiters)
    }

    /// Field `pos` (1-based) of segment `segment`: `None` when the segment has fewer fields.
    pub(crate) fn field(&self, segment: usize, pos: usize) -> Option<u32> {
        let span = *self.segments.get(segment)?;
        let k = pos.checked_sub(1)?;
        (k < span.len as usize).then(|| span.first + k as u32)
    }

    /// The raw bytes of a field, empty for `None`.
    pub(crate) fn field_raw(&self, field: Option<u32>) -> &'a [u8] {
        field.and_then(|f| self.fields.get(f as usize)).map_or(&[], |f| f.raw)
    }

    /// The decoded text of a field (as `Field::text`).
    pub(crate) fn field_text(&self, field: Option<u32>) -> Cow<'a, str> {
        match field.and_then(|f| self.fields.get(f as usize).map(|t| (f, t))) {
            Some((f, t)) => self.text_in(t.raw, f),
            None => Cow::Borrowed(""),
        }
    }

    /// The repetitions of a field, in order (none when it is empty).
    pub(crate) fn reps(&self, field: Option<u32>) -> impl Iterator<Item = Tok> + use<> {
        let span = field.and_then(|f| self.fields.get(f as usize)).map_or(Span::default(), |f| f.reps);
        span.range().map(|i| Tok::Rep(i as u32))
    }

    /// How many repetitions a field has (0 when empty).
    pub(crate) fn rep_count(&self, field: Option<u32>) -> usize {
        field.and_then(|f| self.fields.get(f as usize)).map_or(0, |f| f.reps.len as usize)
    }

    fn node(&self, tok: Tok) -> Option<&Node<'a>> {
        match tok {
            Tok::Rep(i) => self.reps.get(i as usize),
            Tok::Comp(i) => self.comps.get(i as usize),
            Tok::Sub(i) => self.subs.get(i as usize),
        }
    }

    pub(crate) fn raw(&self, tok: Tok) -> &'a [u8] {
        self.node(tok).map_or(&[], |n| n.raw)
    }

    /// The decoded text of a part (as `Part::text`).
    pub(crate) fn text(&self, tok: Tok) -> Cow<'a, str> {
        match self.node(tok) {
            Some(n) => self.text_in(n.raw, n.field),
            None => Cow::Borrowed(""),
        }
    }

    fn text_in(&self, raw: &'a [u8], field: u32) -> Cow<'a, str> {
        let (Some(ctx), Some(f)) = (self.ctx, self.fields.get(field as usize)) else { return Cow::Borrowed("") };
        let ctx = Ctx { opaque: f.opaque, ..ctx };
        if f.plain {
            if let Some(text) = ctx.slice_of_whole(raw) {
                crate::work::scanned(raw.len());
                return Cow::Borrowed(text);
            }
        }
        ctx.text(raw)
    }

    /// A part's text with its children joined by the message's separators and trailing empty
    /// children dropped (what the assertion language compares), when that is its bytes as they
    /// are: a field without escapes, and nothing to drop (no empty subcomponent at the end of
    /// a component, no empty component at the end). `None` when it must be built.
    pub(crate) fn joined(&self, tok: Tok) -> Option<&'a str> {
        let n = self.node(tok)?;
        let (ctx, f) = (self.ctx?, self.fields.get(n.field as usize)?);
        if !f.plain || f.opaque {
            return None;
        }
        let d = ctx.delimiters;
        let last = n.raw.last().copied();
        let ends_sub = d.subcomponent.is_some() && last == d.subcomponent;
        let drops = match tok {
            Tok::Sub(_) => false,
            Tok::Comp(_) => ends_sub,
            Tok::Rep(_) => {
                ends_sub
                    || last == Some(d.component)
                    || d.subcomponent.is_some_and(|s| n.raw.windows(2).any(|w| w == [s, d.component]))
            }
        };
        if drops {
            return None;
        }
        ctx.slice_of_whole(n.raw)
    }

    /// The children of a part, as `Part::children` gives them: a repetition's components, a
    /// component's subcomponents, a subcomponent itself.
    pub(crate) fn children(&self, tok: Tok) -> impl Iterator<Item = Tok> + use<> {
        let (range, make): (std::ops::Range<usize>, fn(u32) -> Tok) = match (tok, self.node(tok)) {
            (Tok::Rep(_), Some(n)) => (n.children.range(), Tok::Comp),
            (Tok::Comp(_), Some(n)) => (n.children.range(), Tok::Sub),
            (Tok::Sub(i), Some(_)) => (i as usize..i as usize + 1, Tok::Sub),
            _ => (0..0, Tok::Sub),
        };
        range.map(move |i| make(i as u32))
    }

    /// Child `n` (1-based) of a part, `None` when absent (as `Part::children().nth(n - 1)`).
    pub(crate) fn child(&self, tok: Tok, n: usize) -> Option<Tok> {
        let k = n.checked_sub(1)?;
        match (tok, self.node(tok)?) {
            (Tok::Rep(_), node) => (k < node.children.len as usize).then(|| Tok::Comp(node.children.first + k as u32)),
            (Tok::Comp(_), node) => (k < node.children.len as usize).then(|| Tok::Sub(node.children.first + k as u32)),
            (Tok::Sub(i), _) => (k == 0).then_some(Tok::Sub(i)),
        }
    }
}
