//! A count of the bytes the engine scans, for the linearity tests (`tests/tests/linearity.rs`).
//!
//! Timing cannot prove that work grows linearly with the input (the machine is shared, and a
//! quadratic term hides under a constant at small sizes); counting can. With the cargo feature
//! `work-counter`, every scan of the views (splitting on a separator, counting parts, finding a
//! field past the cached separators, decoding text) and every pass of the parser adds the bytes
//! it covers to a per-thread counter. Without the feature (the default) the calls compile to
//! nothing.

#[cfg(feature = "work-counter")]
thread_local! {
    static SCANNED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Records `n` bytes scanned.
#[inline(always)]
pub(crate) fn scanned(n: usize) {
    #[cfg(feature = "work-counter")]
    SCANNED.with(|c| c.set(c.get().saturating_add(n as u64)));
    #[cfg(not(feature = "work-counter"))]
    let _ = n;
}

/// Bytes scanned on this thread since the last [`reset`]; `None` without the `work-counter`
/// feature.
pub fn bytes_scanned() -> Option<u64> {
    #[cfg(feature = "work-counter")]
    return Some(SCANNED.with(std::cell::Cell::get));
    #[cfg(not(feature = "work-counter"))]
    None
}

/// Sets this thread's counter back to zero.
pub fn reset() {
    #[cfg(feature = "work-counter")]
    SCANNED.with(|c| c.set(0));
}
