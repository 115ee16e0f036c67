//! Derive macros for HL7 v2 segments, datatypes, groups and messages that behave exactly like
//! the types `hl7-codegen` generates from `spec/`.
//!
//! ```ignore
//! use telerad::datatypes::{Ei, St};
//! use telerad::derive::Segment;
//! use telerad::runtime::typed::{Missing, Reps};
//!
//! /// ZDS: the Study Instance UID of an exam (a Z segment of the application).
//! #[derive(Segment, Debug)]
//! #[hl7(id = "ZDS", name = "Study")]
//! pub struct Zds<'a> {
//!     #[hl7(field = 1, usage = "R", len = 64)]
//!     pub study_instance_uid: Result<Ei<'a>, Missing>,
//!     #[hl7(field = 2, datatype = "ST", max = "*")]
//!     pub notes: Reps<'a, St<'a>>,
//! }
//! ```
//!
//! One expansion path: each derive reads the struct into the same description the code
//! generator builds from the spec and hands it to the same builders,
//! [`hl7_codegen::expand`]; see that module for why generated code does not itself go
//! through these derives.
//!
//! | derive | on | implements |
//! |---|---|---|
//! | `Segment` | one field per HL7 field: `#[hl7(field = N, ...)]` | `SegmentType`, `StructureElement`, `DEF` |
//! | `DataType` | one field per component: `#[hl7(component = N, ...)]` | `FromPart`, `DEF` |
//! | `Group` | one field per child (segment or group type) | `GroupType`, `StructureElement`, `DEF` |
//! | `Message` | one field per child of the message root | `MessageType`, `DEF`, `place`, `from_placed` |
//!
//! Attributes: `id`, `name`, `usage` (R, RE, O, C, X), `min`, `max` (an integer or `"*"`),
//! `len`, `datatype`, `table`, `value_set`, `fixed`, `values` (comma separated), `segment`
//! and `part` (the field keeping the whole segment or value), `choice`, `profile`,
//! `message_type`, `title`, `extends` (the path of the `MessageDef` a message extends),
//! `rule(id, expression, context, description, warning)`, `runtime` and `datatypes` (paths,
//! default `::telerad::runtime` and `::telerad::datatypes`). The type of each field follows its
//! usage and cardinality exactly as generated accessors do: `Result<T, Missing>` for R,
//! `Option<T>` otherwise, `Reps<'a, T>` (fields) or `Vec<T>` (structure elements) when it
//! repeats. Every mistake is reported at once, on the token at fault.
//!
//! ## Through telerad
//!
//! An application reaches these derives as `telerad::derive` and depends on `telerad` alone:
//! `telerad` re-exports them, and re-exports the runtime as `telerad::runtime`. What a derive
//! expands to names the runtime and the datatypes by absolute paths, which must resolve in the
//! application's crate, so both defaults point into telerad: `::telerad::runtime` (the same
//! crate as `hl7_runtime`, re-exported) and `::telerad::datatypes`. A crate that uses
//! `hl7-derive` without telerad names its own with `#[hl7(runtime = "::hl7_runtime",
//! datatypes = "...")]` on each derived type.

// The macro reports every mistake as a compile error and never panics.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod attrs;
mod common;
mod datatype;
mod errors;
mod segment;
mod structure;

use proc_macro::TokenStream;

/// A segment: see the crate docs.
#[proc_macro_derive(Segment, attributes(hl7))]
pub fn derive_segment(input: TokenStream) -> TokenStream {
    run(input, segment::derive)
}

/// A composite datatype: see the crate docs.
#[proc_macro_derive(DataType, attributes(hl7))]
pub fn derive_datatype(input: TokenStream) -> TokenStream {
    run(input, datatype::derive)
}

/// A group of a message structure: see the crate docs.
#[proc_macro_derive(Group, attributes(hl7))]
pub fn derive_group(input: TokenStream) -> TokenStream {
    run(input, structure::derive_group)
}

/// A message structure and its profile: see the crate docs.
#[proc_macro_derive(Message, attributes(hl7))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    run(input, structure::derive_message)
}

fn run(input: TokenStream, derive: fn(&syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => derive(&input).unwrap_or_else(syn::Error::into_compile_error).into(),
        Err(e) => e.into_compile_error().into(),
    }
}
