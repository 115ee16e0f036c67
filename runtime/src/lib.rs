//! hl7-runtime: the hand-written engine under the generated teleradiology types.
//!
//! - ER7: [`er7`] (zero-copy parsing, views, paths over the flat message), [`escape`],
//!   [`charset`] (MSH-18), [`error`] (located errors), [`owned`] (the owned model that builders
//!   and encoding use) and [`build`] (what generated builders call).
//! - Structure: [`meta`] (the static definitions generated code emits), [`structure`]
//!   (placing segments into groups, structure check), [`typed`] (what generated views are
//!   written in), [`select`] (choosing the profile), [`path`] (generic access by group path),
//!   [`json`].
//! - Conformance: [`validate`] (every rule of a profile, findings in HL7 terms) and [`ack`]
//!   (the acknowledgement built from them).

// Library code handles every input by value (get, iterators, error paths): a panic on bad
// input would take down a receiver. Tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
// `unsafe` is allowed only where an SSE2 intrinsic is called (`sse2.rs`, `er7/scan.rs`,
// `escape.rs`), each site with its `#[allow]` and SAFETY comment; anything else fails to build.
#![deny(unsafe_code)]

pub mod build;
pub mod charset;
pub mod er7;
pub mod error;
pub mod escape;
pub mod json;
pub mod limits;
pub mod meta;
pub mod owned;
pub mod path;
mod plan;
pub mod select;
#[cfg(target_arch = "x86_64")]
mod sse2;
#[cfg(target_arch = "x86_64")]
mod avx2;
pub mod structure;
pub mod typed;
pub mod work;

pub mod ack;
pub mod validate;

pub use charset::Charset;
pub use er7::{Component, Delimiters, Field, Message, ParseOptions, Repetition, Segment, Subcomponent};
pub use error::{Location, ParseError, ParseErrorKind};
pub use limits::Limits;

/// What generated code needs and users should not name. Not covered by semver.
#[doc(hidden)]
pub mod __private {
    pub use serde;

    /// Serialises a placed message as the JSON shape of [`crate::json`].
    pub fn serialize_placed<S: serde::Serializer>(
        placed: &crate::typed::Placed<'_>,
        registry: &crate::meta::Registry,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&crate::json::message(placed, registry), serializer)
    }
}
