//! The two AVX2 helpers of the segment scan (`er7/scan.rs`), for processors that have AVX2
//! (detected at run time by the caller, which alone may call into this code).

use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_movemask_epi8};

/// The first thirty-two bytes of `block`.
#[inline]
#[allow(unsafe_code)] // an unaligned load, bounds asserted
#[target_feature(enable = "avx2")]
pub(crate) fn load(block: &[u8]) -> __m256i {
    assert!(block.len() >= 32, "a 32-byte block");
    // SAFETY: the assertion keeps the 32 bytes read in bounds; `loadu` has no alignment
    // requirement; the function's AVX2 requirement is its caller's (see the module docs).
    unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) }
}

/// One bit per byte lane, the lane's high bit.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn mask(v: __m256i) -> u32 {
    _mm256_movemask_epi8(v) as u32
}
