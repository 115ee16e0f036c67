//! The two SSE2 helpers the byte scans share (`er7/scan.rs`, `escape.rs`): SSE2 is part of the
//! x86-64 baseline, so these need no run-time detection.

use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8};

/// The first sixteen bytes of `block`.
#[inline]
#[allow(unsafe_code)] // an unaligned load, bounds asserted
#[target_feature(enable = "sse2")]
pub(crate) fn load(block: &[u8]) -> __m128i {
    assert!(block.len() >= 16, "a 16-byte block");
    // SAFETY: the assertion keeps the 16 bytes read in bounds; `loadu` has no alignment
    // requirement; SSE2 is part of the x86-64 baseline.
    unsafe { _mm_loadu_si128(block.as_ptr().cast::<__m128i>()) }
}

/// One bit per byte lane, the lane's high bit.
#[inline]
#[target_feature(enable = "sse2")]
pub(crate) fn mask(v: __m128i) -> u32 {
    _mm_movemask_epi8(v) as u32
}
