//! The floor: the least any ER7 parser must do, one pass recording the position of every
//! delimiter byte (field, component, repetition, escape, subcomponent, segment terminator)
//! into a preallocated vector. No parser can be faster than finding its delimiters, so the
//! benches report every parser's time as a ratio to this one.

/// The six bytes the floor looks for, in the message's own delimiters.
pub fn delimiters_of(bytes: &[u8]) -> [u8; 6] {
    // MSH|^~\&: field separator at 3, then component, repetition, escape, subcomponent.
    let at = |i: usize, default: u8| bytes.get(i).copied().unwrap_or(default);
    [at(3, b'|'), at(4, b'^'), at(5, b'~'), at(6, b'\\'), at(7, b'&'), b'\r']
}

/// Records the offset of every byte of `bytes` equal to one of `delims` into `out`
/// (cleared first). `out` should have a capacity of `bytes.len()` so that nothing is
/// allocated; the result is the same without it.
///
/// Uses AVX2 when the CPU has it (detected at run time), SSE2 otherwise on x86_64, and a
/// scalar loop on other architectures.
pub fn scan(bytes: &[u8], delims: [u8; 6], out: &mut Vec<u32>) {
    out.clear();
    if out.capacity() < bytes.len() {
        out.reserve(bytes.len());
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            let done = unsafe { simd::scan_avx2(bytes, delims, out) };
            return scan_scalar_from(bytes, done, delims, out);
        }
        // SAFETY: SSE2 is part of the x86_64 baseline.
        let done = unsafe { simd::scan_sse2(bytes, delims, out) };
        scan_scalar_from(bytes, done, delims, out)
    }
    #[cfg(not(target_arch = "x86_64"))]
    scan_scalar_from(bytes, 0, delims, out)
}

/// The scalar reference (and the tail of the SIMD scans): positions from `start` on.
pub fn scan_scalar_from(bytes: &[u8], start: usize, delims: [u8; 6], out: &mut Vec<u32>) {
    for (i, b) in bytes.iter().enumerate().skip(start) {
        if delims.contains(b) {
            out.push(i as u32);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// Pushes the positions of set bits of `mask`, offset by `base`.
    #[inline(always)]
    fn push_mask(mut mask: u32, base: usize, out: &mut Vec<u32>) {
        while mask != 0 {
            out.push(base as u32 + mask.trailing_zeros());
            mask &= mask - 1;
        }
    }

    /// Scans whole 32-byte blocks; returns how many bytes it covered.
    ///
    /// # Safety
    /// The CPU must support AVX2. Loads are unaligned (`loadu`) and only of the
    /// `chunks_exact` blocks, so they stay inside `bytes`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn scan_avx2(bytes: &[u8], d: [u8; 6], out: &mut Vec<u32>) -> usize {
        // SAFETY (whole body): AVX2 is enabled by the caller's check; each load reads the 32
        // bytes of one `chunks_exact(32)` block.
        let s = [
            _mm256_set1_epi8(d[0] as i8),
            _mm256_set1_epi8(d[1] as i8),
            _mm256_set1_epi8(d[2] as i8),
            _mm256_set1_epi8(d[3] as i8),
            _mm256_set1_epi8(d[4] as i8),
            _mm256_set1_epi8(d[5] as i8),
        ];
        let mut blocks = bytes.chunks_exact(32);
        let mut base = 0;
        for block in &mut blocks {
            let v = _mm256_loadu_si256(block.as_ptr().cast());
            let m = _mm256_or_si256(
                _mm256_or_si256(
                    _mm256_or_si256(_mm256_cmpeq_epi8(v, s[0]), _mm256_cmpeq_epi8(v, s[1])),
                    _mm256_or_si256(_mm256_cmpeq_epi8(v, s[2]), _mm256_cmpeq_epi8(v, s[3])),
                ),
                _mm256_or_si256(_mm256_cmpeq_epi8(v, s[4]), _mm256_cmpeq_epi8(v, s[5])),
            );
            push_mask(_mm256_movemask_epi8(m) as u32, base, out);
            base += 32;
        }
        base
    }

    /// Scans whole 16-byte blocks; returns how many bytes it covered.
    ///
    /// # Safety
    /// SSE2 is baseline on x86_64; loads are unaligned and only of whole blocks.
    #[target_feature(enable = "sse2")]
    pub unsafe fn scan_sse2(bytes: &[u8], d: [u8; 6], out: &mut Vec<u32>) -> usize {
        // SAFETY (whole body): each load reads the 16 bytes of one `chunks_exact(16)` block.
        let s = [
            _mm_set1_epi8(d[0] as i8),
            _mm_set1_epi8(d[1] as i8),
            _mm_set1_epi8(d[2] as i8),
            _mm_set1_epi8(d[3] as i8),
            _mm_set1_epi8(d[4] as i8),
            _mm_set1_epi8(d[5] as i8),
        ];
        let mut blocks = bytes.chunks_exact(16);
        let mut base = 0;
        for block in &mut blocks {
            let v = _mm_loadu_si128(block.as_ptr().cast());
            let m = _mm_or_si128(
                _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, s[0]), _mm_cmpeq_epi8(v, s[1])),
                    _mm_or_si128(_mm_cmpeq_epi8(v, s[2]), _mm_cmpeq_epi8(v, s[3])),
                ),
                _mm_or_si128(_mm_cmpeq_epi8(v, s[4]), _mm_cmpeq_epi8(v, s[5])),
            );
            push_mask(_mm_movemask_epi8(m) as u32 & 0xFFFF, base, out);
            base += 16;
        }
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(bytes: &[u8], d: [u8; 6]) -> Vec<u32> {
        let mut v = Vec::new();
        scan_scalar_from(bytes, 0, d, &mut v);
        v
    }

    #[test]
    fn simd_matches_the_scalar_reference() {
        let mut inputs: Vec<Vec<u8>> = crate::ALL.iter().map(|n| crate::fixture(n)).collect();
        // Every length around the block sizes, with delimiters at the block edges.
        for len in 0..100 {
            inputs.push((0..len).map(|i| b"ab|^~\\&\rxyz\xff\x80"[(i * 7 + len) % 13]).collect());
        }
        for bytes in &inputs {
            let d = delimiters_of(b"MSH|^~\\&");
            let mut out = Vec::with_capacity(bytes.len());
            scan(bytes, d, &mut out);
            assert_eq!(out, reference(bytes, d), "len {}", bytes.len());
            #[cfg(target_arch = "x86_64")]
            {
                let mut sse = Vec::with_capacity(bytes.len());
                // SAFETY: SSE2 is baseline on x86_64.
                let done = unsafe { simd::scan_sse2(bytes, d, &mut sse) };
                scan_scalar_from(bytes, done, d, &mut sse);
                assert_eq!(sse, reference(bytes, d), "sse2, len {}", bytes.len());
            }
        }
    }

    #[test]
    fn preallocated_vector_is_not_reallocated() {
        let bytes = crate::fixture(crate::ORU_FT);
        let mut out = Vec::with_capacity(bytes.len());
        let ptr = out.as_ptr();
        scan(&bytes, delimiters_of(&bytes), &mut out);
        assert_eq!(out.as_ptr(), ptr);
        assert!(out.len() > 100);
    }
}
