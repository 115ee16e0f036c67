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

/// How deep a value sits: at a field, a component or a subcomponent. A composite's children
/// are one level down, except below the subcomponent level, where ER7 has no level left and a
/// composite's first child takes its place (HL7's truncation rule, as [`Value`] applies it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level(u8);

impl Level {
    /// A field's repetition.
    pub const FIELD: Level = Level(0);
    const COMPONENT: Level = Level(1);
    const SUBCOMPONENT: Level = Level(2);
}

/// A builder value that writes itself into a [`Writer`]: text, a generated `…Value`, or a
/// [`Value`].
pub trait Write {
    /// Writes the value at the place the writer has reached, which is `level` deep.
    fn write_at(&self, w: &mut Writer, level: Level);
}

// Inlined into the generated builders, which then call `Writer::put` directly: most values
// are text.
impl Write for String {
    #[inline]
    fn write_at(&self, w: &mut Writer, _: Level) {
        w.put(self);
    }
}

impl Write for str {
    #[inline]
    fn write_at(&self, w: &mut Writer, _: Level) {
        w.put(self);
    }
}

impl Write for Value {
    fn write_at(&self, w: &mut Writer, level: Level) {
        match self {
            Value::Text(t) => w.put(t),
            Value::Composite(children) => {
                let mut c = w.children(level);
                for (n, child) in (1u32..).zip(children) {
                    if let Some(child) = child {
                        if let Some(level) = c.child(w, n) {
                            child.write_at(w, level);
                        }
                    }
                }
                c.close(w);
            }
        }
    }
}

/// The children of a composite as it writes them, or the repetitions of a field, in position
/// order (see [`Writer::children`] and [`Writer::repetitions`]).
#[derive(Debug)]
pub struct Children {
    /// The output's length when the composite started: the separators owed after it are the
    /// composite's own.
    mark: usize,
    /// The child reached last (1 before any).
    reached: u32,
    /// The children's separator; 0 below the subcomponent level, where they have none.
    separator: u8,
    level: Level,
}

impl Children {
    /// Moves to child `n` (1-based) and returns its level, or `None` when the child has no
    /// place (below the subcomponent level, every child but the first; 0).
    #[inline]
    pub fn child(&mut self, w: &mut Writer, n: u32) -> Option<Level> {
        if self.separator == 0 {
            return (n == 1).then_some(self.level);
        }
        let Some(ahead) = n.checked_sub(self.reached) else {
            if n != 0 {
                w.out_of_order_here();
            }
            return None;
        };
        w.owe(self.separator, ahead);
        self.reached = n;
        Some(self.level)
    }

    /// Ends the composite: the separators it owes after its last text are dropped (an empty
    /// child or trailing empty children write nothing).
    #[inline]
    pub fn close(self, w: &mut Writer) {
        w.out.truncate(self.mark.max(w.committed));
    }
}

/// Writes a message as ER7 straight from builder values, without building the owned model:
/// separators are written only when a non-empty value follows them, so trailing empty
/// elements never appear (the same bytes as [`encode`], which the tests check), and text is
/// escaped and converted to the character set as it is written.
///
/// The generated builders move through a segment in position order: [`Writer::field`] to a
/// field, [`Writer::repetitions`] through its repetitions, [`Writer::children`] through a
/// composite's children, [`Writer::put`] for a text at the place reached. The separators a
/// move owes are written at once, with no position compared, and cut off when the composite,
/// field or segment ends without a text after them. [`Writer::text`] instead writes a text at
/// a place given whole (an [`At`]), working out the separators from the place written last
/// (the ACK writes this way); a segment is written one way or the other, not both.
///
/// The first error is kept, with its HL7 position, and returned by [`Writer::finish`].
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
    special: &'static crate::escape::Special,
    /// The output's length after the last text written, or after the segment's id: the
    /// separators after it are owed, and cut off unless a text follows them.
    committed: usize,
    /// Where the current segment's fields start (after its id, and MSH-2): the places of
    /// errors are counted from there.
    body: usize,
    /// The field reached by [`Writer::field`] in the current segment.
    field: u32,
    /// The place [`Writer::text`] wrote last in the current segment, as [`At::place`].
    cursor: u128,
    error: Option<EncodeError>,
}

impl Writer {
    /// A writer for a message whose MSH-18 is `msh18` (ASCII when empty), with the standard
    /// delimiters `|^~\&`: every level has a separator.
    pub fn new(msh18: &str, capacity: usize) -> Result<Writer, BuildError> {
        // The label as the builders' users write it, known without the comparisons that ignore
        // case and spaces.
        let charset = if msh18 == "UNICODE UTF-8" { Charset::Utf8 } else { Charset::from_msh18(msh18.as_bytes())? };
        Ok(Writer::with_charset(charset, capacity))
    }

    /// A writer in `charset`, with the standard delimiters: for a message whose set is
    /// decided by its writer rather than read from a value (the ACK).
    pub(crate) fn with_charset(charset: Charset, capacity: usize) -> Writer {
        let delimiters = Delimiters::STANDARD;
        let special = if charset == Charset::Utf8 { &crate::escape::STANDARD_UTF8 } else { &crate::escape::STANDARD_NOT_UTF8 };
        let separators = [delimiters.field, delimiters.repetition, delimiters.component, delimiters.subcomponent.unwrap_or(0)];
        Writer {
            out: Vec::with_capacity(capacity),
            separators,
            subcomponents: delimiters.subcomponent.is_some(),
            delimiters,
            charset,
            segment: "",
            special,
            committed: 0,
            body: 0,
            field: 0,
            cursor: At::field(0, 1).place(),
            error: None,
        }
    }

    /// Starts a segment (ending the previous one). MSH gets its delimiters, MSH-1 and MSH-2.
    pub fn segment(&mut self, id: &'static str) {
        if !self.segment.is_empty() {
            self.out.truncate(self.committed);
            self.out.push(b'\r');
        }
        self.segment = id;
        if !crate::er7::is_segment_id(id.as_bytes()) {
            self.fail(EncodeError::InvalidSegmentId { id: id.to_owned() });
        }
        self.out.extend_from_slice(id.as_bytes());
        self.cursor = At::field(0, 1).place();
        self.field = 0;
        if id == "MSH" {
            // MSH-2 pushed byte by byte: `encoding_characters` would allocate it.
            let d = self.delimiters;
            self.out.extend_from_slice(&[d.field, d.component, d.repetition]);
            self.out.extend(d.escape);
            self.out.extend(d.subcomponent);
            self.cursor = At::field(2, 1).place();
            self.field = 2;
        }
        (self.committed, self.body) = (self.out.len(), self.out.len());
    }

    /// Moves to field `field` of the current segment (1-based, later than the field reached),
    /// where a value of [`Level::FIELD`] is then written; a repeating field goes on with
    /// [`Writer::repetitions`].
    // A call, not inlined: a generated segment's `write_er7` moves to each of its fields, and
    // inlined (about 190 bytes each, 25 KB for OBR) the moves spread a message's writing over
    // more code than the instruction cache holds: 304 misses per flow-3 response, 148 as a
    // call, for some 360 more instructions (BENCHMARKS.md, issue 21's tenth session).
    #[inline(never)]
    pub fn field(&mut self, field: u32) {
        match field.checked_sub(self.field) {
            Some(ahead @ 1..) => self.owe(self.separators[0], ahead),
            _ => return self.out_of_order_here(),
        }
        self.field = field;
    }

    /// The repetitions of the field reached, each a [`Level::FIELD`] value; see [`Children`].
    #[inline]
    pub fn repetitions(&self) -> Children {
        Children { mark: self.out.len(), reached: 1, separator: self.separators[1], level: Level::FIELD }
    }

    /// The children of a composite at the place reached, `level` deep; see [`Children`].
    #[inline]
    pub fn children(&self, level: Level) -> Children {
        let (separator, level) = match level {
            Level::FIELD => (self.separators[2], Level::COMPONENT),
            Level::COMPONENT => (self.separators[3], Level::SUBCOMPONENT),
            _ => (0, Level::SUBCOMPONENT),
        };
        Children { mark: self.out.len(), reached: 1, separator, level }
    }

    /// Writes `text` at the place reached, escaped and converted; nothing for an empty text.
    ///
    /// After an error the writing goes on (its bytes are dropped by [`Writer::finish`]), which
    /// spares every value a test.
    #[inline]
    pub fn put(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        // Most values need no escape and no conversion: copied whole.
        if !self.special.append_if_plain(text.as_bytes(), &mut self.out) {
            self.escaped_here(text);
        }
        self.committed = self.out.len();
    }

    /// The text of [`Writer::put`] that needs escapes or a conversion.
    #[inline(never)]
    fn escaped_here(&mut self, text: &str) {
        let (d, start) = (self.delimiters, self.out.len());
        if let Err(e) = crate::escape::encode_text_with(text, &d, self.charset, self.special, &mut self.out) {
            let path = self.path_before(start);
            self.fail(EncodeError::at(path, e));
        }
    }

    #[cold]
    #[inline(never)]
    fn out_of_order_here(&mut self) {
        let e = EncodeError::InvalidDelimiters { reason: "value written out of position order" };
        let path = self.path_before(self.out.len());
        self.fail(EncodeError::at(path, e));
    }

    /// The place of a text that would start at `end` in the output, as [`At`]'s path: the
    /// separators of the segment before it counted. Text is escaped, so every delimiter byte
    /// after MSH-2 is a separator.
    #[cold]
    fn path_before(&self, end: usize) -> String {
        let mut place = [if self.segment == "MSH" { 2 } else { 0 }, 1, 1, 1];
        let [field, rep, comp, sub] = self.separators;
        for &b in self.out.get(self.body..end).unwrap_or(&[]) {
            let level = match b {
                _ if b == field => 0,
                _ if b == rep => 1,
                _ if b == comp => 2,
                _ if b == sub && self.subcomponents => 3,
                _ => continue,
            };
            for (l, n) in place.iter_mut().enumerate().skip(level) {
                *n = if l == level { *n + 1 } else { 1 };
            }
        }
        let [f, r, c, s] = place;
        format!("{}-{f}[{r}].{c}.{s}", self.segment)
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
        self.committed = self.out.len();
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
        if let Err(e) = crate::escape::encode_text_with(text, &d, self.charset, self.special, &mut self.out) {
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
        self.owe(sep, n);
        true
    }

    /// `n` separators `sep`.
    #[inline(always)]
    fn owe(&mut self, sep: u8, n: u32) {
        // Usually one separator: a push, not the `memset` call `extend` makes; a few more (the
        // empty components before an XCN's or HD's last ones) as eight written at once and
        // the surplus cut off.
        match n {
            0 => {}
            1 => self.out.push(sep),
            2..=8 => {
                let end = self.out.len() + n as usize;
                self.out.extend_from_slice(&[sep; 8]);
                self.out.truncate(end);
            }
            _ => self.out.extend(std::iter::repeat_n(sep, n as usize)),
        }
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
            self.out.truncate(self.committed);
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

    /// A value tree of up to three levels below a field: texts that are empty, plain, need an
    /// escape or (outside UTF-8) cannot be written; absent and empty children.
    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = proptest::sample::select(vec!["", "", "a", "bc", "é", "Œ", "x|y^z", "\\.br\\", "0123456789abcdefghij"]).prop_map(Value::from);
        text.prop_recursive(3, 24, 5, |inner| proptest::collection::vec(proptest::option::of(inner), 0..5).prop_map(Value::Composite))
    }

    proptest::proptest! {
        /// The writer's moves (fields, repetitions, children) write the bytes the owned model
        /// encodes, and the same first error at the same place: trailing empty elements, HL7's
        /// truncation below the subcomponent level, escapes and characters MSH-18 cannot hold.
        #[test]
        fn writer_moves_encode_as_the_owned_model(
            msh in proptest::bool::ANY,
            latin1 in proptest::bool::ANY,
            fields in proptest::collection::btree_map(3u32..9, proptest::collection::vec(value(), 1..3), 0..5),
        ) {
            let id = if msh { "MSH" } else { "ZZZ" };
            let charset = if latin1 { Charset::Latin1 } else { Charset::Utf8 };
            let mut w = Writer::new(charset.label(), 64).unwrap();
            w.segment(id);
            let mut seg = SegmentBuf::new(id);
            for (&f, reps) in &fields {
                w.field(f);
                let mut r = w.repetitions();
                for (rep, v) in (1u32..).zip(reps) {
                    if let Some(level) = r.child(&mut w, rep) {
                        v.write_at(&mut w, level);
                    }
                    set(&mut seg, f as usize, rep as usize, v.clone());
                }
                r.close(&mut w);
            }
            let mut buf = MessageBuf::new(Delimiters::default(), charset);
            buf.segments = vec![seg];
            buf.normalize();
            let want = buf.encode().map_err(BuildError::from);
            let got = w.finish();
            proptest::prop_assert_eq!(got.as_ref().map(|b| String::from_utf8_lossy(b)), want.as_ref().map(|b| String::from_utf8_lossy(b)));
        }
    }
}
