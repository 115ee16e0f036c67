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
///
/// Held as one 128-bit key, a 32-bit lane per level (field, repetition, component,
/// subcomponent, from the high end), so that the writer compares and steps positions with a
/// few word operations. The levels the value does not reach are at 1, where a value above
/// them is written (the key is thus the place the writer compares), and the two top bits of
/// the field lane say how deep the value is (0: at the field, 1: a component, 2: a
/// subcomponent), which only [`At::child`] reads. Field numbers stay below 2³⁰.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    key: u128,
}

/// The depth bits of [`At`]'s key.
const DEPTH: u128 = 3 << 126;
/// One 32-bit lane, at the low end.
const LANE: u128 = 0xFFFF_FFFF;

impl At {
    /// Repetition `rep` of field `field`.
    pub const fn field(field: u32, rep: u32) -> At {
        At { key: ((field as u128) << 96 & !DEPTH) | (rep as u128) << 64 | 1 << 32 | 1 }
    }

    /// The `n`th child (1-based) of a composite written here: one level down, or, at the
    /// subcomponent level where ER7 has no level left, the place itself for the first child and
    /// nowhere for the others (HL7's truncation rule, as [`Value`] applies it). Nowhere for 0.
    pub const fn child(self, n: u32) -> Option<At> {
        if n == 0 {
            return None;
        }
        let key = self.key & !DEPTH;
        match self.key >> 126 {
            0 => Some(At { key: (key & !(LANE << 32)) | (n as u128) << 32 | 1 << 126 }),
            1 => Some(At { key: (key & !LANE) | n as u128 | 2 << 126 }),
            _ if n == 1 => Some(self),
            _ => None,
        }
    }

    /// Level `level`'s number (0 = field … 3 = subcomponent).
    const fn lane(self, level: u32) -> u32 {
        (self.place() >> (96 - 32 * level)) as u32
    }

    /// The place key: the lanes, without the depth.
    const fn place(self) -> u128 {
        self.key & !DEPTH
    }

    fn path(self, segment: &str) -> String {
        format!("{segment}-{}[{}].{}.{}", self.lane(0), self.lane(1), self.lane(2), self.lane(3))
    }
}

/// The place key of repetition 1, component 1, subcomponent 1 of field 0: the levels below a
/// field at their first place.
const FIRSTS: u128 = 1 << 64 | 1 << 32 | 1;

/// A builder value that writes itself into a [`Writer`]: text, a generated `…Value`, or a
/// [`Value`].
pub trait Write {
    fn write_at(&self, w: &mut Writer, at: At);
}

// Inlined into the generated builders, which then call `Writer::text` directly: most values
// are text, and the call in between cost as much as comparing their places.
impl Write for String {
    #[inline]
    fn write_at(&self, w: &mut Writer, at: At) {
        w.text(at, self);
    }
}

impl Write for str {
    #[inline]
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
    /// Field, repetition, component and subcomponent separators, as the levels of [`At`].
    separators: [u8; 4],
    /// Whether the delimiters have a subcomponent separator (its slot above is then unused).
    subcomponents: bool,
    delimiters: Delimiters,
    charset: Charset,
    segment: &'static str,
    special: crate::escape::Special,
    /// The place written last in the current segment, as [`At::place`].
    cursor: u128,
    error: Option<EncodeError>,
}

impl Writer {
    /// A writer for a message whose MSH-18 is `msh18` (ASCII when empty), with the standard
    /// delimiters `|^~\&`.
    pub fn new(msh18: &str, capacity: usize) -> Result<Writer, BuildError> {
        Ok(Writer::with_charset(Charset::from_msh18(msh18.as_bytes())?, capacity))
    }

    /// A writer in `charset`, with the standard delimiters: for a message whose set is
    /// decided by its writer rather than read from a value (the ACK).
    pub(crate) fn with_charset(charset: Charset, capacity: usize) -> Writer {
        let delimiters = Delimiters::default();
        let special = crate::escape::Special::new(&delimiters, charset);
        let separators = [delimiters.field, delimiters.repetition, delimiters.component, delimiters.subcomponent.unwrap_or(0)];
        Writer {
            out: Vec::with_capacity(capacity),
            separators,
            subcomponents: delimiters.subcomponent.is_some(),
            delimiters,
            charset,
            segment: "",
            special,
            cursor: At::field(0, 1).place(),
            error: None,
        }
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
        self.cursor = At::field(0, 1).place();
        if id == "MSH" {
            // MSH-2 pushed byte by byte: `encoding_characters` would allocate it.
            let d = self.delimiters;
            self.out.extend_from_slice(&[d.field, d.component, d.repetition]);
            self.out.extend(d.escape);
            self.out.extend(d.subcomponent);
            self.cursor = At::field(2, 1).place();
        }
    }

    /// Writes `text` at `at`, escaped and converted; nothing for an empty text.
    ///
    /// After an error the writing goes on (its bytes are dropped by [`Writer::finish`]), which
    /// spares every value a test.
    pub fn text(&mut self, at: At, text: &str) {
        if text.is_empty() {
            return;
        }
        let target = at.place();
        let cursor = self.cursor;
        if target <= cursor {
            self.out_of_order(at);
            return;
        }
        // From the last place written to the target: at the first level where they differ,
        // as many separators as the target is ahead; below it, as many as the target's number
        // less one. A separator is thus only ever written before a value.
        // The key in halves (field and repetition; component and subcomponent), so that the
        // shifts below are of one word.
        let halves = |key: u128| ((key >> 64) as u64, key as u64);
        let ((th, tl), (ch, cl)) = (halves(target), halves(cursor));
        let (high, t, c) = if th != ch { (true, th, ch) } else { (false, tl, cl) };
        // Whether the lower lane of the differing half is the one that differs.
        let lower = (t ^ c).leading_zeros() >= 32;
        let shift = if lower { 0 } else { 32 };
        let ahead = ((t >> shift) as u32).wrapping_sub((c >> shift) as u32);
        let level = usize::from(!high) * 2 + usize::from(lower);
        // Usually the target is the first place below its level (the next field, the next
        // component …): then its separators are all of that one level.
        let first_below = match (high, lower) {
            (true, false) => th as u32 == 1 && tl == FIRSTS as u64,
            (true, true) => tl == FIRSTS as u64,
            (false, false) => tl as u32 == 1,
            (false, true) => true,
        };
        let ok = if first_below { self.separators(level, ahead) } else { self.separators_down(level, ahead, target) };
        if !ok {
            self.no_subcomponents(at);
            return;
        }
        self.cursor = target;
        // Most values need no escape and no conversion: copied whole.
        if !self.special.append_if_plain(text.as_bytes(), &mut self.out) {
            self.escaped(at, text);
        }
    }

    /// The separators of [`Writer::text`] when the target is below the first place of its
    /// level: `ahead` of `level`, then, at each level below, the target's number less one.
    #[inline(never)]
    fn separators_down(&mut self, level: usize, ahead: u32, target: u128) -> bool {
        let lanes = [(target >> 96) as u32, (target >> 64) as u32, (target >> 32) as u32, target as u32];
        let mut ok = self.separators(level, ahead);
        for (below, &n) in lanes.iter().enumerate().skip(level + 1) {
            ok = ok && self.separators(below, n.saturating_sub(1));
        }
        ok
    }

    /// The text of [`Writer::text`] that needs escapes or a conversion.
    #[inline(never)]
    fn escaped(&mut self, at: At, text: &str) {
        let d = self.delimiters;
        if let Err(e) = crate::escape::encode_text_with(text, &d, self.charset, &self.special, &mut self.out) {
            self.fail(EncodeError::at(at.path(self.segment), e));
        }
    }

    #[cold]
    #[inline(never)]
    fn out_of_order(&mut self, at: At) {
        let e = EncodeError::InvalidDelimiters { reason: "value written out of position order" };
        self.fail(EncodeError::at(at.path(self.segment), e));
    }

    #[cold]
    #[inline(never)]
    fn no_subcomponents(&mut self, at: At) {
        self.fail(EncodeError::at(at.path(self.segment), EncodeError::NoSubcomponentSeparator));
    }

    /// `n` separators of `level` (0 = field … 3 = subcomponent); false when that level has
    /// none.
    #[inline(always)]
    fn separators(&mut self, level: usize, n: u32) -> bool {
        if n == 0 {
            return true;
        }
        if level == 3 && !self.subcomponents {
            return false;
        }
        let sep = self.separators.get(level).copied().unwrap_or(0);
        // Usually one separator: a push, not the `memset` call `extend` makes; a few more (the
        // empty components before an XCN's or HD's last ones) as eight written at once and
        // the surplus cut off.
        if n == 1 {
            self.out.push(sep);
        } else if n <= 8 {
            let end = self.out.len() + n as usize;
            self.out.extend_from_slice(&[sep; 8]);
            self.out.truncate(end);
        } else {
            self.out.extend(std::iter::repeat_n(sep, n as usize));
        }
        true
    }

    #[cold]
    fn fail(&mut self, e: EncodeError) {
        self.error.get_or_insert(e);
    }

    /// The ER7 bytes, CR after every segment, or the first error.
    pub fn finish(self) -> Result<Vec<u8>, BuildError> {
        Ok(self.finish_encoded()?)
    }

    /// [`Writer::finish`] for a writer whose character set was given, not read: its only
    /// error is one of encoding.
    pub(crate) fn finish_encoded(mut self) -> Result<Vec<u8>, EncodeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.segment.is_empty() {
            self.out.push(b'\r');
        }
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run of separators the writer can owe before a value, at each level, against the
    /// bytes spelled out: one separator, a few (written eight at once, the surplus cut off)
    /// and more than eight.
    #[test]
    fn separators_before_a_value_at_every_level_and_count() {
        let at = |f: u32, r: u32, c: u32, s: u32| At::field(f, r).child(c).and_then(|a| a.child(s)).unwrap();
        for f in 2..=12u32 {
            for r in 1..=11u32 {
                for c in 1..=11u32 {
                    for s in [1, 2, 9, 11] {
                        let mut w = Writer::new("", 64).unwrap();
                        w.segment("ZZZ");
                        w.text(At::field(1, 1), "a");
                        w.text(at(f, r, c, s), "x");
                        let sep = |b: &str, n: u32| b.repeat(n as usize);
                        let want = format!("ZZZ|a{}{}{}{}x\r", sep("|", f - 1), sep("~", r - 1), sep("^", c - 1), sep("&", s - 1));
                        assert_eq!(String::from_utf8(w.finish().unwrap()).unwrap(), want, "{f} {r} {c} {s}");
                    }
                }
            }
        }
    }

    /// Within a field: the next component, the next subcomponent, a later repetition.
    #[test]
    fn separators_after_a_value_in_the_same_field() {
        let mut w = Writer::new("", 64).unwrap();
        w.segment("ZZZ");
        let c = |n: u32| At::field(2, 1).child(n).unwrap();
        w.text(c(1), "a");
        w.text(c(4), "b");
        w.text(c(5).child(3).unwrap(), "c");
        w.text(c(5).child(12).unwrap(), "d");
        w.text(At::field(2, 10).child(2).unwrap(), "e");
        w.text(At::field(3, 1), "f");
        assert_eq!(w.finish().unwrap(), b"ZZZ||a^^^b^&&c&&&&&&&&&d~~~~~~~~~^e|f\r");
    }
}
