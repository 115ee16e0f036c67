//! Support for the generated builders: owned values and writing them into the owned model.
//!
//! Generated value types (`CxValue`, `HdValue` …) turn into a [`Value`]; generated segment
//! builders write their fields with [`set`]; generated message builders finish with
//! [`encode`]. All the logic is here, once.

use crate::charset::{Charset, CharsetError};
use crate::er7::Delimiters;
use crate::error::EncodeError;
use crate::owned::{MessageBuf, SegmentBuf};

/// An owned value of some datatype: text, or components (each possibly absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Composite(Vec<Option<Value>>),
}

impl Value {
    /// The value as one text at the subcomponent level, where ER7 has no level left: the
    /// first component of a composite (HL7's truncation rule).
    fn leaf_text(&self) -> &str {
        match self {
            Value::Text(t) => t,
            Value::Composite(cs) => cs.first().and_then(|c| c.as_ref()).map_or("", Value::leaf_text),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

/// Writes `value` as repetition `rep` (1-based) of field `field` of `seg`.
pub fn set(seg: &mut SegmentBuf, field: usize, rep: usize, value: impl Into<Value>) {
    match &value.into() {
        Value::Text(t) => {
            seg.set_component(field, rep, 1, t);
        }
        Value::Composite(comps) => {
            for (i, c) in comps.iter().enumerate() {
                match c {
                    None => {}
                    Some(Value::Text(t)) => {
                        seg.set_component(field, rep, i + 1, t);
                    }
                    Some(Value::Composite(subs)) => {
                        for (j, s) in subs.iter().enumerate() {
                            if let Some(s) = s {
                                seg.set_subcomponent(field, rep, i + 1, j + 1, s.leaf_text());
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Why a built message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// MSH-18 names a character set this library does not write.
    #[error("MSH-18: {0}")]
    Charset(#[from] CharsetError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The owned message for segments in order, with the character set MSH-18 names (ASCII when
/// MSH-18 is empty, as HL7 says) and the standard delimiters `|^~\&`.
pub fn message(segments: Vec<SegmentBuf>) -> Result<MessageBuf, BuildError> {
    let msh18 = segments
        .first()
        .filter(|s| s.id == "MSH")
        .and_then(|s| s.get(18, 1, 1, 1))
        .unwrap_or("")
        .to_owned();
    let charset = Charset::from_msh18(msh18.as_bytes())?;
    let mut buf = MessageBuf::new(Delimiters::default(), charset);
    buf.segments = segments;
    buf.normalize();
    Ok(buf)
}

/// Encodes segments as ER7 (see [`message`]).
pub fn encode(segments: Vec<SegmentBuf>) -> Result<Vec<u8>, BuildError> {
    Ok(message(segments)?.encode()?)
}

// ------------------------------------------------------------------ straight to ER7

/// Where a value goes: a repetition of a field, and a component and subcomponent when the value
/// sits below the field. 1-based, as HL7 counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    field: u32,
    rep: u32,
    comp: Option<u32>,
    sub: Option<u32>,
}

impl At {
    /// Repetition `rep` of field `field`.
    pub const fn field(field: u32, rep: u32) -> At {
        At { field, rep, comp: None, sub: None }
    }

    /// The `n`th child of a composite written here: one level down, or, at the subcomponent
    /// level where ER7 has no level left, the place itself for the first child and nowhere for
    /// the others (HL7's truncation rule, as [`Value`] applies it).
    pub const fn child(self, n: u32) -> Option<At> {
        match (self.comp, self.sub) {
            (None, _) => Some(At { comp: Some(n), ..self }),
            (Some(_), None) => Some(At { sub: Some(n), ..self }),
            (Some(_), Some(_)) => {
                if n == 1 {
                    Some(self)
                } else {
                    None
                }
            }
        }
    }

    fn path(self, segment: &str) -> String {
        format!("{segment}-{}[{}].{}.{}", self.field, self.rep, self.comp.unwrap_or(1), self.sub.unwrap_or(1))
    }
}

/// A builder value that writes itself into a [`Writer`]: text, a generated `…Value`, or a
/// [`Value`].
pub trait Write {
    fn write_at(&self, w: &mut Writer, at: At);
}

impl Write for String {
    fn write_at(&self, w: &mut Writer, at: At) {
        w.text(at, self);
    }
}

impl Write for str {
    fn write_at(&self, w: &mut Writer, at: At) {
        w.text(at, self);
    }
}

impl Write for Value {
    fn write_at(&self, w: &mut Writer, at: At) {
        match self {
            Value::Text(t) => w.text(at, t),
            Value::Composite(children) => {
                for (n, child) in (1u32..).zip(children) {
                    if let (Some(child), Some(at)) = (child, at.child(n)) {
                        child.write_at(w, at);
                    }
                }
            }
        }
    }
}

/// Writes a message as ER7 straight from builder values, without building the owned model:
/// separators are written only when a non-empty value follows them, so trailing empty
/// elements never appear (the same bytes as [`encode`], which the tests check), and text is
/// escaped and converted to the character set as it is written.
///
/// Values must be written in position order within a segment, as generated builders do; the
/// first error is kept, with its HL7 position, and returned by [`Writer::finish`].
#[derive(Debug)]
pub struct Writer {
    out: Vec<u8>,
    delimiters: Delimiters,
    charset: Charset,
    segment: &'static str,
    special: crate::escape::Special,
    /// The position written last in the current segment: (field, rep, comp, sub).
    cursor: (u32, u32, u32, u32),
    error: Option<EncodeError>,
}

impl Writer {
    /// A writer for a message whose MSH-18 is `msh18` (ASCII when empty), with the standard
    /// delimiters `|^~\&`.
    pub fn new(msh18: &str, capacity: usize) -> Result<Writer, BuildError> {
        let charset = Charset::from_msh18(msh18.as_bytes())?;
        let delimiters = Delimiters::default();
        let special = crate::escape::Special::new(&delimiters, charset);
        Ok(Writer { out: Vec::with_capacity(capacity), delimiters, charset, segment: "", special, cursor: (0, 1, 1, 1), error: None })
    }

    /// Starts a segment (ending the previous one). MSH gets its delimiters, MSH-1 and MSH-2.
    pub fn segment(&mut self, id: &'static str) {
        if !self.segment.is_empty() {
            self.out.push(b'\r');
        }
        self.segment = id;
        if !crate::er7::is_segment_id(id.as_bytes()) {
            self.fail(EncodeError::InvalidSegmentId { id: id.to_owned() });
        }
        self.out.extend_from_slice(id.as_bytes());
        self.cursor = (0, 1, 1, 1);
        if id == "MSH" {
            self.out.push(self.delimiters.field);
            self.out.extend(self.delimiters.encoding_characters());
            self.cursor = (2, 1, 1, 1);
        }
    }

    /// Writes `text` at `at`, escaped and converted; nothing for an empty text.
    pub fn text(&mut self, at: At, text: &str) {
        if text.is_empty() || self.error.is_some() {
            return;
        }
        let d = self.delimiters;
        let target = (at.field, at.rep, at.comp.unwrap_or(1), at.sub.unwrap_or(1));
        if target <= self.cursor {
            let e = EncodeError::InvalidDelimiters { reason: "value written out of position order" };
            self.fail(EncodeError::at(at.path(self.segment), e));
            return;
        }
        // Move from the last position written to the target, one separator per step; a
        // separator is thus only ever written before a value.
        let (mut f, mut r, mut c, mut s) = self.cursor;
        let (tf, tr, tc, ts) = target;
        if tf > f {
            self.repeat(d.field, tf - f);
            (f, r, c, s) = (tf, 1, 1, 1);
        }
        if tr > r {
            self.repeat(d.repetition, tr - r);
            (r, c, s) = (tr, 1, 1);
        }
        if tc > c {
            self.repeat(d.component, tc - c);
            (c, s) = (tc, 1);
        }
        if ts > s {
            let Some(sep) = d.subcomponent else {
                self.fail(EncodeError::at(at.path(self.segment), EncodeError::NoSubcomponentSeparator));
                return;
            };
            self.repeat(sep, ts - s);
            s = ts;
        }
        self.cursor = (f, r, c, s);
        // Most values need no escape and no conversion: copied whole.
        if self.special.is_plain(text.as_bytes()) {
            self.out.extend_from_slice(text.as_bytes());
            return;
        }
        if let Err(e) = crate::escape::encode_text_with(text, &d, self.charset, &self.special, &mut self.out) {
            self.fail(EncodeError::at(at.path(self.segment), e));
        }
    }

    fn repeat(&mut self, byte: u8, n: u32) {
        // Usually one separator: a push, not the `memset` call `extend` makes.
        if n == 1 {
            self.out.push(byte);
        } else {
            self.out.extend(std::iter::repeat_n(byte, n as usize));
        }
    }

    #[cold]
    fn fail(&mut self, e: EncodeError) {
        self.error.get_or_insert(e);
    }

    /// The ER7 bytes, CR after every segment, or the first error.
    pub fn finish(mut self) -> Result<Vec<u8>, BuildError> {
        if let Some(e) = self.error {
            return Err(e.into());
        }
        if !self.segment.is_empty() {
            self.out.push(b'\r');
        }
        Ok(self.out)
    }
}
