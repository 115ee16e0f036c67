//! One pass over a segment that finds what the parser's checks need: the field separators
//! (stored into the message's index as it goes), how many repetition separators there are,
//! the first control character, whether any byte is non-ASCII and whether an escape character
//! occurs.
//!
//! The parser used to make a pass per question (`memchr_iter` on the field separator, a count
//! of repetition separators, a word-at-a-time control scan, the character set's validation,
//! `memchr` on the escape character). The separators of a segment are dense (a field every
//! eight bytes or so), so one `memchr` call per field cost more in call overhead than in
//! scanning; and a pure-ASCII segment, the common case, needs no character-set validation
//! at all. Here thirty-two bytes are classified at once where the processor has AVX2
//! (detected at run time), sixteen with SSE2 (which every x86-64 processor has) otherwise and
//! for the tail, and a scalar loop on other architectures.

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
    /// Whether the escape character occurs.
    pub escape: bool,
}

impl Scan {
    fn byte(&mut self, at: usize, b: u8, d: &Delimiters, base: u32, seps: &mut Vec<u32>) {
        if b == d.field {
            // Offsets fit in u32: the parser rejects larger inputs.
            seps.push(base + at as u32);
        }
        self.repetitions += usize::from(b == d.repetition);
        self.escape |= Some(b) == d.escape;
        self.non_ascii |= b >= 0x80;
        if self.first_control.is_none() && b < 0x20 && b != b'\t' {
            self.first_control = Some(at);
        }
    }
}

/// Scans `raw` (a segment starting at absolute offset `base`), appending the absolute offset
/// of every field separator to `seps`.
pub(crate) fn segment(raw: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>) -> Scan {
    let mut scan = Scan::default();
    let done = simd::blocks(raw, base, d, seps, &mut scan);
    for (i, &b) in raw.iter().enumerate().skip(done) {
        scan.byte(i, b, d, base, seps);
    }
    scan
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{__m128i, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_set1_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_set1_epi8};

    use crate::{avx2, sse2};

    use super::{Delimiters, Scan};

    /// Classifies `raw` thirty-two bytes at a time with AVX2 when the processor has it, then
    /// sixteen at a time with SSE2, the tail padded; returns how many bytes it covered (all of
    /// them).
    pub(super) fn blocks(raw: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, scan: &mut Scan) -> usize {
        let mut done = 0;
        // A segment under 32 bytes has no block for AVX2: not worth the detection's load.
        if raw.len() >= 32 && std::arch::is_x86_feature_detected!("avx2") {
            done = avx2_path(raw, base, d, seps, scan);
        }
        sse2_path(raw, done, base, d, seps, scan)
    }

    /// [`blocks`] without AVX2: the path of processors that lack it, which the tests take too.
    #[cfg(test)]
    pub(super) fn sse2_only(raw: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, scan: &mut Scan) -> usize {
        sse2_path(raw, 0, base, d, seps, scan)
    }

    #[allow(unsafe_code)] // calls the AVX2 function, see SAFETY
    fn avx2_path(raw: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, scan: &mut Scan) -> usize {
        // SAFETY: the caller detected AVX2 on this processor at run time, which is all
        // `avx2_blocks` asks.
        unsafe { avx2_blocks(raw, base, d, seps, scan) }
    }

    #[allow(unsafe_code)] // calls the SSE2 function, see SAFETY
    fn sse2_path(raw: &[u8], from: usize, base: u32, d: &Delimiters, seps: &mut Vec<u32>, scan: &mut Scan) -> usize {
        // SAFETY: SSE2 is part of the x86-64 baseline: every processor this code can run on
        // has it (the compiler enables it for the target), which is all `sse2_blocks` asks.
        unsafe { sse2_blocks(raw, from, base, d, seps, scan) }
    }

    /// The whole blocks of thirty-two bytes of `raw`; returns where they end (the rest is
    /// left to the SSE2 path).
    #[target_feature(enable = "avx2")]
    fn avx2_blocks(raw: &[u8], base: u32, d: &Delimiters, seps: &mut Vec<u32>, scan: &mut Scan) -> usize {
        // `as i8`: the intrinsics take signed bytes; only the bit pattern matters.
        let n = Needles {
            field: _mm256_set1_epi8(d.field as i8),
            repetition: _mm256_set1_epi8(d.repetition as i8),
            escape: _mm256_set1_epi8(d.escape.unwrap_or(d.field) as i8),
            has_escape: d.escape.is_some(),
            space: _mm256_set1_epi8(0x20),
            tab: _mm256_set1_epi8(b'\t' as i8),
        };
        let mut at = 0usize;
        for chunk in raw.chunks_exact(32) {
            let v = avx2::load(chunk);
            // As `classify`, on thirty-two lanes, all of them real.
            let below = avx2::mask(_mm256_cmpgt_epi8(n.space, v));
            let repetitions = avx2::mask(_mm256_cmpeq_epi8(v, n.repetition));
            let escapes = if n.has_escape { avx2::mask(_mm256_cmpeq_epi8(v, n.escape)) } else { 0 };
            let m = avx2::mask(_mm256_cmpeq_epi8(v, n.field));
            if below | repetitions | escapes | m != 0 {
                let high = avx2::mask(v);
                let controls = below & !high & !avx2::mask(_mm256_cmpeq_epi8(v, n.tab));
                record(at, m, repetitions, escapes, high, controls, base, seps, scan);
            }
            at += 32;
        }
        at
    }

    /// Sixteen bytes at a time from `from`, the tail padded.
    #[target_feature(enable = "sse2")]
    fn sse2_blocks(raw: &[u8], from: usize, base: u32, d: &Delimiters, seps: &mut Vec<u32>, scan: &mut Scan) -> usize {
        let needles = Needles {
            field: _mm_set1_epi8(d.field as i8),
            repetition: _mm_set1_epi8(d.repetition as i8),
            // Without an escape character, compare against the field separator again and
            // ignore the result (`has_escape`).
            escape: _mm_set1_epi8(d.escape.unwrap_or(d.field) as i8),
            has_escape: d.escape.is_some(),
            space: _mm_set1_epi8(0x20),
            tab: _mm_set1_epi8(b'\t' as i8),
        };
        let mut at = from;
        let mut chunks = raw.get(from..).unwrap_or(&[]).chunks_exact(16);
        for chunk in &mut chunks {
            classify(sse2::load(chunk), at, 0xFFFF, &needles, base, seps, scan);
            at += 16;
        }
        // The tail goes through the same path, padded, with the padding lanes masked out.
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut padded = [0u8; 16];
            if let Some(head) = padded.get_mut(..tail.len()) {
                head.copy_from_slice(tail);
            }
            classify(sse2::load(&padded), at, (1u32 << tail.len()) - 1, &needles, base, seps, scan);
            at += tail.len();
        }
        at
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
    }

    /// Classifies the sixteen bytes at offset `at` of the segment, of which the lanes set
    /// in `lanes` are real (the others are the padding of the tail).
    #[target_feature(enable = "sse2")]
    #[allow(clippy::too_many_arguments)]
    fn classify(v: __m128i, at: usize, lanes: u32, n: &Needles<__m128i>, base: u32, seps: &mut Vec<u32>, scan: &mut Scan) {
        // Signed comparison: bytes from 0x80 are negative, so "below 0x20" also catches them
        // (and TAB): one mask says whether any byte is high, a control or a TAB.
        let below = sse2::mask(_mm_cmplt_epi8(v, n.space)) & lanes;
        let repetitions = sse2::mask(_mm_cmpeq_epi8(v, n.repetition)) & lanes;
        let escapes = if n.has_escape { sse2::mask(_mm_cmpeq_epi8(v, n.escape)) & lanes } else { 0 };
        let m = sse2::mask(_mm_cmpeq_epi8(v, n.field)) & lanes;
        // Most blocks of a long value (a Base64 document, a report's text) hold none of these:
        // nothing to record.
        if below | repetitions | escapes | m == 0 {
            return;
        }
        let high = sse2::mask(v) & lanes;
        let controls = below & !high & !sse2::mask(_mm_cmpeq_epi8(v, n.tab));
        record(at, m, repetitions, escapes, high, controls, base, seps, scan);
    }

    /// What a block's masks say (one bit per lane, from `at`): field separators, repetition
    /// separators, escape characters, high bytes and controls.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn record(at: usize, mut m: u32, repetitions: u32, escapes: u32, high: u32, controls: u32, base: u32, seps: &mut Vec<u32>, scan: &mut Scan) {
        // Counting bits takes a dozen instructions without POPCNT, which the x86-64 baseline
        // lacks, so it is left to the blocks that have some.
        if repetitions != 0 {
            scan.repetitions += repetitions.count_ones() as usize;
        }
        scan.escape |= escapes != 0;
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
    use super::{Delimiters, Scan};

    /// No vector path here: the scalar loop covers everything.
    pub(super) fn blocks(_: &[u8], _: u32, _: &Delimiters, _: &mut Vec<u32>, _: &mut Scan) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(raw: &[u8], base: u32, d: &Delimiters) -> (Scan, Vec<u32>) {
        let mut scan = Scan::default();
        let mut seps = Vec::new();
        for (i, &b) in raw.iter().enumerate() {
            scan.byte(i, b, d, base, &mut seps);
        }
        (scan, seps)
    }

    const D: Delimiters = Delimiters { field: b'|', component: b'^', repetition: b'~', escape: Some(b'\\'), subcomponent: Some(b'&') };

    #[test]
    fn the_vector_path_agrees_with_the_scalar_one_at_every_length_and_position() {
        let alphabet: &[u8] = b"|~\\^&aZ\t\x01\x1f \x7f\x80\xc3\xff";
        for len in 0usize..100 {
            for (k, &special) in alphabet.iter().enumerate() {
                for pos in [0, len / 3, len / 2, len.saturating_sub(1)] {
                    let mut raw: Vec<u8> = (0..len).map(|i| alphabet[(i * 7 + k) % 7 + 4]).collect();
                    if let Some(b) = raw.get_mut(pos) {
                        *b = special;
                    }
                    for d in [D, Delimiters { escape: None, ..D }] {
                        let mut seps = Vec::new();
                        let got = segment(&raw, 1000, &d, &mut seps);
                        assert_eq!((got, seps), reference(&raw, 1000, &d), "{raw:?} {d:?}");
                        // The SSE2 path alone too: `segment` takes AVX2 where the processor
                        // has it.
                        #[cfg(target_arch = "x86_64")]
                        {
                            let (mut scan, mut seps) = (Scan::default(), Vec::new());
                            assert_eq!(simd::sse2_only(&raw, 1000, &d, &mut seps, &mut scan), raw.len());
                            assert_eq!((scan, seps), reference(&raw, 1000, &d), "SSE2 alone: {raw:?} {d:?}");
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
        let mut seps = Vec::new();
        assert_eq!(segment(&raw, 0, &D, &mut seps), Scan::default());
        assert!(seps.is_empty());
    }

    #[test]
    fn finds_separators_controls_and_non_ascii() {
        let raw = b"PID|1||123^^^H&1.2&ISO~456||DOE\\S\\JOHN|\x0b|caf\xc3\xa9|end of a long segment|";
        let mut seps = Vec::new();
        let scan = segment(raw, 10, &D, &mut seps);
        let expected: Vec<u32> = raw.iter().enumerate().filter(|(_, b)| **b == b'|').map(|(i, _)| 10 + i as u32).collect();
        assert_eq!(seps, expected);
        assert_eq!(scan.repetitions, 1);
        assert!(scan.escape);
        assert!(scan.non_ascii);
        assert_eq!(scan.first_control, raw.iter().position(|&b| b == 0x0b));
    }
}
