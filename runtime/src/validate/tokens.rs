//! Every element of a message found once for validation: the fields of each segment, their
//! repetitions, components and subcomponents, split in one pass per segment and kept in flat
//! lists, so that each check reads its element by index instead of making a view and
//! scanning for it again. The format checks read every component of every checked field, the
//! guide's constraints and rules read the same fields again: with views each read cost a few
//! hundred instructions (a segment view copied, a field and a component found, the text
//! searched for escapes); here the split is paid once, and a field without escapes is known
//! to be a slice of the message's text.
//!
//! The lists give what the views give (`er7::views`): an empty element has no children, an
//! opaque field (MSH-1, MSH-2) is never split, and text is decoded as the views decode it.
//!
//! The split reads a segment sixteen bytes at a time (SSE2, part of the x86-64 baseline; a
//! scalar loop elsewhere): each block gives one bit per byte that is a delimiter, CR or LF,
//! and only those bytes are visited. Fields are short (eight bytes on average, most of them
//! empty), so the split used to cost more per field than per byte: a table of levels zeroed
//! and a search for the escape character per field, a call per element. Now a field
//! separator closes the open field where it is found, an empty field or one without
//! separators (a date, a code) takes a shorter way, and the escape character is one more
//! byte the blocks report. The segment's fields are found as the parse found them, the runs
//! between its field separators up to its first CR or LF; debug builds check them against
//! `Message::field_slices`.

use std::borrow::Cow;

use crate::er7::{Ctx, Delimiters, Message};

/// A run of children in one of the lists.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(test, derive(PartialEq))]
struct Span {
    first: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.first as usize..(self.first as usize + self.len as usize)
    }
}

/// Where a part's bytes are in the message: offsets, not a slice, so that the lists borrow
/// nothing and a thread keeps them from one validation to the next ([`spare`]), and a node
/// is 20 bytes instead of 32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Place {
    at: u32,
    len: u32,
}

impl Place {
    /// Bytes `start..end` of the message (offsets fit in `u32`: the parser rejects larger
    /// inputs).
    fn new(start: usize, end: usize) -> Place {
        Place { at: start as u32, len: end.saturating_sub(start) as u32 }
    }

    fn is_empty(self) -> bool {
        self.len == 0
    }
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(test, derive(PartialEq))]
struct FieldTok {
    raw: Place,
    reps: Span,
    /// MSH-1 or MSH-2: never split, never unescaped.
    opaque: bool,
    /// A slice of the message's text with nothing to decode: its parts are read as they are.
    plain: bool,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(test, derive(PartialEq))]
struct Node {
    raw: Place,
    children: Span,
    /// The field this part belongs to (how to decode it).
    field: u32,
}

/// The elements of one message (see the module's documentation).
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq))]
pub(crate) struct Tokens<'a> {
    message: &'a [u8],
    ctx: Option<Ctx<'a>>,
    /// The fields of each segment (message index), field 1 first.
    segments: Vec<Span>,
    fields: Vec<FieldTok>,
    reps: Vec<Node>,
    comps: Vec<Node>,
    subs: Vec<Node>,
}

/// The lists of a [`Tokens`], emptied.
type Lists = (Vec<Span>, Vec<FieldTok>, Vec<Node>, Vec<Node>, Vec<Node>);

/// The lists of the last dropped [`Tokens`] of this thread, kept for the next validation: they
/// are sized from the message (a flow-3 response's take about 25 KB), and allocating and
/// freeing them was most of the allocator's share of a validation. Lists of more than 256 KiB
/// in all (a message of tens of kilobytes) are freed, not held.
mod spare {
    use std::cell::Cell;

    use super::Lists;

    const KEPT_BYTES: usize = 256 << 10;

    thread_local! {
        static SPARE: Cell<Option<Lists>> = const { Cell::new(None) };
    }

    /// Empty lists, the kept ones when there are.
    pub(super) fn take() -> Lists {
        // `try_with`: while the thread's locals are being destroyed, fresh lists.
        SPARE.try_with(Cell::take).ok().flatten().unwrap_or_default()
    }

    /// Room for `n` in the empty `list`: a kept list too small is replaced, not grown (growing
    /// would copy it and round its size up to twice the old one).
    pub(super) fn room<T>(list: &mut Vec<T>, n: usize) {
        if list.capacity() < n {
            *list = Vec::with_capacity(n);
        }
    }

    /// Keeps `lists`, emptied, for the next [`take`] on this thread.
    pub(super) fn give(mut lists: Lists) {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        let (segments, fields, reps, comps, subs) = &mut lists;
        if bytes(segments) + bytes(fields) + bytes(reps) + bytes(comps) + bytes(subs) > KEPT_BYTES {
            return;
        }
        segments.clear();
        fields.clear();
        reps.clear();
        comps.clear();
        subs.clear();
        let _ = SPARE.try_with(|spare| spare.set(Some(lists)));
    }
}

impl Drop for Tokens<'_> {
    fn drop(&mut self) {
        use std::mem::take;
        spare::give((take(&mut self.segments), take(&mut self.fields), take(&mut self.reps), take(&mut self.comps), take(&mut self.subs)));
    }
}

/// A repetition, component or subcomponent in [`Tokens`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Rep(u32),
    Comp(u32),
    Sub(u32),
}

/// Where the open field, repetition, component and subcomponent start (offsets in the
/// message), where the children of each start in their lists, and whether the open field
/// holds an escape so far.
struct Open {
    field: usize,
    rep: usize,
    comp: usize,
    sub: usize,
    field_children: usize,
    rep_children: usize,
    comp_children: usize,
    escaped: bool,
}

/// How one message's segments are split: its delimiters, and whether its text is valid UTF-8
/// (`Ctx::whole`: a field without escapes is then a slice of it).
struct Splitter<'a> {
    message: &'a [u8],
    delimiters: Delimiters,
    /// The subcomponent separator, or the component separator again when there is none:
    /// a separator is told apart by comparing it with the component separator first, so that
    /// one is never taken for a subcomponent's end.
    sub: u8,
    whole: bool,
    #[cfg(target_arch = "x86_64")]
    needles: simd::Needles,
}

impl<'a> Splitter<'a> {
    fn new(message: &'a [u8], d: &Delimiters, whole: bool) -> Splitter<'a> {
        Splitter {
            message,
            delimiters: *d,
            sub: d.subcomponent.unwrap_or(d.component),
            whole,
            #[cfg(target_arch = "x86_64")]
            needles: simd::Needles::new(d),
        }
    }

    /// Where `part` is in the message, when it is a slice of it (the views' parts always are).
    fn place(&self, part: &[u8]) -> Option<Place> {
        let off = (part.as_ptr() as usize).checked_sub(self.message.as_ptr() as usize)?;
        let slice = self.message.get(off..off.checked_add(part.len())?)?;
        (slice.as_ptr() == part.as_ptr()).then(|| Place::new(off, off + part.len()))
    }

    /// The bytes among the sixteen of `region` from `at` that a split stops at, one bit per
    /// byte (bit 0 the first): separators, the escape character, CR and LF. Those past the
    /// region's end, padding, are none of these.
    #[inline]
    fn block(&self, region: &[u8], at: usize) -> u32 {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(window) = region.get(at..at + 16) {
                return simd::events(window, &self.needles);
            }
            // The last bytes: padded with NULs, which no delimiter, CR or LF is.
            let mut padded = [0u8; 16];
            let rest = region.get(at..).unwrap_or(&[]);
            if let Some(head) = padded.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            simd::events(&padded, &self.needles)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            scalar_events(region.get(at..).unwrap_or(&[]), &self.delimiters)
        }
    }
}

/// [`Splitter::block`] a byte at a time: the path of other architectures, and the reference
/// the vector path is tested against.
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn scalar_events(rest: &[u8], d: &Delimiters) -> u32 {
    let mut events = 0;
    for (i, &b) in rest.iter().take(16).enumerate() {
        let stop = d.is_separator(b) || Some(b) == d.escape || b == b'\r' || b == b'\n';
        events |= u32::from(stop) << i;
    }
    events
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_or_si128, _mm_set1_epi8};

    use crate::er7::Delimiters;
    use crate::sse2;

    /// The bytes a block is compared with, each repeated over the sixteen lanes.
    pub(super) struct Needles {
        field: __m128i,
        rep: __m128i,
        comp: __m128i,
        /// The component separator again without a subcomponent separator.
        sub: __m128i,
        /// The field separator again without an escape character.
        escape: __m128i,
        cr: __m128i,
        lf: __m128i,
    }

    impl Needles {
        #[allow(unsafe_code)] // calls the SSE2 function, see SAFETY
        pub(super) fn new(d: &Delimiters) -> Needles {
            // SAFETY: SSE2 is part of the x86-64 baseline: every processor this code can run
            // on has it (the compiler enables it for the target), which is all `needles` asks.
            unsafe { needles(d) }
        }
    }

    #[target_feature(enable = "sse2")]
    fn needles(d: &Delimiters) -> Needles {
        // `as i8`: the intrinsics take signed bytes; only the bit pattern matters.
        Needles {
            field: _mm_set1_epi8(d.field as i8),
            rep: _mm_set1_epi8(d.repetition as i8),
            comp: _mm_set1_epi8(d.component as i8),
            sub: _mm_set1_epi8(d.subcomponent.unwrap_or(d.component) as i8),
            escape: _mm_set1_epi8(d.escape.unwrap_or(d.field) as i8),
            cr: _mm_set1_epi8(b'\r' as i8),
            lf: _mm_set1_epi8(b'\n' as i8),
        }
    }

    /// [`super::Splitter::block`] on the first sixteen bytes of `window`.
    #[inline]
    #[allow(unsafe_code)] // calls the SSE2 function, see SAFETY
    pub(super) fn events(window: &[u8], n: &Needles) -> u32 {
        // SAFETY: SSE2 is part of the x86-64 baseline (see `Needles::new`).
        unsafe { sse2_events(window, n) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn sse2_events(window: &[u8], n: &Needles) -> u32 {
        let v = sse2::load(window);
        let seps = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, n.field), _mm_cmpeq_epi8(v, n.rep)),
            _mm_or_si128(_mm_cmpeq_epi8(v, n.comp), _mm_cmpeq_epi8(v, n.sub)),
        );
        let others = _mm_or_si128(_mm_cmpeq_epi8(v, n.escape), _mm_or_si128(_mm_cmpeq_epi8(v, n.cr), _mm_cmpeq_epi8(v, n.lf)));
        sse2::mask(_mm_or_si128(seps, others))
    }
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(message: &Message<'a>) -> Tokens<'a> {
        let n = message.segment_count();
        // Sized once from the message's length (grown by doubling, the lists cost a quarter
        // of the split in copies): a flow's message has about one field per 9 bytes and one
        // subcomponent per 4.
        let bytes = message.bytes().len();
        let (mut segments, mut fields, mut reps, mut comps, mut subs) = spare::take();
        spare::room(&mut segments, n);
        spare::room(&mut fields, bytes / 8 + n);
        spare::room(&mut reps, bytes / 8 + n);
        spare::room(&mut comps, bytes / 6 + n);
        spare::room(&mut subs, bytes / 4 + n);
        let ctx = message.ctx();
        let mut t = Tokens { message: message.bytes(), ctx: Some(ctx), segments, fields, reps, comps, subs };
        let split = Splitter::new(message.bytes(), &ctx.delimiters, ctx.whole.is_some());
        for i in 0..n {
            let first = t.fields.len() as u32;
            // MSH-1 and MSH-2 first, never split; then the first field that is: from there on
            // the segment's fields are split in one scan of its bytes, up to its end. Fields
            // are slices of the message (`Message::field_slices`); the debug check below says
            // so should one ever not be.
            for (raw, opaque) in message.field_slices(i) {
                let Some(place) = split.place(raw) else { break };
                if opaque {
                    t.push_opaque(place, split.whole);
                } else {
                    t.push_fields(place.at as usize, &split);
                    break;
                }
            }
            debug_assert!(t.same_fields(first, message.field_slices(i)), "segment {i} split into other fields than the parse's");
            t.segments.push(Span { first, len: t.fields.len() as u32 - first });
        }
        t
    }

    /// Whether the fields from `first` on are `slices`, slice for slice (the scan finds a
    /// segment's fields as the parse did: the runs between field separators up to the first CR
    /// or LF).
    fn same_fields<'s>(&self, first: u32, slices: impl Iterator<Item = (&'s [u8], bool)>) -> bool {
        let ours = self.fields.get(first as usize..).unwrap_or(&[]).iter().map(|f| (self.bytes(f.raw).as_ptr(), f.raw.len as usize, f.opaque));
        ours.eq(slices.map(|(raw, opaque)| (raw.as_ptr(), raw.len(), opaque)))
    }

    /// MSH-1 or MSH-2: one repetition, one component, one subcomponent, the whole field
    /// (none when it is empty); never unescaped, so a slice of the text whenever there is one.
    fn push_opaque(&mut self, raw: Place, whole: bool) {
        let index = self.fields.len() as u32;
        let reps = Span { first: self.reps.len() as u32, len: u32::from(!raw.is_empty()) };
        self.fields.push(FieldTok { raw, reps, opaque: true, plain: whole });
        if raw.is_empty() {
            return;
        }
        self.subs.push(Node { raw, children: Span::default(), field: index });
        let sub = Span { first: self.subs.len() as u32 - 1, len: 1 };
        self.comps.push(Node { raw, children: sub, field: index });
        let comp = Span { first: self.comps.len() as u32 - 1, len: 1 };
        self.reps.push(Node { raw, children: comp, field: index });
    }

    /// Splits the fields from offset `from` of the message up to the first CR or LF (the
    /// segment's end) or its end, sixteen bytes at a time: each block gives the positions of its
    /// separators as bit masks, and only those are visited, each closing the open parts at its
    /// level and below.
    fn push_fields(&mut self, from: usize, split: &Splitter<'a>) {
        let d = &split.delimiters;
        let region = split.message;
        let mut open = self.open(from);
        let mut at = from;
        while at < region.len() {
            let mut events = split.block(region, at);
            while events != 0 {
                let i = at + events.trailing_zeros() as usize;
                events &= events - 1;
                // Never past the end: the padding matches nothing.
                let Some(&b) = region.get(i) else { break };
                // Told apart by the byte, the most frequent first.
                if b == d.field {
                    self.close_field(&mut open, i, split.whole);
                } else if b == d.component {
                    self.close_comp(&mut open, i);
                } else if b == split.sub {
                    self.close_sub(&mut open, i);
                } else if b == d.repetition {
                    self.close_rep(&mut open, i);
                } else if b == b'\r' || b == b'\n' {
                    self.close_field(&mut open, i, split.whole);
                    return;
                } else {
                    open.escaped = true;
                }
            }
            at += 16;
        }
        self.close_field(&mut open, region.len(), split.whole);
    }

    /// A field opening at `at`, its children next in the lists.
    fn open(&self, at: usize) -> Open {
        Open {
            field: at,
            rep: at,
            comp: at,
            sub: at,
            field_children: self.reps.len(),
            rep_children: self.comps.len(),
            comp_children: self.subs.len(),
            escaped: false,
        }
    }

    /// A field ends at `i`: its repetitions are those pushed since it opened (none when it is
    /// empty); the next opens after `i`. Most fields are empty or hold no separator (a date, a
    /// code): those two take a shorter way.
    #[inline(always)]
    fn close_field(&mut self, open: &mut Open, i: usize, whole: bool) {
        let raw = Place::new(open.field, i);
        if raw.is_empty() {
            // Nothing pushed, nothing escaped: only the positions move.
            let reps = Span { first: self.reps.len() as u32, len: 0 };
            self.fields.push(FieldTok { raw, reps, opaque: false, plain: whole });
            (open.field, open.rep, open.comp, open.sub) = (i + 1, i + 1, i + 1, i + 1);
            return;
        }
        let reps = if open.sub == open.field {
            // One repetition, of one component, of one subcomponent: the whole field.
            let field = self.fields.len() as u32;
            let sub = Span { first: self.subs.len() as u32, len: 1 };
            self.subs.push(Node { raw, children: Span::default(), field });
            let comp = Span { first: self.comps.len() as u32, len: 1 };
            self.comps.push(Node { raw, children: sub, field });
            let rep = Span { first: self.reps.len() as u32, len: 1 };
            self.reps.push(Node { raw, children: comp, field });
            rep
        } else {
            let first = open.field_children;
            self.close_rep(open, i);
            Span { first: first as u32, len: (self.reps.len() - first) as u32 }
        };
        self.fields.push(FieldTok { raw, reps, opaque: false, plain: whole && !open.escaped });
        *open = self.open(i + 1);
    }

    /// A subcomponent separator at `i`: the open subcomponent ends.
    #[inline(always)]
    fn close_sub(&mut self, open: &mut Open, i: usize) {
        let field = self.fields.len() as u32;
        self.subs.push(Node { raw: Place::new(open.sub, i), children: Span::default(), field });
        open.sub = i + 1;
    }

    /// A component ends at `i`: its subcomponents are those pushed since it opened, none when
    /// it is empty (an empty element has no children, so its one empty subcomponent is never
    /// pushed).
    #[inline(always)]
    fn close_comp(&mut self, open: &mut Open, i: usize) {
        let first = open.comp_children;
        if open.comp < i {
            self.close_sub(open, i);
        }
        let span = Span { first: first as u32, len: (self.subs.len() - first) as u32 };
        let field = self.fields.len() as u32;
        self.comps.push(Node { raw: Place::new(open.comp, i), children: span, field });
        open.comp = i + 1;
        open.sub = i + 1;
        open.comp_children = self.subs.len();
    }

    /// A repetition ends at `i`: as a component, with its components.
    #[inline(always)]
    fn close_rep(&mut self, open: &mut Open, i: usize) {
        let first = open.rep_children;
        if open.rep < i {
            self.close_comp(open, i);
        }
        let span = Span { first: first as u32, len: (self.comps.len() - first) as u32 };
        let field = self.fields.len() as u32;
        self.reps.push(Node { raw: Place::new(open.rep, i), children: span, field });
        open.rep = i + 1;
        open.comp = i + 1;
        open.sub = i + 1;
        open.rep_children = self.comps.len();
        open.comp_children = self.subs.len();
    }

    /// The bytes at `place` in the message.
    fn bytes(&self, place: Place) -> &'a [u8] {
        let at = place.at as usize;
        self.message.get(at..at + place.len as usize).unwrap_or(&[])
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
        field.and_then(|f| self.fields.get(f as usize)).map_or(&[], |f| self.bytes(f.raw))
    }

    /// Whether every part of a field is its bytes as they are (a slice of the message's text
    /// with nothing to decode): then a part's text is empty exactly when its bytes are.
    pub(crate) fn field_plain(&self, field: Option<u32>) -> bool {
        field.and_then(|f| self.fields.get(f as usize)).is_some_and(|f| f.plain && !f.opaque)
    }

    /// The decoded text of a field (as `Field::text`).
    pub(crate) fn field_text(&self, field: Option<u32>) -> Cow<'a, str> {
        match field.and_then(|f| self.fields.get(f as usize).map(|t| (f, t))) {
            Some((f, t)) => self.text_in(self.bytes(t.raw), f),
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

    fn node(&self, tok: Tok) -> Option<&Node> {
        match tok {
            Tok::Rep(i) => self.reps.get(i as usize),
            Tok::Comp(i) => self.comps.get(i as usize),
            Tok::Sub(i) => self.subs.get(i as usize),
        }
    }

    pub(crate) fn raw(&self, tok: Tok) -> &'a [u8] {
        self.node(tok).map_or(&[], |n| self.bytes(n.raw))
    }

    /// The decoded text of a part (as `Part::text`).
    pub(crate) fn text(&self, tok: Tok) -> Cow<'a, str> {
        match self.node(tok) {
            Some(n) => self.text_in(self.bytes(n.raw), n.field),
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
        let raw = self.bytes(n.raw);
        let last = raw.last().copied();
        let ends_sub = d.subcomponent.is_some() && last == d.subcomponent;
        let drops = match tok {
            Tok::Sub(_) => false,
            Tok::Comp(_) => ends_sub,
            Tok::Rep(_) => {
                ends_sub
                    || last == Some(d.component)
                    || d.subcomponent.is_some_and(|s| raw.windows(2).any(|w| w == [s, d.component]))
            }
        };
        if drops {
            return None;
        }
        ctx.slice_of_whole(raw)
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::er7::ParseOptions;

    /// The splitter this one replaced, a byte at a time through a table of levels: the
    /// reference the vector split must agree with, node for node.
    mod reference {
        use super::super::*;

        pub(super) fn tokens<'a>(message: &Message<'a>) -> Tokens<'a> {
            let n = message.segment_count();
            let mut t = Tokens {
                message: message.bytes(),
                ctx: Some(message.ctx()),
                segments: Vec::new(),
                fields: Vec::new(),
                reps: Vec::new(),
                comps: Vec::new(),
                subs: Vec::new(),
            };
            let ctx = message.ctx();
            for i in 0..n {
                let first = t.fields.len() as u32;
                for (raw, opaque) in message.field_slices(i) {
                    push_field(&mut t, raw, Ctx { opaque, ..ctx });
                }
                t.segments.push(Span { first, len: t.fields.len() as u32 - first });
            }
            t
        }

        /// Where `raw`, a slice of the message, is in it.
        fn place(t: &Tokens<'_>, raw: &[u8]) -> Place {
            let at = raw.as_ptr() as usize - t.message.as_ptr() as usize;
            Place::new(at, at + raw.len())
        }

        fn push_field<'a>(t: &mut Tokens<'a>, raw: &'a [u8], ctx: Ctx<'a>) {
            let index = t.fields.len() as u32;
            let whole = place(t, raw);
            let escape = ctx.delimiters.escape.filter(|_| !ctx.opaque);
            let plain = ctx.whole.is_some() && escape.is_none_or(|e| !raw.contains(&e));
            let reps = Span { first: t.reps.len() as u32, len: 0 };
            t.fields.push(FieldTok { raw: whole, reps, opaque: ctx.opaque, plain });
            if raw.is_empty() {
                return;
            }
            let (Some(r), Some(c)) = (ctx.rep_sep(), ctx.comp_sep()) else {
                t.subs.push(Node { raw: whole, children: Span::default(), field: index });
                let sub = Span { first: t.subs.len() as u32 - 1, len: 1 };
                t.comps.push(Node { raw: whole, children: sub, field: index });
                let comp = Span { first: t.comps.len() as u32 - 1, len: 1 };
                t.reps.push(Node { raw: whole, children: comp, field: index });
                close_field(t, index);
                return;
            };
            let mut levels = [0u8; 256];
            for (sep, level) in [(ctx.sub_sep(), 1), (Some(c), 2), (Some(r), 3)] {
                if let Some(slot) = sep.and_then(|b| levels.get_mut(usize::from(b))) {
                    *slot = level;
                }
            }
            let (mut rep_start, mut comp_start, mut sub_start) = (0usize, 0usize, 0usize);
            let (mut rep_children, mut comp_children) = (t.comps.len(), t.subs.len());
            for (i, &b) in raw.iter().enumerate() {
                let level = levels.get(usize::from(b)).copied().unwrap_or(0);
                if level == 0 {
                    continue;
                }
                push_sub(t, raw, sub_start, i, index);
                sub_start = i + 1;
                if level >= 2 {
                    push_comp(t, raw, comp_start, i, comp_children, index);
                    comp_start = i + 1;
                    comp_children = t.subs.len();
                }
                if level == 3 {
                    push_rep(t, raw, rep_start, i, rep_children, index);
                    rep_start = i + 1;
                    rep_children = t.comps.len();
                }
            }
            push_sub(t, raw, sub_start, raw.len(), index);
            push_comp(t, raw, comp_start, raw.len(), comp_children, index);
            push_rep(t, raw, rep_start, raw.len(), rep_children, index);
            close_field(t, index);
        }

        fn push_sub<'a>(t: &mut Tokens<'a>, raw: &'a [u8], start: usize, end: usize, field: u32) {
            let raw = place(t, raw.get(start..end).unwrap_or(&[]));
            t.subs.push(Node { raw, children: Span::default(), field });
        }

        fn push_comp<'a>(t: &mut Tokens<'a>, raw: &'a [u8], start: usize, end: usize, children: usize, field: u32) {
            let raw = place(t, raw.get(start..end).unwrap_or(&[]));
            if raw.is_empty() {
                t.subs.truncate(children);
            }
            let span = Span { first: children as u32, len: (t.subs.len() - children) as u32 };
            t.comps.push(Node { raw, children: span, field });
        }

        fn push_rep<'a>(t: &mut Tokens<'a>, raw: &'a [u8], start: usize, end: usize, children: usize, field: u32) {
            let raw = place(t, raw.get(start..end).unwrap_or(&[]));
            if raw.is_empty() {
                t.comps.truncate(children);
            }
            let span = Span { first: children as u32, len: (t.comps.len() - children) as u32 };
            t.reps.push(Node { raw, children: span, field });
        }

        fn close_field(t: &mut Tokens<'_>, index: u32) {
            if let Some(f) = t.fields.get_mut(index as usize) {
                f.reps.len = t.reps.len() as u32 - f.reps.first;
            }
        }
    }

    /// Splits `text` both ways and compares every list (parts are compared by where they are
    /// in the message, not only by their bytes), and the bytes of every part with the
    /// reference's slices.
    fn agree(text: &[u8]) {
        let options = ParseOptions { lenient_escapes: true, lenient_charset: true, lenient_terminators: true, ..ParseOptions::default() };
        let message = Message::parse_with(text, &options).unwrap_or_else(|e| panic!("{e:?}: {:?}", String::from_utf8_lossy(text)));
        let got = Tokens::new(&message);
        let want = reference::tokens(&message);
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(text));
        let parts = |t: &Tokens<'_>| {
            let nodes = t.reps.iter().chain(&t.comps).chain(&t.subs).map(|n| t.bytes(n.raw).to_vec());
            t.fields.iter().map(|f| t.bytes(f.raw).to_vec()).chain(nodes).collect::<Vec<_>>()
        };
        assert_eq!(parts(&got), parts(&want), "{:?}", String::from_utf8_lossy(text));
    }

    /// A message with these delimiters (MSH-1 then MSH-2) and these segments after MSH, whose
    /// own fields follow its MSH-18 (UTF-8, so that fields are slices of the text), each
    /// segment ended by `end` (the last one too when `last`).
    fn message(msh: &str, msh_fields: &[String], segments: &[Vec<String>], end: &str, last: bool) -> Vec<u8> {
        let f = msh.chars().next().unwrap_or('|');
        let mut text = format!("MSH{msh}{f}A{f}B{f}C{f}D{f}20240101{f}{f}ADT{f}1{f}P{f}2.5{f}{f}{f}{f}{f}{f}{f}UNICODE UTF-8");
        for field in msh_fields {
            text.push(f);
            text.push_str(field);
        }
        for (k, fields) in segments.iter().enumerate() {
            text.push_str(end);
            text.push_str(&format!("Z{:02}", k % 100));
            for field in fields {
                text.push(f);
                text.push_str(field);
            }
        }
        if last {
            text.push_str(end);
        }
        text.into_bytes()
    }

    /// Segment terminators: CR, and what the lenient parse takes too (LF, CRLF, empty lines).
    const ENDS: [&str; 4] = ["\r", "\n", "\r\n", "\r\r"];

    /// The standard delimiters, others, and none for subcomponents.
    const DELIMITERS: [&str; 4] = ["|^~\\&", "#$%*!", "|^~\\", "|^~\\&#"];

    /// Swaps the standard separators in `field` for those of `msh`.
    fn with_delimiters(field: &str, msh: &str) -> String {
        let to: Vec<char> = msh.chars().collect();
        field
            .chars()
            .map(|c| match "|^~\\&".find(c).and_then(|k| to.get(k)) {
                Some(&d) => d,
                None => c,
            })
            .collect()
    }

    fn field() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("|"),
            Just("^"),
            Just("~"),
            Just("&"),
            Just("\\"),
            Just("\\F\\"),
            Just("a"),
            Just("Z"),
            Just("é"),
            Just("0"),
            Just(" "),
            Just("#"),
            Just("%"),
        ];
        prop::collection::vec(piece, 0..=80).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn the_vector_split_agrees_with_the_byte_at_a_time_one(
            delimiters in 0..DELIMITERS.len(),
            end in 0..ENDS.len(),
            last in any::<bool>(),
            msh_fields in prop::collection::vec(field(), 0..4),
            segments in prop::collection::vec(prop::collection::vec(field(), 0..12), 0..6),
        ) {
            let msh = DELIMITERS.get(delimiters).copied().unwrap_or("|^~\\&");
            let swap = |fields: &[String]| fields.iter().map(|f| with_delimiters(f, msh)).collect::<Vec<_>>();
            let segments: Vec<Vec<String>> = segments.iter().map(|s| swap(s)).collect();
            let end = ENDS.get(end).copied().unwrap_or("\r");
            agree(&message(msh, &swap(&msh_fields), &segments, end, last));
        }
    }

    /// Every length to 80 at every position modulo sixteen, of separators dense and sparse,
    /// with each set of delimiters; the field last in the message too (read padded).
    #[test]
    fn every_length_and_alignment() {
        let patterns = ["a^b~c&d\\F\\é^^~~&&", "abcdefgh^", "~", "&", "\\", "^^&~", "zzzzzzzzzzzzzzzzzzzzzz~"];
        for msh in DELIMITERS {
            for pattern in patterns {
                for len in 0..=80 {
                    let field: String = pattern.chars().cycle().take(len).collect();
                    let field = with_delimiters(&field, msh);
                    for pad in 0..16 {
                        let segments = vec![vec!["x".repeat(pad), field.clone()], vec![field.clone()]];
                        agree(&message(msh, std::slice::from_ref(&field), &segments, "\r", pad % 2 == 0));
                    }
                }
            }
        }
    }

    /// A message the parse accepts without MSH-18 (plain ASCII, no text to slice): fields are
    /// never `plain` then.
    #[test]
    fn without_text() {
        agree(b"MSH|^~\\&|A|B\rPID|1||12^^^H&1.2&ISO~34||DOE^JOHN\\S\\X|");
        agree(b"MSH|^~\\&");
        agree(b"MSH|^~\\&|");
        agree(b"MSH|^~\\|a^b&c~d");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_blocks_agree_with_the_scalar_ones() {
        let alphabet = b"|^~\\&#$%*!a\r\n\t\xc3\xa9";
        for msh in DELIMITERS {
            let msh = msh.as_bytes();
            let d = Delimiters {
                field: msh.first().copied().unwrap_or(b'|'),
                component: msh.get(1).copied().unwrap_or(b'^'),
                repetition: msh.get(2).copied().unwrap_or(b'~'),
                escape: msh.get(3).copied(),
                subcomponent: msh.get(4).copied(),
            };
            for d in [d, Delimiters { subcomponent: None, ..d }, Delimiters { escape: None, subcomponent: None, ..d }] {
                let needles = simd::Needles::new(&d);
                for k in 0..alphabet.len() {
                    let block: Vec<u8> = (0..16).map(|i| alphabet.get((i * 5 + k) % alphabet.len()).copied().unwrap_or(b'a')).collect();
                    assert_eq!(simd::events(&block, &needles), scalar_events(&block, &d), "{block:?} {d:?}");
                }
            }
        }
    }
}
