//! hl7-runtime: the hand-written engine under the generated teleradiology types.
//!
//! ER7 layer (owned by the parser work): `charset`, `escape`, `error`, `er7`, `owned`.
//! Structure layer: `meta` (static definitions that generated code emits), `structure`
//! (placing segments into groups), `path` (generic access by HL7 path), `json`.

pub mod meta;
pub mod structure;
pub mod typed;
pub mod json;
pub mod path;
pub mod select;

pub mod charset;
pub mod er7;
pub mod error;
pub mod escape;
pub mod owned;

pub use charset::Charset;
pub use er7::{Component, Delimiters, Field, Message, ParseOptions, Repetition, Segment, Subcomponent};
pub use error::{Location, ParseError, ParseErrorKind};
pub mod build;

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
pub mod validate;
pub mod ack;
