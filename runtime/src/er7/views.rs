//! Copyable views over a parsed message.
//!
//! Views carry the raw slice, the delimiters and character set needed to decode it, and
//! a compact location, so that any value handed to application code can say where it
//! came from without a reference back to the message.

use std::borrow::Cow;

use memchr::{memchr, memchr_iter};

use crate::charset::Charset;
use crate::er7::Delimiters;
use crate::error::Location;
use crate::escape;

/// Decoding context shared by all views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ctx<'a> {
    pub delimiters: Delimiters,
    pub charset: Charset,
    /// MSH-1/MSH-2: never split, never unescaped.
    pub opaque: bool,
    /// The whole message as text, when the parse found it valid UTF-8 in a UTF-8 message:
    /// a value without escapes is then a slice of it, not validated again on every read.
    pub whole: Option<&'a str>,
    /// The segment holds a repetition separator ([`SegEntry::repeats`](super::SegEntry)):
    /// when it does not, a field is one repetition, taken whole without a search.
    pub repeats: bool,
}

impl<'a> Ctx<'a> {
    pub fn rep_sep(&self) -> Option<u8> {
        (!self.opaque && self.repeats).then_some(self.delimiters.repetition)
    }
    pub fn comp_sep(&self) -> Option<u8> {
        (!self.opaque).then_some(self.delimiters.component)
    }
    pub fn sub_sep(&self) -> Option<u8> {
        if self.opaque {
            None
        } else {
            self.delimiters.subcomponent
        }
    }
    pub fn text(&self, raw: &'a [u8]) -> Cow<'a, str> {
        crate::work::scanned(raw.len());
        if let Some(text) = self.plain(raw) {
            return Cow::Borrowed(text);
        }
        if self.opaque {
            self.charset.decode_lossy(raw)
        } else if let Some(text) = self.slice_of_whole(raw).and_then(|t| escape::unescape_text(t, &self.delimiters, self.charset)) {
            // A slice of the validated text: its runs between escapes need no second check.
            text
        } else {
            escape::decode(raw, &self.delimiters, self.charset)
        }
    }

    /// `raw` as the slice of the whole message's text it is, when there is such a text and
    /// `raw` holds no escape to resolve. Views only ever hold slices of the message, so the
    /// slice starts where `raw` does; the check of that keeps a stray slice from reading
    /// the wrong text.
    fn plain(&self, raw: &'a [u8]) -> Option<&'a str> {
        self.whole?;
        if let Some(esc) = self.delimiters.escape.filter(|_| !self.opaque) {
            if find(esc, raw).is_some() {
                return None;
            }
        }
        self.slice_of_whole(raw)
    }

    /// `raw` as the slice of the whole message's text it is, escapes or not (see
    /// [`Ctx::plain`]): for a caller that knows what `raw` holds.
    pub(crate) fn slice_of_whole(&self, raw: &'a [u8]) -> Option<&'a str> {
        let whole = self.whole?;
        let start = (raw.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
        let text = whole.get(start..start.checked_add(raw.len())?)?;
        (text.as_ptr() == raw.as_ptr()).then_some(text)
    }
}

/// The fields of a segment in order ([`Segment::fields`]). Field `first + k` starts after
/// field separator `k` (MSH's first separator is MSH-1 itself, so its fields from MSH-2 on
/// are `first = 2`). The fields whose separators the view caches are read off the cache, as
/// the parse found them; the rest by one scan on from the last cached one, never one scan per
/// field (which would make a segment of many fields quadratic).
struct Fields<'a> {
    seg: Segment<'a>,
    /// MSH-1 is still to come.
    msh1: bool,
    /// The next cached separator.
    k: usize,
    first: usize,
    /// Past the cache: the parts after the last cached separator, numbered from `.1`.
    tail: Option<(std::iter::Skip<Parts<'a>>, usize, usize)>,
    /// The segment's part of every field's location (its byte: where the segment starts),
    /// worked out once.
    loc: Loc,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;
    /// Inlined into the caller (the cached fields, nearly every field of a message), which
    /// then computes only the parts of each view it reads; MSH-1 and the fields past the
    /// cache take [`Fields::next_uncached`].
    #[inline]
    fn next(&mut self) -> Option<Field<'a>> {
        let seg = &self.seg;
        let cached = usize::from(seg.cached);
        if !self.msh1 && self.k < cached {
            let k = self.k;
            self.k += 1;
            let sep = *seg.seps.get(k)?;
            let start = sep as usize + 1;
            let end = seg.field_end(k, start);
            // MSH-2 (the first field after MSH's first separator) is never split.
            let opaque = self.first == 2 && k == 0;
            return Some(Field {
                raw: seg.raw.get(start..end).unwrap_or(&[]),
                ctx: Ctx { opaque, ..seg.ctx },
                loc: Loc { field: super::saturating_u32(self.first + k), byte: self.loc.byte.saturating_add(sep).saturating_add(1), ..self.loc },
            });
        }
        self.next_uncached()
    }
}

impl<'a> Fields<'a> {
    /// MSH-1, then the fields past the cached separators, found by one scan on from the last.
    #[inline(never)]
    fn next_uncached(&mut self) -> Option<Field<'a>> {
        let seg = &self.seg;
        if self.msh1 {
            self.msh1 = false;
            return (seg.field_count >= 1).then(|| seg.make_field(1, 3, 4, true));
        }
        let cached = usize::from(seg.cached);
        if self.k < cached {
            // Only after MSH-1: the cached fields go on in `next`.
            return self.next();
        }
        if self.tail.is_none() {
            let n = self.first + cached;
            if n > seg.field_count || cached == 0 {
                return None;
            }
            let base = *seg.seps.get(cached - 1)? as usize + 1;
            let body = seg.raw.get(base..)?;
            // The first part is the last cached field, already given.
            self.tail = Some((Parts::new(body, Some(seg.ctx.delimiters.field)).skip(1), base, n));
        }
        let (parts, base, n) = self.tail.as_mut()?;
        let (off, part) = parts.next()?;
        let fs = *base + off;
        let field = self.seg.make_field(*n, fs, fs + part.len(), false);
        *n += 1;
        Some(field)
    }
}

/// Compact location; 0 means "not applicable" for the 1-based positions. Positions are
/// `u32` like the byte offset: an element's position is below the message length, so it
/// always fits (a `u16` wrapped past 65,535 repetitions or fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Loc {
    pub seg_index: u32,
    pub seg_id: [u8; 3],
    pub field: u32,
    pub rep: u32,
    pub comp: u32,
    pub sub: u32,
    pub byte: u32,
}

impl Loc {
    fn to_location(self) -> Location {
        let opt = |n: u32| (n != 0).then_some(n);
        Location {
            segment_index: self.seg_index as usize,
            segment_id: Some(self.seg_id),
            field: opt(self.field),
            repetition: opt(self.rep),
            component: opt(self.comp),
            subcomponent: opt(self.sub),
            byte: self.byte as usize,
        }
    }

    fn child(self, level: Level, n: usize, offset: usize) -> Loc {
        let n = super::saturating_u32(n);
        let byte = self.byte.saturating_add(u32::try_from(offset).unwrap_or(u32::MAX));
        let mut loc = Loc { byte, ..self };
        match level {
            Level::Rep => loc.rep = n,
            Level::Comp => loc.comp = n,
            Level::Sub => loc.sub = n,
        }
        loc
    }
}

#[derive(Clone, Copy)]
enum Level {
    Rep,
    Comp,
    Sub,
}

/// Splits a slice on an optional separator, yielding `(offset, part)`. Like
/// `slice::split`, an empty input yields one empty part.
#[derive(Clone, Debug)]
pub(crate) struct Parts<'a> {
    raw: &'a [u8],
    sep: Option<u8>,
    pos: usize,
    done: bool,
}

impl<'a> Parts<'a> {
    pub fn new(raw: &'a [u8], sep: Option<u8>) -> Self {
        Parts { raw, sep, pos: 0, done: false }
    }
    /// Yields nothing for an empty input: an empty element has no children.
    fn children(raw: &'a [u8], sep: Option<u8>) -> Self {
        Parts { raw, sep, pos: 0, done: raw.is_empty() }
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = (usize, &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.raw.get(self.pos..)?;
        let start = self.pos;
        match self.sep.and_then(|s| find(s, rest)) {
            Some(off) => {
                crate::work::scanned(off + 1);
                self.pos += off + 1;
                Some((start, rest.get(..off)?))
            }
            None => {
                crate::work::scanned(rest.len());
                self.done = true;
                Some((start, rest))
            }
        }
    }
}

fn count(raw: &[u8], sep: Option<u8>) -> usize {
    crate::work::scanned(raw.len());
    if raw.is_empty() {
        0
    } else {
        1 + sep.map_or(0, |s| if raw.len() < LONG { count_words(s, raw) } else { memchr_iter(s, raw).count() })
    }
}

/// From this length on `memchr` counts (32 bytes at a time): below it, [`count_words`] in a
/// few instructions and a few bytes of code. `memchr`'s count (about 170 instructions on a
/// 20-byte PID-5, and 768 bytes of code that a typed read otherwise does not run) was called
/// once per typed read, by `Reps::new`.
const LONG: usize = 256;

/// How many `sep` there are in `hay`, eight bytes at a time.
fn count_words(sep: u8, hay: &[u8]) -> usize {
    const LOWS: u64 = u64::from_ne_bytes([0x7f; 8]);
    let (words, rest) = words_xor(sep, hay);
    let counted: usize = words
        .map(|x| {
            // A byte of `x` is zero where `hay` holds `sep`. A byte's low seven bits plus 0x7f
            // carry into its high bit unless they are all zero, and cannot carry out of the
            // byte: the high bit of `(x & LOWS) + LOWS | x` is clear exactly at the zero bytes
            // (no false match, unlike the test of `find_short`, which only needs the first).
            // One bit per zero byte, at its bottom; the multiplication sums them in the top
            // byte.
            let zeros = !(((x & LOWS) + LOWS) | x | LOWS);
            ((zeros >> 7).wrapping_mul(ONES) >> 56) as usize
        })
        .sum();
    counted + rest.iter().filter(|&&b| b == sep).count()
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);

/// `hay`'s whole words of eight bytes, read little-endian (the first byte in memory lowest)
/// and XORed with `sep` in every byte, so that a byte is zero where `hay` holds `sep`; and
/// the bytes after the last whole word.
#[inline]
fn words_xor(sep: u8, hay: &[u8]) -> (impl Iterator<Item = u64> + '_, &[u8]) {
    let pattern = ONES.wrapping_mul(u64::from(sep));
    let words = hay.chunks_exact(8);
    let rest = words.remainder();
    let xored = words.map(move |word| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        u64::from_le_bytes(bytes) ^ pattern
    });
    (xored, rest)
}

/// Below this length a plain loop finds a byte in fewer instructions than `memchr`, whose
/// vector set-up is paid on every call: most components and subcomponents are a few bytes
/// (measured with `benches/scripts/instructions.sh`: 1,480 searches per flow-1 check).
const SHORT: usize = 16;

/// The offset of the first `sep` in `hay`.
#[inline]
pub(crate) fn find(sep: u8, hay: &[u8]) -> Option<usize> {
    if hay.len() < SHORT {
        find_short(sep, hay)
    } else {
        memchr(sep, hay)
    }
}

/// [`find`] below [`SHORT`] bytes: eight bytes at a time in a word, then the rest one by one
/// (a byte loop takes four instructions a byte; a word, about ten for eight).
#[inline]
fn find_short(sep: u8, hay: &[u8]) -> Option<usize> {
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let (words, rest) = words_xor(sep, hay);
    let mut at = 0;
    for x in words {
        // The classic test marks the lowest zero byte exactly (a borrow only reaches the bytes
        // above it), and the lowest is the first in memory.
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    rest.iter().position(|&b| b == sep).map(|i| at + i)
}

fn nth_child(raw: &[u8], sep: Option<u8>, n: usize) -> Option<(usize, &[u8])> {
    Parts::children(raw, sep).nth(n.checked_sub(1)?)
}

const NULL: &[u8] = b"\"\"";

/// How many field-separator offsets a [`Segment`] view carries inline: enough for
/// the whole of most segments, small enough to keep the view cheap to copy.
const CACHED_SEPS: usize = 48;

/// One segment.
///
/// A segment view borrows only the input, not the message's field index, so it can
/// outlive any borrow of the [`Message`](crate::er7::Message) it came from. To keep
/// `field(n)` O(1) anyway, the view carries a copy of the first separator offsets of
/// its segment; fields beyond them are found by scanning the rest with `memchr`.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    raw: &'a [u8],
    /// Offsets (relative to the segment start) of the first `cached` field separators. `u32`,
    /// not `u16`: with 16-bit offsets a segment holding a field past 64 KiB (an ED document in
    /// OBX-5, thousands of PID-3 repetitions) stopped caching there, and every later field was
    /// found by rescanning that field (the linearity tests count it).
    seps: [u32; CACHED_SEPS],
    cached: u8,
    /// `raw` plus its terminator and any skipped empty lines after it.
    own: &'a [u8],
    start: u32,
    index: usize,
    id: [u8; 3],
    field_count: usize,
    ctx: Ctx<'a>,
}

impl<'a> Segment<'a> {
    /// `separators` are the absolute offsets of the segment's field separators.
    pub(crate) fn new(
        raw: &'a [u8],
        own: &'a [u8],
        start: u32,
        index: usize,
        id: [u8; 3],
        separators: &[u32],
        ctx: Ctx<'a>,
    ) -> Self {
        let field_count = separators.len() + usize::from(id == *b"MSH");
        let mut seps = [0u32; CACHED_SEPS];
        // One loop of known length, without a counter carried from lane to lane: the compiler
        // turns it into vector subtractions (a view is made on every typed segment accessor).
        let cached = separators.len().min(CACHED_SEPS);
        if let (Some(slots), Some(separators)) = (seps.get_mut(..cached), separators.get(..cached)) {
            for (slot, &abs) in slots.iter_mut().zip(separators) {
                // The segment's separators all lie in it, at or after its start.
                *slot = abs.wrapping_sub(start);
            }
        }
        // At most CACHED_SEPS, which fits.
        let cached = cached as u8;
        Segment { raw, seps, cached, own, start, index, id, field_count, ctx }
    }

    /// Offset of separator `k` (0-based) relative to the segment start.
    fn sep(&self, k: usize) -> Option<usize> {
        let cached = usize::from(self.cached);
        if k < cached {
            return self.seps.get(k).map(|&s| s as usize);
        }
        let sep = self.ctx.delimiters.field;
        let (from, skip) = match cached.checked_sub(1) {
            Some(last) => (*self.seps.get(last)? as usize + 1, k - cached),
            None => (0, k),
        };
        let rest = self.raw.get(from..)?;
        let found = memchr_iter(sep, rest).nth(skip);
        crate::work::scanned(found.map_or(rest.len(), |off| off + 1));
        found.map(|off| from + off)
    }

    /// The 3-character segment id.
    pub fn id(&self) -> &'a str {
        std::str::from_utf8(self.raw.get(..3).unwrap_or(&[])).unwrap_or("")
    }

    /// 0-based position in the message.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Offset of the segment's first byte in the input.
    pub fn byte_offset(&self) -> usize {
        self.start as usize
    }

    /// The segment's bytes without its terminator.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Appends the segment's own bytes as they were in the input: content, terminator
    /// (CR, or LF/CRLF in lenient mode, or none for a final segment without CR) and any
    /// empty lines skipped after it, so writing all segments in order reproduces the input.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.own);
    }

    fn is_msh(&self) -> bool {
        self.id == *b"MSH"
    }

    /// Number of fields as HL7 counts them: for MSH, MSH-1 and MSH-2 are included.
    pub fn field_count(&self) -> usize {
        self.field_count
    }

    /// Field `n` (1-based HL7 numbering). A field past the end (or 0) is an empty field,
    /// since "absent" and "empty" mean the same in ER7.
    pub fn field(&self, n: usize) -> Field<'a> {
        let (fs, fe, opaque) = self.bounds(n).unwrap_or((self.raw.len(), self.raw.len(), false));
        self.make_field(n, fs, fe, opaque)
    }

    fn make_field(&self, n: usize, fs: usize, fe: usize, opaque: bool) -> Field<'a> {
        Field {
            raw: self.raw.get(fs..fe).unwrap_or(&[]),
            ctx: Ctx { opaque, ..self.ctx },
            loc: Loc::field(self.index, self.id, n, self.start as usize + fs),
        }
    }

    /// Bounds of field `n` relative to the segment start.
    fn bounds(&self, n: usize) -> Option<(usize, usize, bool)> {
        if n == 0 || n > self.field_count {
            return None;
        }
        if self.is_msh() && n == 1 {
            return Some((3, 4, true));
        }
        let k = if self.is_msh() { n - 2 } else { n - 1 };
        let start = self.sep(k)? + 1;
        Some((start, self.field_end(k, start), self.is_msh() && n == 2))
    }

    /// Where the field that starts at `start`, after separator `k`, ends: the next cached
    /// separator, else the next field separator found by a scan, else the segment's end.
    /// Inlined: `Fields::next` asks it for every cached field.
    #[inline]
    fn field_end(&self, k: usize, start: usize) -> usize {
        match self.seps.get(k + 1).filter(|_| k + 1 < usize::from(self.cached)) {
            Some(&next) => next as usize,
            None => {
                let rest = self.raw.get(start..).unwrap_or(&[]);
                let end = find(self.ctx.delimiters.field, rest).map_or(self.raw.len(), |e| start + e);
                crate::work::scanned(end.saturating_sub(start) + 1);
                end
            }
        }
    }

    /// Fields 1 to `field_count()`, in one pass over the segment.
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + 'a {
        let is_msh = self.is_msh();
        let loc = Loc::field(self.index, self.id, 0, self.start as usize);
        Fields { seg: *self, msh1: is_msh, k: 0, first: if is_msh { 2 } else { 1 }, tail: None, loc }
    }

    /// Where the segment starts.
    pub fn location(&self) -> Location {
        Location::segment(self.index, Some(self.id), self.start as usize)
    }

    /// Delimiters of the message.
    pub fn delimiters(&self) -> Delimiters {
        self.ctx.delimiters
    }

    /// Character set of the message.
    pub fn charset(&self) -> Charset {
        self.ctx.charset
    }
}

/// One field: all its repetitions.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    raw: &'a [u8],
    ctx: Ctx<'a>,
    loc: Loc,
}

impl<'a> Field<'a> {
    /// The field's bytes as in the message (escapes not decoded).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True when the field is empty or absent.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// True for the explicit HL7 null `""` (the receiver must delete the value).
    pub fn is_null(&self) -> bool {
        self.raw == NULL
    }

    /// Number of repetitions; 0 for an empty field.
    pub fn repetition_count(&self) -> usize {
        count(self.raw, self.ctx.rep_sep())
    }

    /// The repetitions in order.
    pub fn repetitions(&self) -> impl Iterator<Item = Repetition<'a>> + 'a {
        let (ctx, loc) = (self.ctx, self.loc);
        Parts::children(self.raw, ctx.rep_sep())
            .enumerate()
            .map(move |(i, (off, raw))| Repetition { raw, ctx, loc: loc.child(Level::Rep, i + 1, off) })
    }

    /// Repetition `i` (1-based), `None` when absent.
    pub fn repetition(&self, i: usize) -> Option<Repetition<'a>> {
        let (off, raw) = nth_child(self.raw, self.ctx.rep_sep(), i)?;
        Some(Repetition { raw, ctx: self.ctx, loc: self.loc.child(Level::Rep, i, off) })
    }

    /// Repetition `i` (1-based) when it starts at byte `at` of the field, and where the next
    /// one starts: for an iterator that walks the repetitions once instead of searching each
    /// from the field's start. When the caller knows it is the last one (`last`, from
    /// [`Field::repetition_count`]), it runs to the field's end without a search.
    pub(crate) fn repetition_at(&self, i: usize, at: usize, last: bool) -> Option<(Repetition<'a>, usize)> {
        let rest = self.raw.get(at..)?;
        let len = if last { rest.len() } else { self.ctx.rep_sep().and_then(|sep| find(sep, rest)).unwrap_or(rest.len()) };
        if !last {
            crate::work::scanned(len + 1);
        }
        let raw = rest.get(..len)?;
        Some((Repetition { raw, ctx: self.ctx, loc: self.loc.child(Level::Rep, i, at) }, at + len + 1))
    }

    /// Component `n` of the first repetition (empty when absent).
    pub fn component(&self, n: usize) -> Component<'a> {
        self.first().component(n)
    }

    /// The first repetition, empty when the field is empty.
    pub fn first(&self) -> Repetition<'a> {
        let raw = Parts::new(self.raw, self.ctx.rep_sep()).next().map_or(self.raw, |(_, r)| r);
        Repetition { raw, ctx: self.ctx, loc: self.loc.child(Level::Rep, 1, 0) }
    }

    /// Decoded text of the whole field (separators between repetitions and components
    /// are kept as they are; use the component accessors for structured values).
    pub fn text(&self) -> Cow<'a, str> {
        self.ctx.text(self.raw)
    }

    /// Where the field starts.
    pub fn location(&self) -> Location {
        self.loc.to_location()
    }
}

/// One repetition of a field.
#[derive(Clone, Copy, Debug)]
pub struct Repetition<'a> {
    raw: &'a [u8],
    ctx: Ctx<'a>,
    loc: Loc,
}

impl<'a> Repetition<'a> {
    /// Raw bytes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// True for the explicit HL7 null `""`.
    pub fn is_null(&self) -> bool {
        self.raw == NULL
    }

    /// Number of components; 0 when empty.
    pub fn component_count(&self) -> usize {
        count(self.raw, self.ctx.comp_sep())
    }

    /// The components in order, found in one scan.
    pub fn components(&self) -> Components<'a> {
        Components { parts: Parts::children(self.raw, self.ctx.comp_sep()), ctx: self.ctx, loc: self.loc, n: 0 }
    }

    /// Component `n` (1-based); empty when absent.
    pub fn component(&self, n: usize) -> Component<'a> {
        let (off, raw) = nth_child(self.raw, self.ctx.comp_sep(), n).unwrap_or((self.raw.len(), &[]));
        Component { raw, ctx: self.ctx, loc: self.loc.child(Level::Comp, n, off) }
    }

    /// Decoded text.
    pub fn text(&self) -> Cow<'a, str> {
        self.ctx.text(self.raw)
    }

    /// Where it starts.
    pub fn location(&self) -> Location {
        self.loc.to_location()
    }
}

/// The components of a repetition in order ([`Repetition::components`]): one scan, where
/// `component(n)` for each `n` would rescan from the start.
#[derive(Clone, Debug)]
pub struct Components<'a> {
    parts: Parts<'a>,
    ctx: Ctx<'a>,
    loc: Loc,
    n: usize,
}

impl<'a> Iterator for Components<'a> {
    type Item = Component<'a>;
    #[inline]
    fn next(&mut self) -> Option<Component<'a>> {
        let (off, raw) = self.parts.next()?;
        self.n += 1;
        Some(Component { raw, ctx: self.ctx, loc: self.loc.child(Level::Comp, self.n, off) })
    }
}

/// The subcomponents of a component in order ([`Component::subcomponents`]).
#[derive(Clone, Debug)]
pub struct Subcomponents<'a> {
    parts: Parts<'a>,
    ctx: Ctx<'a>,
    loc: Loc,
    n: usize,
}

impl<'a> Iterator for Subcomponents<'a> {
    type Item = Subcomponent<'a>;
    #[inline]
    fn next(&mut self) -> Option<Subcomponent<'a>> {
        let (off, raw) = self.parts.next()?;
        self.n += 1;
        Some(Subcomponent { raw, ctx: self.ctx, loc: self.loc.child(Level::Sub, self.n, off) })
    }
}

/// One component.
#[derive(Clone, Copy, Debug)]
pub struct Component<'a> {
    raw: &'a [u8],
    ctx: Ctx<'a>,
    loc: Loc,
}

impl<'a> Component<'a> {
    /// Raw bytes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// True for the explicit HL7 null `""`.
    pub fn is_null(&self) -> bool {
        self.raw == NULL
    }

    /// Number of subcomponents; 0 when empty.
    pub fn subcomponent_count(&self) -> usize {
        count(self.raw, self.ctx.sub_sep())
    }

    /// The subcomponents in order, found in one scan.
    pub fn subcomponents(&self) -> Subcomponents<'a> {
        Subcomponents { parts: Parts::children(self.raw, self.ctx.sub_sep()), ctx: self.ctx, loc: self.loc, n: 0 }
    }

    /// Subcomponent `n` (1-based); empty when absent.
    pub fn subcomponent(&self, n: usize) -> Subcomponent<'a> {
        let (off, raw) = nth_child(self.raw, self.ctx.sub_sep(), n).unwrap_or((self.raw.len(), &[]));
        Subcomponent { raw, ctx: self.ctx, loc: self.loc.child(Level::Sub, n, off) }
    }

    /// Decoded text.
    pub fn text(&self) -> Cow<'a, str> {
        self.ctx.text(self.raw)
    }

    /// Where it starts.
    pub fn location(&self) -> Location {
        self.loc.to_location()
    }
}

/// One subcomponent.
#[derive(Clone, Copy, Debug)]
pub struct Subcomponent<'a> {
    raw: &'a [u8],
    ctx: Ctx<'a>,
    loc: Loc,
}

impl<'a> Subcomponent<'a> {
    /// Raw bytes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// True for the explicit HL7 null `""`.
    pub fn is_null(&self) -> bool {
        self.raw == NULL
    }

    /// Decoded text.
    pub fn text(&self) -> Cow<'a, str> {
        self.ctx.text(self.raw)
    }

    /// Where it starts.
    pub fn location(&self) -> Location {
        self.loc.to_location()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The word-at-a-time count counts what a byte loop counts, at every length up to
        /// [`LONG`], for any byte (the high ones and zero included), with runs of the
        /// separator (adjacent matches in one word) made likely.
        #[test]
        fn the_word_count_agrees_with_a_byte_loop(hay in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b'~'), Just(0u8), Just(0xffu8)], 0..LONG), sep in prop_oneof![any::<u8>(), Just(b'~'), Just(0u8), Just(0xffu8)]) {
            prop_assert_eq!(count_words(sep, &hay), hay.iter().filter(|&&b| b == sep).count());
        }

        /// The word-at-a-time search finds what a byte loop finds, at every length below
        /// `SHORT` and for any byte, the high ones (a borrow across bytes) and zero included.
        #[test]
        fn the_short_search_agrees_with_a_byte_loop(hay in proptest::collection::vec(any::<u8>(), 0..SHORT), sep in any::<u8>(), at in any::<prop::sample::Index>()) {
            let mut hay = hay;
            // Half the time, make sure the separator is there, at a random place.
            if !hay.is_empty() && sep % 2 == 0 {
                let i = at.index(hay.len());
                if let Some(b) = hay.get_mut(i) {
                    *b = sep;
                }
            }
            prop_assert_eq!(find(sep, &hay), hay.iter().position(|&b| b == sep));
        }
    }

    /// A field's repetitions (raw bytes and locations), their count, the first and the second.
    type Split = (Vec<(Vec<u8>, Location)>, usize, Vec<u8>, Option<Vec<u8>>);

    fn repetitions_of(f: &Field<'_>) -> Split {
        let reps = f.repetitions().map(|r| (r.raw().to_vec(), r.location())).collect();
        (reps, f.repetition_count(), f.first().raw().to_vec(), f.repetition(2).map(|r| r.raw().to_vec()))
    }

    proptest! {
        /// A segment the parse found without a repetition separator splits its fields into
        /// the repetitions a search for one finds: the same parts, locations and counts.
        #[test]
        fn fields_of_a_segment_without_repetitions_split_as_searched(pieces in proptest::collection::vec(0..6usize, 0..16)) {
            let value: String = pieces.iter().filter_map(|&i| ["ab", "~", "^", "&", "|", "\\R\\"].get(i).copied()).collect();
            let text = format!("MSH|^~\\&|A|B|||20260101||ORU^R01|1|P|2.5.1\rPID|1||{value}||X^Y\r");
            let msg = super::super::Message::parse(text.as_bytes()).expect("parses");
            let repeats: Vec<bool> = msg.segments().map(|s| s.ctx.repeats).collect();
            prop_assert_eq!(repeats, vec![true, value.contains('~')]);
            for seg in msg.segments() {
                for f in seg.fields() {
                    let searched = Field { ctx: Ctx { repeats: true, ..f.ctx }, ..f };
                    prop_assert_eq!(repetitions_of(&f), repetitions_of(&searched));
                }
            }
        }
    }

    /// Every position of the separator in every length, next to bytes one above and below it
    /// (where a borrow or a carry would show).
    #[test]
    fn the_short_search_finds_each_position() {
        for sep in [0u8, 1, b'^', b'|', 0x7F, 0x80, 0xFF] {
            for len in 0..SHORT {
                for pos in 0..len {
                    let mut hay: Vec<u8> = (0..len).map(|i| if i % 2 == 0 { sep.wrapping_add(1) } else { sep.wrapping_sub(1) }).collect();
                    if let Some(b) = hay.get_mut(pos) {
                        *b = sep;
                    }
                    assert_eq!(find(sep, &hay), Some(pos), "sep {sep:#x}, len {len}, at {pos}");
                }
                let without: Vec<u8> = (0..len).map(|i| if i % 2 == 0 { sep.wrapping_add(1) } else { sep.wrapping_sub(1) }).collect();
                assert_eq!(find(sep, &without), None, "sep {sep:#x}, len {len}, absent");
            }
        }
    }
}
