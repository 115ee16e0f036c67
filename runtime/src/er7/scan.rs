//! One pass over a segment that finds what the parser's checks need: where the segment ends
//! (its first CR or LF), the field separators (stored into the message's index as it goes),
//! how many repetition separators there are, the first control character, whether any byte is
//! non-ASCII, and where the escape characters are (the first [`ESCAPES`] of them).
//!
//! The parser used to make a pass per question (`memchr` for the terminator, `memchr_iter` on
//! the field separator, a count of repetition separators, a word-at-a-time control scan, the
//! character set's validation, `memchr` on the escape character). The separators of a segment
//! are dense (a field every eight bytes or so), so one `memchr` call per field cost more in
//! call overhead than in scanning; and a pure-ASCII segment, the common case, needs no
//! character-set validation at all. Here thirty-two bytes are classified at once where the
//! processor has AVX2 (detected at run time), sixteen with SSE2 (which every x86-64 processor
//! has) otherwise and for the tail, and a scalar loop on other architectures.
//!
//! The terminator is found by the same pass: CR and LF are controls, so a block without
//! controls (nearly all of them) costs nothing more, and the one that holds the terminator
//! is cut there. The parser used to find it with a `memchr2` call per segment first, which
//! read every byte twice and paid a call and a padded tail per segment (measured with
//! `benches/scripts/instructions.sh`: the parse of the flow-3 ORU went from 11,036 to 10,225
//! instructions).

use super::Delimiters;

/// What one pass over a segment found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Offset of the first byte below 0x20 other than TAB.
    pub first_control: Option<usize>,
    /// Whether some byte has its high bit set (so the segment is not plain ASCII).
    pub non_ascii: bool,
    /// Number of repetition separators.
    pub repetitions: usize,
}

/// How many escape characters of a segment [`Escapes`] keeps: the line breaks (`\.br\`, two
/// escape characters each) of a report of sixty-four lines.
pub(crate) const ESCAPES: usize = 128;

/// Where the escape characters of a segment are, in order: the offsets in the segment of the
/// first [`ESCAPES`] of them, and how many there are in all. The parser checks each escape
/// sequence; it used to find each with a `memchr` call from the end of the last one (about
/// sixty instructions a call, eleven calls for the flow-3 report) although this pass had
/// seen them all. One list serves every segment of a parse: emptied, not made, per segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Escapes {
    at: [u32; ESCAPES],
    count: usize,
}

impl Escapes {
    pub(crate) fn new() -> Escapes {
        Escapes { at: [0; ESCAPES], count: 0 }
    }

    pub(crate) fn clear(&mut self) {
        self.count = 0;
    }

    fn push(&mut self, at: usize) {
        self.push_block(at, 1);
    }

    /// The escape characters of a block at `at`, one bit per byte in `marks`.
    #[inline(always)]
    fn push_block(&mut self, at: usize, mut marks: u32) {
        // The count in a register for the block's loop, stored once.
        let mut count = self.count;
        while marks != 0 {
            if let Some(slot) = self.at.get_mut(count) {
                // Offsets fit in u32: the parser rejects larger inputs.
                *slot = (at + marks.trailing_zeros() as usize) as u32;
            }
            count += 1;
            marks &= marks - 1;
        }
        self.count = count;
    }

    /// Whether the segment holds an escape character.
    pub(crate) fn any(&self) -> bool {
        self.count > 0
    }

    /// The offsets kept, in order.
    pub(crate) fn kept(&self) -> &[u32] {
        self.at.get(..self.count).unwrap_or(&self.at)
    }

    /// Whether every escape character of the segment is in [`Escapes::kept`]; when not, those
    /// after the last one kept are to be searched for.
    pub(crate) fn complete(&self) -> bool {
        self.count <= ESCAPES
    }
}

impl Scan {
    fn byte(&mut self, at: usize, b: u8, d: &Delimiters, base: u32, seps: &mut Vec<u32>, escapes: &mut Escapes) {
        if b == d.field {
            // Offsets fit in u32: the parser rejects larger inputs.
            seps.push(base + at as u32);
        }
        self.repetitions += usize::from(b == d.repetition);
        if Some(b) == d.escape {
            escapes.push(at);
        }
        self.non_ascii |= b >= 0x80;
        if self.first_control.is_none() && b < 0x20 && b != b'\t' {
            self.first_control = Some(at);
        }
    }
}

/// Scans the segment that starts `rest` (at absolute offset `base`) up to its terminator, the
/// first CR or LF, appending the absolute offset of every field separator before it to
/// `seps` and the offset in `rest` of each of its escape characters to `escapes` (emptied
/// first). Returns what the scan found and the terminator's offset in `rest`, `None` when the
/// segment runs to the end of the input.
// Inlined into the parser's loop, whatever else changes around it: left to the heuristics, a
// change in the views once made it a call (200 instructions more per flow-3 parse).
#[inline(always)]
pub(crate) fn segment(rest: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, escapes: &mut Escapes) -> (Scan, Option<usize>) {
    let mut scan = Scan::default();
    escapes.clear();
    let (done, end) = simd::blocks(rest, base, d, seps, escapes, &mut scan);
    if end.is_some() {
        return (scan, end);
    }
    for (i, &b) in rest.iter().enumerate().skip(done) {
        if is_terminator(b) {
            return (scan, Some(i));
        }
        scan.byte(i, b, d, base, seps, escapes);
    }
    (scan, None)
}

fn is_terminator(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{__m128i, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_or_si128, _mm_set1_epi8};

    use crate::{avx2, sse2};

    use super::{Delimiters, Escapes, Scan};

    /// Classifies `rest` thirty-two bytes at a time with AVX2 when the processor has it, then
    /// sixteen at a time with SSE2, the tail padded, up to the first CR or LF. Returns how many
    /// bytes it covered (all of them when there is no terminator) and the terminator's offset.
    pub(super) fn blocks(rest: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, escapes: &mut Escapes, scan: &mut Scan) -> (usize, Option<usize>) {
        let mut done = 0;
        // Under 32 bytes there is no block for AVX2: not worth the detection's load.
        if rest.len() >= 32 && std::arch::is_x86_feature_detected!("avx2") {
            let (covered, end) = avx2_path(rest, base, d, seps, escapes, scan);
            if end.is_some() {
                return (covered, end);
            }
            done = covered;
        }
        sse2_path(rest, done, base, d, seps, escapes, scan)
    }

    /// [`blocks`] without AVX2: the path of processors that lack it, which the tests take too.
    #[cfg(test)]
    pub(super) fn sse2_only(rest: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, escapes: &mut Escapes, scan: &mut Scan) -> (usize, Option<usize>) {
        sse2_path(rest, 0, base, d, seps, escapes, scan)
    }

    #[allow(unsafe_code)] // calls the AVX2 function, see SAFETY
    fn avx2_path(rest: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, escapes: &mut Escapes, scan: &mut Scan) -> (usize, Option<usize>) {
        // SAFETY: the caller detected AVX2 on this processor at run time, which is all
        // `avx2_blocks` asks.
        unsafe { avx2_blocks(rest, base, d, seps, escapes, scan) }
    }

    #[allow(unsafe_code)] // calls the SSE2 function, see SAFETY
    fn sse2_path(rest: &[u8], from: usize, base: u32, d: &Delimiters, seps: &mut Vec<u32>, escapes: &mut Escapes, scan: &mut Scan) -> (usize, Option<usize>) {
        // SAFETY: SSE2 is part of the x86-64 baseline: every processor this code can run on
        // has it (the compiler enables it for the target), which is all `sse2_blocks` asks.
        unsafe { sse2_blocks(rest, from, base, d, seps, escapes, scan) }
    }

    /// The whole blocks of thirty-two bytes of `rest` up to the first terminator; returns
    /// where they end (the rest is left to the SSE2 path) or the terminator.
    #[target_feature(enable = "avx2")]
    fn avx2_blocks(rest: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, escapes: &mut Escapes, scan: &mut Scan) -> (usize, Option<usize>) {
        // `as i8`: the intrinsics take signed bytes; only the bit pattern matters.
        let n = Needles {
            field: _mm256_set1_epi8(d.field as i8),
            repetition: _mm256_set1_epi8(d.repetition as i8),
            escape: _mm256_set1_epi8(d.escape.unwrap_or(d.field) as i8),
            has_escape: d.escape.is_some(),
            space: _mm256_set1_epi8(0x20),
            tab: _mm256_set1_epi8(b'\t' as i8),
            cr: _mm256_set1_epi8(b'\r' as i8),
            lf: _mm256_set1_epi8(b'\n' as i8),
        };
        let mut at = 0usize;
        for chunk in rest.chunks_exact(32) {
            let v = avx2::load(chunk);
            // As `classify`, on thirty-two lanes, all of them real.
            let below = avx2::mask(_mm256_cmpgt_epi8(n.space, v));
            let repetitions = avx2::mask(_mm256_cmpeq_epi8(v, n.repetition));
            let marks = if n.has_escape { avx2::mask(_mm256_cmpeq_epi8(v, n.escape)) } else { 0 };
            let m = avx2::mask(_mm256_cmpeq_epi8(v, n.field));
            if below | repetitions | marks | m != 0 {
                let high = avx2::mask(v);
                let controls = below & !high & !avx2::mask(_mm256_cmpeq_epi8(v, n.tab));
                // Only a block with controls can hold the terminator: one per segment.
                let terminators = if controls == 0 { 0 } else { avx2::mask(_mm256_or_si256(_mm256_cmpeq_epi8(v, n.cr), _mm256_cmpeq_epi8(v, n.lf))) };
                let lanes = before_first(terminators);
                record(at, m & lanes, repetitions & lanes, marks & lanes, high & lanes, controls & lanes, base, seps, escapes, scan);
                if terminators != 0 {
                    let end = at + terminators.trailing_zeros() as usize;
                    return (end, Some(end));
                }
            }
            at += 32;
        }
        (at, None)
    }

    /// Sixteen bytes at a time from `from` up to the first terminator, the tail padded.
    #[target_feature(enable = "sse2")]
    fn sse2_blocks(rest: &[u8], from: usize, base: u32, d: &Delimiters, seps: &mut Vec<u32>, escapes: &mut Escapes, scan: &mut Scan) -> (usize, Option<usize>) {
        let needles = Needles {
            field: _mm_set1_epi8(d.field as i8),
            repetition: _mm_set1_epi8(d.repetition as i8),
            // Without an escape character, compare against the field separator again and
            // ignore the result (`has_escape`).
            escape: _mm_set1_epi8(d.escape.unwrap_or(d.field) as i8),
            has_escape: d.escape.is_some(),
            space: _mm_set1_epi8(0x20),
            tab: _mm_set1_epi8(b'\t' as i8),
            cr: _mm_set1_epi8(b'\r' as i8),
            lf: _mm_set1_epi8(b'\n' as i8),
        };
        let mut at = from;
        let mut chunks = rest.get(from..).unwrap_or(&[]).chunks_exact(16);
        for chunk in &mut chunks {
            if let Some(end) = classify(sse2::load(chunk), at, 0xFFFF, &needles, base, seps, escapes, scan) {
                return (end, Some(end));
            }
            at += 16;
        }
        // The tail goes through the same path, padded, with the padding lanes masked out.
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut padded = [0u8; 16];
            if let Some(head) = padded.get_mut(..tail.len()) {
                head.copy_from_slice(tail);
            }
            if let Some(end) = classify(sse2::load(&padded), at, (1u32 << tail.len()) - 1, &needles, base, seps, escapes, scan) {
                return (end, Some(end));
            }
            at += tail.len();
        }
        (at, None)
    }

    /// The bytes a block is compared with, each repeated over the lanes of a vector `V`
    /// (`__m128i` for SSE2, `__m256i` for AVX2).
    struct Needles<V> {
        field: V,
        repetition: V,
        escape: V,
        has_escape: bool,
        space: V,
        tab: V,
        cr: V,
        lf: V,
    }

    /// The lanes before the first one set in `terminators` (all of them when none is set).
    #[inline(always)]
    fn before_first(terminators: u32) -> u32 {
        if terminators == 0 {
            u32::MAX
        } else {
            // The lowest set bit, less one: every lane below it. A terminator in lane 0
            // leaves none.
            (terminators & terminators.wrapping_neg()) - 1
        }
    }

    /// Classifies the sixteen bytes at offset `at` of the segment, of which the lanes set
    /// in `lanes` are real (the others are the padding of the tail); returns the offset of
    /// the terminator when the block holds one (only what comes before it is recorded).
    #[target_feature(enable = "sse2")]
    #[allow(clippy::too_many_arguments)]
    fn classify(v: __m128i, at: usize, lanes: u32, n: &Needles<__m128i>, base: u32, seps: &mut Vec<u32>, escapes: &mut Escapes, scan: &mut Scan) -> Option<usize> {
        // Signed comparison: bytes from 0x80 are negative, so "below 0x20" also catches them
        // (and TAB): one mask says whether any byte is high, a control or a TAB.
        let below = sse2::mask(_mm_cmplt_epi8(v, n.space)) & lanes;
        let repetitions = sse2::mask(_mm_cmpeq_epi8(v, n.repetition)) & lanes;
        let marks = if n.has_escape { sse2::mask(_mm_cmpeq_epi8(v, n.escape)) & lanes } else { 0 };
        let m = sse2::mask(_mm_cmpeq_epi8(v, n.field)) & lanes;
        // Most blocks of a long value (a Base64 document, a report's text) hold none of these:
        // nothing to record.
        if below | repetitions | marks | m == 0 {
            return None;
        }
        let high = sse2::mask(v) & lanes;
        let controls = below & !high & !sse2::mask(_mm_cmpeq_epi8(v, n.tab));
        let terminators = if controls == 0 { 0 } else { sse2::mask(_mm_or_si128(_mm_cmpeq_epi8(v, n.cr), _mm_cmpeq_epi8(v, n.lf))) & lanes };
        let keep = before_first(terminators);
        record(at, m & keep, repetitions & keep, marks & keep, high & keep, controls & keep, base, seps, escapes, scan);
        (terminators != 0).then(|| at + terminators.trailing_zeros() as usize)
    }

    /// What a block's masks say (one bit per lane, from `at`): field separators, repetition
    /// separators, escape characters, high bytes and controls.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn record(at: usize, mut m: u32, repetitions: u32, marks: u32, high: u32, controls: u32, base: u32, seps: &mut Vec<u32>, escapes: &mut Escapes, scan: &mut Scan) {
        // Counting bits takes a dozen instructions without POPCNT, which the x86-64 baseline
        // lacks, so it is left to the blocks that have some.
        if repetitions != 0 {
            scan.repetitions += repetitions.count_ones() as usize;
        }
        if marks != 0 {
            escapes.push_block(at, marks);
        }
        scan.non_ascii |= high != 0;
        if controls != 0 && scan.first_control.is_none() {
            scan.first_control = Some(at + controls.trailing_zeros() as usize);
        }
        while m != 0 {
            // Offsets fit in u32: the parser rejects larger inputs.
            seps.push(base + (at + m.trailing_zeros() as usize) as u32);
            m &= m - 1;
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    use super::{Delimiters, Escapes, Scan};

    /// No vector path here: the scalar loop covers everything.
    pub(super) fn blocks(_: &[u8], _: u32, _: &Delimiters, _: &mut Vec<u32>, _: &mut Escapes, _: &mut Scan) -> (usize, Option<usize>) {
        (0, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte at a time: where the segment ends, what comes before it.
    fn reference(rest: &[u8], base: u32, d: &Delimiters) -> ((Scan, Option<usize>), Vec<u32>, Escapes) {
        let mut scan = Scan::default();
        let mut seps = Vec::new();
        let mut escapes = Escapes::new();
        for (i, &b) in rest.iter().enumerate() {
            if is_terminator(b) {
                return ((scan, Some(i)), seps, escapes);
            }
            scan.byte(i, b, d, base, &mut seps, &mut escapes);
        }
        ((scan, None), seps, escapes)
    }

    const D: Delimiters = Delimiters { field: b'|', component: b'^', repetition: b'~', escape: Some(b'\\'), subcomponent: Some(b'&') };

    #[test]
    fn the_vector_path_agrees_with_the_scalar_one_at_every_length_and_position() {
        let mut leftover = Escapes::new();
        for at in 0..ESCAPES + 3 {
            leftover.push(at * 3);
        }
        let alphabet: &[u8] = b"|~\\^&aZ\t\x01\x1f \x7f\x80\xc3\xff\r\n";
        for len in 0usize..100 {
            for (k, &special) in alphabet.iter().enumerate() {
                for pos in [0, len / 3, len / 2, len.saturating_sub(1)] {
                    // A terminator, when there is one, somewhere after the special byte too:
                    // what follows it must not be recorded.
                    for second in [None, Some(b'\r'), Some(b'\n'), Some(b'|')] {
                        let mut raw: Vec<u8> = (0..len).map(|i| alphabet[(i * 7 + k) % 7 + 4]).collect();
                        if let Some(b) = raw.get_mut(pos) {
                            *b = special;
                        }
                        if let (Some(t), Some(b)) = (second, raw.get_mut((pos + 1 + len / 4).min(len.saturating_sub(1)))) {
                            *b = t;
                        }
                        for d in [D, Delimiters { escape: None, ..D }] {
                            // A list left over from a longer segment: `segment` empties it.
                            let (mut seps, mut escapes) = (Vec::new(), leftover.clone());
                            let got = segment(&raw, 1000, &d, &mut seps, &mut escapes);
                            let expected = reference(&raw, 1000, &d);
                            assert_eq!(escapes.kept(), expected.2.kept(), "{raw:?} {d:?}");
                            assert_eq!((got, &seps, escapes.complete()), (expected.0, &expected.1, expected.2.complete()), "{raw:?} {d:?}");
                            // The SSE2 path alone too: `segment` takes AVX2 where the processor
                            // has it.
                            #[cfg(target_arch = "x86_64")]
                            {
                                let (mut scan, mut seps, mut escapes) = (Scan::default(), Vec::new(), Escapes::new());
                                let (covered, end) = simd::sse2_only(&raw, 1000, &d, &mut seps, &mut escapes, &mut scan);
                                assert_eq!(covered, end.unwrap_or(raw.len()), "SSE2 alone: {raw:?}");
                                assert_eq!(((scan, end), seps, escapes), expected, "SSE2 alone: {raw:?} {d:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Which vector paths this machine takes: said, so that a run on a processor without
    /// AVX2 shows that only the SSE2 path was compared.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_paths_compared_here() {
        if std::arch::is_x86_feature_detected!("avx2") {
            println!("scan: AVX2 and SSE2 paths compared with the scalar one");
        } else {
            eprintln!("scan: NO AVX2 on this processor: only the SSE2 path was compared with the scalar one");
        }
        let raw = [b'a'; 64];
        let (mut seps, mut escapes) = (Vec::new(), Escapes::new());
        assert_eq!(segment(&raw, 0, &D, &mut seps, &mut escapes), (Scan::default(), None));
        assert!(seps.is_empty());
    }

    #[test]
    fn finds_separators_controls_and_non_ascii() {
        let raw = b"PID|1||123^^^H&1.2&ISO~456||DOE\\S\\JOHN|\x0b|caf\xc3\xa9|end of a long segment|";
        let (mut seps, mut escapes) = (Vec::new(), Escapes::new());
        let (scan, end) = segment(raw, 10, &D, &mut seps, &mut escapes);
        let expected: Vec<u32> = raw.iter().enumerate().filter(|(_, b)| **b == b'|').map(|(i, _)| 10 + i as u32).collect();
        assert_eq!(seps, expected);
        assert_eq!(end, None);
        assert_eq!(scan.repetitions, 1);
        assert!(escapes.any());
        let at: Vec<u32> = raw.iter().enumerate().filter(|(_, b)| **b == b'\\').map(|(i, _)| i as u32).collect();
        assert_eq!((escapes.kept(), escapes.complete()), (&at[..], true));
        assert!(scan.non_ascii);
        assert_eq!(scan.first_control, raw.iter().position(|&b| b == 0x0b));
    }

    #[test]
    fn stops_at_the_terminator_in_a_long_segment() {
        // The terminator in the second AVX2 block, followed by separators, escapes and
        // non-ASCII bytes of the next segment that must not be counted.
        let mut raw = b"OBX|1|TX|CODE^TEXT||a long enough value to fill a block|".to_vec();
        let cr = raw.len();
        raw.extend_from_slice(b"\rNTE|1|~~~|\\E\\|\xc3\xa9|\x01|");
        let (mut seps, mut escapes) = (Vec::new(), Escapes::new());
        let (scan, end) = segment(&raw, 0, &D, &mut seps, &mut escapes);
        assert_eq!(end, Some(cr));
        assert!(escapes.kept().is_empty());
        assert_eq!(seps.len(), raw[..cr].iter().filter(|&&b| b == b'|').count());
        assert_eq!(scan, Scan::default());
    }
}

#[cfg(test)]
mod escapes {
    use super::*;

    /// More escape characters than the list keeps: the first [`ESCAPES`] in order, and the
    /// list says it is not complete, in every path (the sequences straddle the blocks).
    #[test]
    fn a_long_report_keeps_the_first_and_says_there_are_more() {
        const D: Delimiters = Delimiters { field: b'|', component: b'^', repetition: b'~', escape: Some(b'\\'), subcomponent: Some(b'&') };
        for lines in [ESCAPES / 2 - 1, ESCAPES / 2, ESCAPES / 2 + 1, 100] {
            let mut raw = b"OBX|1|FT|||".to_vec();
            for k in 0..lines {
                raw.extend_from_slice(format!("line {k} of the report\\.br\\").as_bytes());
            }
            raw.extend_from_slice(b"|F\rNTE|\\E\\|");
            let all: Vec<u32> = raw.iter().take_while(|&&b| b != b'\r').enumerate().filter(|(_, b)| **b == b'\\').map(|(i, _)| i as u32).collect();
            assert_eq!(all.len(), 2 * lines);
            let (mut seps, mut escapes) = (Vec::new(), Escapes::new());
            segment(&raw, 0, &D, &mut seps, &mut escapes);
            assert!(escapes.any());
            assert_eq!(escapes.kept(), &all[..all.len().min(ESCAPES)], "{lines} lines");
            assert_eq!(escapes.complete(), all.len() <= ESCAPES, "{lines} lines");
        }
    }
}
