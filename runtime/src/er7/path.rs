//! Parser for the `SEG[occ]-field[rep].comp.sub` path grammar (EBNF in the `er7` docs).

use crate::error::PathError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PathSpec {
    pub segment: [u8; 3],
    pub occurrence: usize,
    pub field: usize,
    pub repetition: Option<usize>,
    pub component: Option<usize>,
    pub subcomponent: Option<usize>,
}

struct Cursor<'p> {
    path: &'p str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.path.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[cold]
    fn error(&self, reason: &'static str) -> PathError {
        PathError::Syntax { path: self.path.to_owned(), position: self.pos, reason }
    }

    fn require(&mut self, b: u8, reason: &'static str) -> Result<(), PathError> {
        if self.eat(b) { Ok(()) } else { Err(self.error(reason)) }
    }

    /// A positive decimal number (positions are 1-based, so 0 is rejected).
    fn number(&mut self) -> Result<usize, PathError> {
        let start = self.pos;
        let mut value: usize = 0;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(usize::from(b - b'0')))
                .ok_or_else(|| self.error("number too large"))?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("expected a number"));
        }
        if value == 0 {
            self.pos = start;
            return Err(self.error("positions start at 1"));
        }
        Ok(value)
    }

    fn bracketed(&mut self) -> Result<Option<usize>, PathError> {
        if !self.eat(b'[') {
            return Ok(None);
        }
        let n = self.number()?;
        self.require(b']', "expected ']'")?;
        Ok(Some(n))
    }
}

pub(crate) fn parse(path: &str) -> Result<PathSpec, PathError> {
    let mut c = Cursor { path, pos: 0 };
    let segment = match path.as_bytes().get(..3) {
        Some(id @ [a, b, d]) if super::is_segment_id(id) => [*a, *b, *d],
        _ => return Err(c.error("expected a 3-character segment id (e.g. PID)")),
    };
    c.pos = 3;
    let occurrence = c.bracketed()?.unwrap_or(1);
    c.require(b'-', "expected '-' and a field number")?;
    let field = c.number()?;
    let repetition = c.bracketed()?;
    let mut component = None;
    let mut subcomponent = None;
    if c.eat(b'.') {
        component = Some(c.number()?);
        if c.eat(b'.') {
            subcomponent = Some(c.number()?);
        }
    }
    if c.pos != path.len() {
        return Err(c.error("unexpected character"));
    }
    Ok(PathSpec { segment, occurrence, field, repetition, component, subcomponent })
}
