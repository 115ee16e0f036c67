//! ER7 ("pipe and hat") parsing over borrowed bytes.
//!
//! # Design
//!
//! [`Message::parse`] makes one pass over the input: a vector scan finds segment terminators
//! and field separators together (`scan.rs`), and the positions of the field separators of
//! all segments go into one flat `Vec<u32>` (each segment remembers its range in it). Field
//! access is
//! therefore O(1), while repetitions, components and subcomponents are found on access
//! by scanning the field, which is short; nothing is copied or allocated per field.
//! In the same pass the parser checks what must hold for decoding to be infallible later
//! (control characters, character-set validity, escape sequences), so strict-mode errors
//! come out of `parse` with their full location and `text()` never fails.
//!
//! Views ([`Segment`], [`Field`], [`Repetition`], [`Component`], [`Subcomponent`]) are
//! `Copy` and borrow only the input, not the [`Message`], so they (and their text) live as
//! long as the input bytes. A [`Segment`] view carries a copy of its first field-separator
//! offsets taken from the index, which keeps `field(n)` O(1) for ordinary segments. Text
//! borrows the input whenever no unescaping or character conversion is needed.
//!
//! # Paths
//!
//! [`Message::get`] reads a value by HL7 path over the flat message (no group structure): a
//! path of [`crate::path::syntax`] without groups, with a field:
//!
//! ```ebnf
//! path = segid , [ "[" , int , "]" ] , "-" , int , [ "[" , int , "]" ] , [ "." , int , [ "." , int ] ] ;
//! ```
//!
//! Examples: `PID-3[1].4.2`, `OBX[3]-5`, `MSH-9.1`. Without a repetition or component the
//! whole field is returned (all repetitions, separators included, escapes decoded).

mod scan;
mod views;

pub use views::{Component, Components, Field, Repetition, Segment, Subcomponent, Subcomponents};
pub(crate) use views::Ctx;

use std::borrow::Cow;

use memchr::{memchr, memchr_iter};

use crate::charset::Charset;
use crate::error::{Location, ParseError, ParseErrorKind, PathError};
use crate::escape;
use crate::limits::Limits;
use views::{Loc, Parts};

/// The delimiters declared by MSH-1 and MSH-2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Delimiters {
    /// MSH-1, usually `|`.
    pub field: u8,
    /// Usually `^`.
    pub component: u8,
    /// Usually `~`.
    pub repetition: u8,
    /// Usually `\`; `None` means the message cannot contain escape sequences.
    pub escape: Option<u8>,
    /// Usually `&`; `None` means components have no subcomponents.
    pub subcomponent: Option<u8>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters::STANDARD
    }
}

impl Delimiters {
    /// `|^~\&`, used by virtually every HL7 v2 sender.
    pub const STANDARD: Delimiters = Delimiters {
        field: b'|',
        component: b'^',
        repetition: b'~',
        escape: Some(b'\\'),
        subcomponent: Some(b'&'),
    };

    /// Checks that these delimiters can round-trip through any supported character set:
    /// printable ASCII, not alphanumeric (they would clash with data), all distinct, and a
    /// subcomponent separator only with an escape character (MSH-2 is positional).
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.subcomponent.is_some() && self.escape.is_none() {
            return Err("a subcomponent separator requires an escape character (MSH-2 is positional)");
        }
        // MSH-2's order; a subcomponent separator comes only after an escape (checked above).
        let encoding = [self.component, self.repetition, self.escape.unwrap_or(0), self.subcomponent.unwrap_or(0)];
        let written = 2 + usize::from(self.escape.is_some()) + usize::from(self.subcomponent.is_some());
        check_delimiter_bytes(self.field, encoding.get(..written).unwrap_or(&encoding))
    }

    /// MSH-2 as written: component, repetition, escape, subcomponent.
    pub fn encoding_characters(&self) -> Vec<u8> {
        let mut out = vec![self.component, self.repetition];
        out.extend(self.escape);
        out.extend(self.subcomponent);
        out
    }

    /// True for the bytes that split elements (not the escape character).
    #[inline]
    pub(crate) fn is_separator(&self, b: u8) -> bool {
        b == self.field
            || b == self.component
            || b == self.repetition
            || Some(b) == self.subcomponent
    }
}

/// Checks the field separator and the encoding characters after it (MSH-2's, as written),
/// taken as they are: this runs on every parse, where gathering them in a vector was an
/// allocation, a reallocation and a free each time.
fn check_delimiter_bytes(field: u8, encoding: &[u8]) -> Result<(), &'static str> {
    for (i, &b) in std::iter::once(&field).chain(encoding).enumerate() {
        if !b.is_ascii_graphic() {
            return Err("delimiters must be printable ASCII characters");
        }
        if b.is_ascii_alphanumeric() {
            return Err("delimiters must not be letters or digits");
        }
        // The bytes before this one: the field separator, then the encoding characters.
        let before = i.checked_sub(1).map(|n| encoding.get(..n).unwrap_or(encoding));
        if before.is_some_and(|enc| b == field || enc.contains(&b)) {
            return Err("delimiters must be distinct");
        }
    }
    Ok(())
}

/// Tolerances for real-world input, and the resource bounds. The default is strict, since
/// strictness is what lets a receiver reject a broken message instead of misreading it, and
/// bounded by [`Limits::DEFAULT`], since a receiver reads untrusted input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ParseOptions {
    /// Accept LF and CRLF as segment terminators and skip empty lines.
    pub lenient_terminators: bool,
    /// Read an unknown MSH-18 as Latin-1 and skip the character-set validity check
    /// (invalid bytes are then decoded lossily).
    pub lenient_charset: bool,
    /// Keep malformed escape sequences raw instead of failing.
    pub lenient_escapes: bool,
    /// Read a message labelled 8859/1 or 8859/15 that holds bytes 0x80–0x9F (C1 control codes
    /// in ISO 8859) as Windows-1252, the set such files are almost always in: the message's
    /// [`Message::charset`] is then [`Charset::Windows1252`], which callers must report (the
    /// `telerad` checks add a warning). Off by default and in [`ParseOptions::lenient`]: it must
    /// be asked for; without it such a message does not parse, in lenient mode too, since
    /// reading `Œ` as a control code alters a name silently.
    pub windows_1252_fallback: bool,
    /// Message size, segment count and repetitions per field the parser accepts (a larger
    /// input is a located [`ParseErrorKind::TooLarge`], [`ParseErrorKind::TooManySegments`] or
    /// [`ParseErrorKind::TooManyRepetitions`]); validation takes its step bound from here too.
    pub limits: Limits,
}

impl ParseOptions {
    /// Every tolerance on, default limits.
    pub const fn lenient() -> Self {
        ParseOptions { lenient_terminators: true, lenient_charset: true, lenient_escapes: true, windows_1252_fallback: false, limits: Limits::DEFAULT }
    }

    /// The same tolerances with other limits.
    pub const fn with_limits(self, limits: Limits) -> Self {
        ParseOptions { limits, ..self }
    }
}

/// One segment in the index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SegEntry {
    pub start: u32,
    pub end: u32,
    pub sep_start: u32,
    pub sep_end: u32,
    pub id: [u8; 3],
    /// The segment holds a repetition separator (MSH always does, in MSH-2). Without one,
    /// every field of it is a single repetition, found without a search.
    pub repeats: bool,
}

/// A parsed message borrowing its input.
#[derive(Clone, Debug)]
pub struct Message<'a> {
    bytes: &'a [u8],
    delimiters: Delimiters,
    charset: Charset,
    segs: Vec<SegEntry>,
    seps: Vec<u32>,
    /// The input as text when it is a UTF-8 message and valid UTF-8 (checked once, whole, by
    /// the parse): reading a value then takes its slice, with no second validation.
    text: Option<&'a str>,
}

impl<'a> Message<'a> {
    /// Parses in strict mode.
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, ParseError> {
        Self::parse_with(bytes, &ParseOptions::default())
    }

    /// Parses with the given tolerances.
    pub fn parse_with(bytes: &'a [u8], options: &ParseOptions) -> Result<Message<'a>, ParseError> {
        if bytes.is_empty() {
            return Err(ParseError::new(ParseErrorKind::Empty, Location::segment(0, None, 0)));
        }
        // The index stores 32-bit offsets, whatever the configured limit.
        if u32::try_from(bytes.len()).is_err() {
            let limit = u32::MAX as usize;
            return Err(ParseError::new(
                ParseErrorKind::TooLarge { len: bytes.len(), limit },
                Location::segment(0, None, limit),
            ));
        }
        let delimiters = read_header(bytes)?;
        let mut parser = Parser {
            msg: Message {
                bytes,
                delimiters,
                charset: Charset::Ascii,
                segs: Vec::with_capacity(16),
                seps: Vec::with_capacity(bytes.len() / 8 + 8),
                text: None,
            },
            options: *options,
            labelled_iso_8859: false,
        };
        parser.run()?;
        Ok(parser.msg)
    }

    /// The input, unchanged.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Delimiters read from MSH-1/MSH-2.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Character set read from MSH-18.
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// Number of segments (skipped empty lines excluded).
    pub fn segment_count(&self) -> usize {
        self.segs.len()
    }

    /// The segment at a 0-based index.
    pub fn segment(&self, index: usize) -> Option<Segment<'a>> {
        let entry = *self.segs.get(index)?;
        Some(self.view(index, entry))
    }

    /// All segments in order.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'a>> + '_ {
        self.segs.iter().enumerate().map(move |(i, e)| self.view(i, *e))
    }

    /// The id of the segment at a 0-based index, without building its view.
    pub fn segment_id(&self, index: usize) -> Option<&str> {
        self.segs.get(index).map(|e| self.id_text(e))
    }

    /// A segment's id as text: a slice of the message's validated text when there is one (the
    /// id is the segment's first three bytes), else converted (ids are checked ASCII by the
    /// parse, so this never fails).
    fn id_text<'m>(&'m self, e: &'m SegEntry) -> &'m str {
        let start = e.start as usize;
        self.text.and_then(|t| t.get(start..start + 3)).or_else(|| std::str::from_utf8(&e.id).ok()).unwrap_or("")
    }

    /// Whether the segment at a 0-based index has this id, without building its view.
    pub fn segment_is(&self, index: usize, id: &str) -> bool {
        self.segs.get(index).is_some_and(|e| matches!(id.as_bytes(), [a, b, c] if e.id == [*a, *b, *c]))
    }

    /// Component `c` (1-based) of the first repetition of field `n` of the segment at `index`,
    /// decoded, read from the message's index without building views: the profile choice
    /// reads MSH-9 and ORC-1 of every message a typed parse receives, and two segment views
    /// (each copying its separator offsets) cost more than the rest of the choice. `None`
    /// when the segment, field or component is absent, and for MSH-1 and MSH-2.
    pub(crate) fn first_component_text(&self, index: usize, n: usize, c: usize) -> Option<Cow<'a, str>> {
        let d = self.delimiters;
        let first = nth(self.field_raw(index, n)?, Some(d.repetition), 1)?;
        let component = nth(first, Some(d.component), c)?;
        // What the views read a value with: a slice of the validated text when it holds no
        // escape (codes do not), without the decoder.
        Some(self.ctx().text(component))
    }

    /// The whole of field `n` of the segment at `index`, decoded (separators kept), as
    /// [`Message::first_component_text`] reads a component.
    pub(crate) fn field_text(&self, index: usize, n: usize) -> Option<Cow<'a, str>> {
        Some(self.ctx().text(self.field_raw(index, n)?))
    }

    /// The raw bytes of field `n` of the segment at `index`; `None` for MSH-1 and MSH-2.
    fn field_raw(&self, index: usize, n: usize) -> Option<&'a [u8]> {
        let (start, end, opaque) = field_bounds(self, self.segs.get(index)?, n)?;
        if opaque {
            return None;
        }
        self.bytes.get(start..end)
    }

    /// The index of the first segment with this id.
    pub(crate) fn first_segment_with(&self, id: [u8; 3]) -> Option<usize> {
        self.segs.iter().position(|e| e.id == id)
    }

    /// The segment ids in order, without building segment views (what structure placement
    /// needs, on the hot path of every typed parse).
    pub fn segment_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.segs.iter().map(|e| self.id_text(e))
    }

    /// Segments with a given id, in order.
    pub fn segments_by_id<'m>(&'m self, id: &'m str) -> impl Iterator<Item = Segment<'a>> + 'm {
        self.segs
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.id.as_slice() == id.as_bytes())
            .map(move |(i, e)| self.view(i, *e))
    }

    /// Re-encodes the message. A parsed message is immutable, so this is its input byte
    /// for byte — terminators, skipped empty lines and a missing final CR included.
    pub fn encode(&self) -> Vec<u8> {
        self.bytes.to_vec()
    }

    /// Appends the encoded message to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.bytes);
    }

    /// Reads a value by path (grammar in the module docs). `Ok(None)` when the segment
    /// occurrence or field does not exist, or a repetition/component/subcomponent lies
    /// past the last separator of its container.
    pub fn get(&self, path: &str) -> Result<Option<Cow<'a, str>>, PathError> {
        let p = flat_path(path)?;
        let Some((index, entry)) = self
            .segs
            .iter()
            .enumerate()
            .filter(|(_, e)| e.id == p.segment)
            .nth(p.occurrence - 1)
        else {
            return Ok(None);
        };
        let seg = self.view(index, *entry);
        if p.field > seg.field_count() {
            return Ok(None);
        }
        let Some((start, end, opaque)) = field_bounds(self, entry, p.field) else {
            return Ok(None);
        };
        let Some(raw) = self.bytes.get(start..end) else {
            return Ok(None);
        };
        let ctx = Ctx { delimiters: self.delimiters, charset: self.charset, opaque, whole: self.text, repeats: entry.repeats };
        if p.repetition.is_none() && p.component.is_none() {
            return Ok(Some(ctx.text(raw)));
        }
        let Some(rep) = nth(raw, ctx.rep_sep(), p.repetition.unwrap_or(1)) else {
            return Ok(None);
        };
        let Some(comp_n) = p.component else {
            return Ok(Some(ctx.text(rep)));
        };
        let Some(comp) = nth(rep, ctx.comp_sep(), comp_n) else {
            return Ok(None);
        };
        let Some(sub_n) = p.subcomponent else {
            return Ok(Some(ctx.text(comp)));
        };
        Ok(nth(comp, ctx.sub_sep(), sub_n).map(|sub| ctx.text(sub)))
    }

    /// How the message's views split and decode (not opaque).
    pub(crate) fn ctx(&self) -> Ctx<'a> {
        Ctx { delimiters: self.delimiters, charset: self.charset, opaque: false, whole: self.text, repeats: true }
    }

    /// The bytes of each field of segment `index`, field 1 first, and whether the field is
    /// opaque (MSH-1, MSH-2): what [`Segment::fields`] gives, read straight off the separators
    /// the parse indexed, without a view per field.
    pub(crate) fn field_slices(&self, index: usize) -> impl Iterator<Item = (&'a [u8], bool)> + '_ {
        let e = self.segs.get(index).copied();
        let seps = e.and_then(|e| self.seps.get(e.sep_start as usize..e.sep_end as usize)).unwrap_or(&[]);
        let (start, end) = e.map_or((0, 0), |e| (e.start as usize, e.end as usize));
        let msh = e.is_some_and(|e| e.id == *b"MSH");
        let bytes = self.bytes;
        // MSH-1 is the field separator itself, the byte after the id.
        let msh1 = msh.then(|| (bytes.get(start + 3..start + 4).unwrap_or(&[]), true));
        let rest = seps.iter().enumerate().map(move |(k, &sep)| {
            let from = sep as usize + 1;
            let to = seps.get(k + 1).map_or(end, |&s| s as usize).max(from);
            (bytes.get(from..to).unwrap_or(&[]), msh && k == 0)
        });
        msh1.into_iter().chain(rest)
    }

    fn view(&self, index: usize, e: SegEntry) -> Segment<'a> {
        let bytes = self.bytes;
        let raw = bytes.get(e.start as usize..e.end as usize).unwrap_or(&[]);
        let own_end = self.segs.get(index + 1).map_or(bytes.len(), |next| next.start as usize);
        let own = bytes.get(e.start as usize..own_end).unwrap_or(raw);
        Segment::new(
            raw,
            own,
            e.start,
            index,
            e.id,
            self.seps.get(e.sep_start as usize..e.sep_end as usize).unwrap_or(&[]),
            Ctx { delimiters: self.delimiters, charset: self.charset, opaque: false, whole: self.text, repeats: e.repeats },
        )
    }
}

/// The `n`th (1-based) part of `raw` split on `sep`; an empty `raw` has one empty part.
fn nth(raw: &[u8], sep: Option<u8>, n: usize) -> Option<&[u8]> {
    Parts::new(raw, sep).nth(n.checked_sub(1)?).map(|(_, part)| part)
}

/// Absolute bounds of field `n` of a segment, and whether it is opaque (MSH-1, MSH-2:
/// they hold the delimiters themselves and must never be split or unescaped).
pub(crate) fn field_bounds(msg: &Message<'_>, e: &SegEntry, n: usize) -> Option<(usize, usize, bool)> {
    let seps = msg.seps.get(e.sep_start as usize..e.sep_end as usize)?;
    bounds_in(seps, e.start as usize, e.end as usize, e.id == *b"MSH", n)
}

pub(crate) fn bounds_in(
    seps: &[u32],
    seg_start: usize,
    seg_end: usize,
    is_msh: bool,
    n: usize,
) -> Option<(usize, usize, bool)> {
    if n == 0 {
        return None;
    }
    if is_msh && n == 1 {
        let s = seg_start + 3;
        return (s < seg_end).then_some((s, s + 1, true));
    }
    let sep_index = if is_msh { n - 2 } else { n - 1 };
    let start = *seps.get(sep_index)? as usize + 1;
    let end = seps.get(sep_index + 1).map_or(seg_end, |&s| s as usize);
    Some((start, end.max(start), is_msh && n == 2))
}

/// Validates MSH-1/MSH-2 before anything else: every later step depends on them.
fn read_header(bytes: &[u8]) -> Result<Delimiters, ParseError> {
    let msh_loc = |byte| Location::segment(0, Some(*b"MSH"), byte);
    if bytes.get(..3) != Some(b"MSH".as_slice()) {
        let id_len = bytes.iter().position(|b| !b.is_ascii_alphanumeric()).unwrap_or(bytes.len());
        let head = bytes.get(..3).unwrap_or(bytes);
        let next_ok = bytes.get(3).is_none_or(|b| b.is_ascii_punctuation() || *b == b'\r' || *b == b'\n');
        if let (3, [a, b, c], true) = (id_len, head, next_ok) {
            if is_segment_id(head) {
                return Err(ParseError::new(
                    ParseErrorKind::MissingMsh { found: String::from_utf8_lossy(head).into_owned() },
                    Location::segment(0, Some([*a, *b, *c]), 0),
                ));
            }
        }
        return Err(ParseError::new(ParseErrorKind::NotHl7, Location::segment(0, None, 0)));
    }
    let truncated = || ParseError::new(ParseErrorKind::TruncatedHeader, msh_loc(0));
    let field = match bytes.get(3) {
        None | Some(b'\r') | Some(b'\n') => return Err(truncated()),
        Some(&b) => b,
    };
    let rest = bytes.get(4..).unwrap_or(&[]);
    let enc_len = rest.iter().position(|&b| b == field || b == b'\r' || b == b'\n');
    let enc = rest.get(..enc_len.unwrap_or(rest.len())).unwrap_or(&[]);
    if enc.len() < 3 && enc_len.is_none() {
        return Err(truncated());
    }
    let invalid = |reason, field_no: u32, byte| {
        let mut loc = msh_loc(byte);
        loc.field = Some(field_no);
        ParseError::new(ParseErrorKind::InvalidDelimiters { reason }, loc)
    };
    if let Err(reason) = check_delimiter_bytes(field, &[]) {
        return Err(invalid(reason, 1, 3));
    }
    if !(3..=5).contains(&enc.len()) {
        return Err(invalid("MSH-2 must hold 3 to 5 encoding characters", 2, 4));
    }
    if let Err(reason) = check_delimiter_bytes(field, enc) {
        return Err(invalid(reason, 2, 4));
    }
    let at = |i: usize| enc.get(i).copied();
    match (at(0), at(1)) {
        (Some(component), Some(repetition)) => Ok(Delimiters {
            field,
            component,
            repetition,
            escape: at(2),
            subcomponent: at(3),
        }),
        _ => Err(truncated()),
    }
}

/// A path of [`Message::get`]: a segment occurrence and an element, positions 1-based.
struct FlatPath<'p> {
    segment: &'p [u8],
    occurrence: usize,
    field: usize,
    repetition: Option<usize>,
    component: Option<usize>,
    subcomponent: Option<usize>,
}

/// Reads `path` with the one grammar, taking no groups (the message is flat here) and requiring
/// a field.
fn flat_path(path: &str) -> Result<FlatPath<'_>, PathError> {
    let p = crate::path::syntax::parse(path)?;
    let error = |position: usize, reason: &'static str| PathError::Syntax { path: path.to_owned(), position, reason };
    if !p.groups.is_empty() {
        return Err(error(0, "a message read flat has no groups: `SEG[occ]-field…`"));
    }
    let Some(e) = p.element else { return Err(error(path.len(), "expected '-' and a field number")) };
    Ok(FlatPath {
        segment: p.segment.name.as_bytes(),
        occurrence: p.segment.occurrence.unwrap_or(1),
        field: e.field,
        repetition: e.repetition,
        component: e.component,
        subcomponent: e.subcomponent,
    })
}

/// 3 characters, uppercase letters or digits, the first a letter (ZDS, NK1, IN1…).
pub(crate) fn is_segment_id(id: &[u8]) -> bool {
    match id {
        [a, b, c] => {
            a.is_ascii_uppercase()
                && [b, c].iter().all(|x| x.is_ascii_uppercase() || x.is_ascii_digit())
        }
        _ => false,
    }
}

struct Parser<'a> {
    msg: Message<'a>,
    options: ParseOptions,
    /// MSH-18 says 8859/1 or 8859/15 (not a lenient reading of an unknown label), and no C1
    /// byte has been read as Windows-1252 yet.
    labelled_iso_8859: bool,
}

impl<'a> Parser<'a> {
    fn run(&mut self) -> Result<(), ParseError> {
        let bytes = self.msg.bytes;
        let len = bytes.len();
        let d = self.msg.delimiters;
        let limit = self.options.limits.max_message_bytes;
        let mut start = 0usize;
        let mut escapes = scan::Escapes::new();
        while start < len {
            // One pass finds the segment's end, its field separators (indexed as it goes) and
            // what the checks of `segment` need (`scan.rs`). It reads no further than the
            // size limit: a segment running past it is an error, and its separators are not
            // indexed (an oversized input must not grow the index beyond the limit's worth).
            let window = bytes.get(start..).unwrap_or(&[]);
            let window = window.get(..limit.saturating_add(1).saturating_sub(start)).unwrap_or(window);
            let sep_start = self.msg.seps.len();
            let (scan, terminator) = scan::segment(window, start as u32, &d, &mut self.msg.seps, &mut escapes);
            let (end, term_len) = match terminator {
                // Past the window, the segment ends beyond the limit (or at the input's end).
                None if start + window.len() < len => (start + window.len(), 0),
                None => (len, 0),
                Some(off) => {
                    let e = start + off;
                    let lf_at = if bytes.get(e) == Some(&b'\n') {
                        Some(e)
                    } else if bytes.get(e + 1) == Some(&b'\n') {
                        Some(e + 1)
                    } else {
                        None
                    };
                    match lf_at {
                        Some(at) if !self.options.lenient_terminators => {
                            return Err(self.segment_error(
                                ParseErrorKind::UnexpectedLineFeed,
                                bytes.get(start..e).unwrap_or(&[]),
                                at,
                            ));
                        }
                        Some(at) => (e, at + 1 - e),
                        None => (e, 1),
                    }
                }
            };
            if end > limit {
                // Located in the segment that crosses the limit, at the first byte past it;
                // nothing after it has been read.
                let kind = ParseErrorKind::TooLarge { len, limit };
                let byte = limit.max(start);
                // The id is read from the segment's first bytes, which a terminator (never
                // part of an id) ends: its end need not be found.
                return Err(self.segment_error(kind, bytes.get(start..).unwrap_or(&[]), byte));
            }
            if end == start {
                if !self.options.lenient_terminators {
                    return Err(ParseError::new(
                        ParseErrorKind::EmptySegment,
                        Location::segment(self.msg.segs.len(), None, start),
                    ));
                }
            } else {
                self.segment(start, end, sep_start, scan, &escapes)?;
            }
            start = end + term_len;
        }
        Ok(())
    }

    #[cold]
    fn segment_error(&self, kind: ParseErrorKind, raw: &[u8], byte: usize) -> ParseError {
        let id = match raw.get(..3) {
            Some(id @ [a, b, c]) if is_segment_id(id) => Some([*a, *b, *c]),
            _ => None,
        };
        ParseError::new(kind, Location::segment(self.msg.segs.len(), id, byte))
    }

    /// The checks of the segment `start..end`, which `scan` (from `run`) covered and whose
    /// field separators are the index's from `sep_start` on and whose escape characters are
    /// `escapes`.
    fn segment(&mut self, start: usize, end: usize, sep_start: usize, scan: scan::Scan, escapes: &scan::Escapes) -> Result<(), ParseError> {
        let bytes = self.msg.bytes;
        let raw = bytes.get(start..end).unwrap_or(&[]);
        // The passes below (terminator, field separators, repetitions, controls, character
        // set, escapes) each cover the segment once.
        crate::work::scanned(6 * (raw.len() + 1));
        let index = self.msg.segs.len();
        let id_len = self.msg.seps.get(sep_start).map_or(raw.len(), |&s| s as usize - start);
        let id = match raw.get(..id_len) {
            Some(id @ [a, b, c]) if is_segment_id(id) => [*a, *b, *c],
            _ => {
                let shown = raw.get(..id_len.min(16)).unwrap_or(&[]);
                return Err(ParseError::new(
                    ParseErrorKind::InvalidSegmentId { id: String::from_utf8_lossy(shown).into_owned() },
                    Location::segment(index, None, start),
                ));
            }
        };
        let is_msh = id == *b"MSH";
        if is_msh && index > 0 {
            return Err(ParseError::new(ParseErrorKind::DuplicateMsh, Location::segment(index, Some(id), start)));
        }
        if index >= self.options.limits.max_segments {
            let kind = ParseErrorKind::TooManySegments { limit: self.options.limits.max_segments };
            return Err(ParseError::new(kind, Location::segment(index, Some(id), start)));
        }
        let entry = SegEntry {
            start: start as u32,
            end: end as u32,
            sep_start: sep_start as u32,
            sep_end: self.msg.seps.len() as u32,
            id,
            // MSH's count includes MSH-2, which holds the repetition separator itself.
            repeats: scan.repetitions > 0,
        };
        self.msg.segs.push(entry);
        self.check_repetitions(&entry, index, scan.repetitions)?;
        if index == 0 {
            self.read_charset(&entry)?;
            // A UTF-8 message is validated once, whole (sixteen or thirty-two bytes at a time,
            // `simdutf8`), rather than segment by segment here and again on every read of a
            // value. When it is not valid, the segment checks below find and locate the first
            // bad byte.
            if self.msg.charset == Charset::Utf8 {
                self.msg.text = simdutf8::basic::from_utf8(self.msg.bytes).ok();
            }
        }
        if let Some(off) = scan.first_control {
            let byte = raw.get(off).copied().unwrap_or(0);
            return Err(self.located(ParseErrorKind::ControlCharacter { byte }, index, start + off));
        }
        // Plain ASCII is valid in every supported character set.
        if !self.options.lenient_charset && scan.non_ascii && self.msg.text.is_none() {
            if let Some(off) = self.msg.charset.first_invalid(raw) {
                let byte = raw.get(off).copied().unwrap_or(0);
                let kind = ParseErrorKind::InvalidEncoding { charset: self.msg.charset.label(), byte };
                return Err(self.located(kind, index, start + off));
            }
        }
        // C1 control codes in a message labelled ISO 8859: a Windows-1252 file, mislabelled.
        if scan.non_ascii && self.labelled_iso_8859 {
            if let Some(off) = raw.iter().position(|&b| crate::charset::is_c1(b)) {
                if self.options.windows_1252_fallback {
                    self.msg.charset = Charset::Windows1252;
                    self.labelled_iso_8859 = false;
                } else {
                    return Err(self.c1_error(index, start + off));
                }
            }
        }
        if !self.options.lenient_escapes && escapes.any() {
            self.check_escapes(&entry, index, raw, escapes)?;
        }
        Ok(())
    }

    /// A C1 byte in a message labelled ISO 8859, located at its field (the whole value is
    /// misread, not one component) with the segment's occurrence: `PID[1]-5`.
    fn c1_error(&self, index: usize, byte_at: usize) -> ParseError {
        let byte = self.msg.bytes.get(byte_at).copied().unwrap_or(0);
        let kind = ParseErrorKind::InvalidEncoding { charset: self.msg.charset.label(), byte };
        let mut loc = locate(&self.msg, index, byte_at);
        loc.component = None;
        loc.subcomponent = None;
        let id = self.msg.segs.get(index).map(|e| e.id);
        let sequence = self.msg.segs.iter().take(index + 1).filter(|e| Some(e.id) == id).count();
        ParseError::new(kind, loc).with_sequence(saturating_u32(sequence))
    }

    /// Fails when a field of the segment has more repetitions than the limit allows. One
    /// count over the segment settles the common case; only a segment with more separators
    /// in all than one field may hold is walked field by field.
    fn check_repetitions(&self, entry: &SegEntry, index: usize, separators: usize) -> Result<(), ParseError> {
        let limit = self.options.limits.max_repetitions;
        let rep = self.msg.delimiters.repetition;
        if separators < limit {
            return Ok(());
        }
        let seps = self.msg.seps.get(entry.sep_start as usize..entry.sep_end as usize).unwrap_or(&[]);
        // Each field runs from just after its separator to the next one; MSH-2 (opaque, it
        // holds the repetition separator itself) is skipped.
        let skip = usize::from(entry.id == *b"MSH");
        for (k, &sep) in seps.iter().enumerate().skip(skip) {
            let from = sep as usize + 1;
            let to = seps.get(k + 1).map_or(entry.end as usize, |&s| s as usize);
            let field = self.msg.bytes.get(from..to).unwrap_or(&[]);
            // The separator that opens repetition `limit + 1`.
            if let Some(off) = memchr_iter(rep, field).nth(limit.saturating_sub(1)) {
                let kind = ParseErrorKind::TooManyRepetitions { limit };
                // Located at the first byte of the first repetition past the limit (which
                // may be empty, so the field comes from the separator opening it).
                let mut loc = locate(&self.msg, index, from + off);
                loc.repetition = Some(saturating_u32(limit.saturating_add(1)));
                loc.component = None;
                loc.subcomponent = None;
                loc.byte = from + off + 1;
                return Err(ParseError::new(kind, loc));
            }
        }
        Ok(())
    }

    fn read_charset(&mut self, entry: &SegEntry) -> Result<(), ParseError> {
        let Some((s, e, _)) = field_bounds(&self.msg, entry, 18) else {
            return Ok(());
        };
        let raw = self.msg.bytes.get(s..e).unwrap_or(&[]);
        let d = self.msg.delimiters;
        let first = nth(raw, Some(d.repetition), 1).unwrap_or(&[]);
        let first = nth(first, Some(d.component), 1).unwrap_or(&[]);
        // Its first subcomponent too, as for the repetition and the component: extra parts
        // are ignored (HL7's truncation rule). Read whole, `UNICODE UTF-8&` was an unknown
        // label while the model of the same field, whose empty trailing subcomponent is not
        // written again, read UTF-8 (found by the round-trip property).
        let first = nth(first, d.subcomponent, 1).unwrap_or(&[]);
        // The label is ER7 text like any other: with `/` or `-` among the delimiters,
        // `8859/15` arrives escaped (`8859\R\15`). The labels are ASCII, so unescaping in
        // ASCII is exact for every label that can match.
        let unescaped;
        let first = if d.escape.is_some_and(|esc| first.contains(&esc)) {
            unescaped = crate::escape::unescape(first, &d, Charset::Ascii);
            unescaped.as_slice()
        } else {
            first
        };
        match Charset::from_msh18(first) {
            Ok(cs) => {
                self.msg.charset = cs;
                self.labelled_iso_8859 = matches!(cs, Charset::Latin1 | Charset::Latin9);
            }
            Err(_) if self.options.lenient_charset => self.msg.charset = Charset::Latin1,
            Err(_) => {
                let value = String::from_utf8_lossy(first.trim_ascii()).into_owned();
                return Err(self.located(ParseErrorKind::UnsupportedCharset { value }, 0, s));
            }
        }
        Ok(())
    }

    /// Checks each escape sequence of the segment `raw`, whose escape characters the scan
    /// listed in `escapes` (those past the list's end, in a segment with more than it keeps,
    /// are searched for).
    fn check_escapes(&self, entry: &SegEntry, index: usize, raw: &[u8], escapes: &scan::Escapes) -> Result<(), ParseError> {
        let d = self.msg.delimiters;
        let Some(esc) = d.escape else {
            return Ok(());
        };
        // MSH-1 and MSH-2 hold the escape character itself.
        let mut i = if entry.id == *b"MSH" {
            field_bounds(&self.msg, entry, 2).map_or(raw.len(), |(_, e, _)| e - entry.start as usize)
        } else {
            0
        };
        let standard = d == Delimiters::STANDARD;
        // The sequences start at the escape characters the scan listed, then (past the list's
        // end, in a segment with more than it keeps) at those searched for. A sequence's
        // closing escape character, and any before `i`, are inside a sequence already read.
        // One loop for both, so that the sequence's check is inlined once.
        let mut kept = escapes.kept().iter();
        let search = (!escapes.complete()).then(|| escape::Finder::new(esc));
        loop {
            let p = match kept.next() {
                Some(&at) if (at as usize) < i => continue,
                Some(&at) => at as usize,
                // Every escape character listed is now before `i` (each was skipped as such or
                // began the sequence that moved `i` past it): the search starts at `i`.
                None => match search.as_ref().and_then(|f| f.find(raw.get(i..)?)) {
                    Some(off) => i + off,
                    None => break,
                },
            };
            match escape::parse_escape_with(raw, p, &d, standard, self.msg.charset) {
                Ok((_, end)) => i = end,
                Err(m) => {
                    let sequence = String::from_utf8_lossy(raw.get(p..m.end).unwrap_or(&[])).into_owned();
                    let kind = ParseErrorKind::InvalidEscape { sequence, reason: m.reason };
                    return Err(self.located(kind, index, entry.start as usize + p));
                }
            }
        }
        Ok(())
    }

    /// Builds an error located down to the subcomponent containing `byte`.
    #[cold]
    #[inline(never)]
    fn located(&self, kind: ParseErrorKind, index: usize, byte: usize) -> ParseError {
        ParseError::new(kind, locate(&self.msg, index, byte))
    }
}

/// Location of an absolute byte inside segment `index`.
pub(crate) fn locate(msg: &Message<'_>, index: usize, byte: usize) -> Location {
    let Some(e) = msg.segs.get(index) else {
        return Location::segment(index, None, byte);
    };
    let mut loc = Location::segment(index, Some(e.id), byte);
    let (start, end) = (e.start as usize, e.end as usize);
    if byte >= end {
        return loc;
    }
    let is_msh = e.id == *b"MSH";
    if is_msh && byte == start + 3 {
        loc.field = Some(1);
        return loc;
    }
    let seps = msg.seps.get(e.sep_start as usize..e.sep_end as usize).unwrap_or(&[]);
    let k = seps.partition_point(|&s| (s as usize) < byte);
    if k == 0 {
        return loc;
    }
    let field_no = k + usize::from(is_msh);
    loc.field = Some(saturating_u32(field_no));
    let Some((fs, fe, opaque)) = bounds_in(seps, start, end, is_msh, field_no) else {
        return loc;
    };
    if opaque {
        return loc;
    }
    let raw = msg.bytes.get(fs..fe).unwrap_or(&[]);
    let d = msg.delimiters;
    let rel = byte.saturating_sub(fs);
    let (rep, rep_off, rep_raw) = containing(raw, Some(d.repetition), rel);
    loc.repetition = rep;
    let rel = rel - rep_off;
    let (comp, comp_off, comp_raw) = containing(rep_raw, Some(d.component), rel);
    loc.component = comp;
    let (sub, _, _) = containing(comp_raw, d.subcomponent, rel - comp_off);
    if comp.is_some() || sub.is_some() {
        loc.component = Some(comp.unwrap_or(1));
    }
    loc.subcomponent = sub;
    loc
}

/// The part of `raw` containing `rel`: its number (only when there are several parts),
/// offset and bytes.
fn containing(raw: &[u8], sep: Option<u8>, rel: usize) -> (Option<u32>, usize, &[u8]) {
    let several = sep.is_some_and(|s| memchr(s, raw).is_some());
    for (i, (off, part)) in Parts::new(raw, sep).enumerate() {
        if rel <= off + part.len() {
            let n = several.then(|| saturating_u32(i + 1));
            return (n, off, part);
        }
    }
    (None, 0, raw)
}

impl Loc {
    pub(crate) fn field(seg_index: usize, seg_id: [u8; 3], field: usize, byte: usize) -> Loc {
        Loc {
            seg_index: u32::try_from(seg_index).unwrap_or(u32::MAX),
            seg_id,
            field: saturating_u32(field),
            rep: 0,
            comp: 0,
            sub: 0,
            byte: u32::try_from(byte).unwrap_or(u32::MAX),
        }
    }
}

/// A count or position as `u32`. Every position in a message is below its length, which
/// `Message::parse_with` keeps under 4 GiB, so this never actually saturates for a parsed
/// message; it exists so that no `as` cast can silently wrap.
pub(crate) fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
