//! hl7-spec-tools: what library authors run when the guide is revised (see the README's
//! "Regenerating from a revised guide"): `extract` reads the guide's pages into the
//! table-derived spec files, `diff` says what changed between two spec folders in HL7 terms and
//! in terms of the generated API. The `hl7-codegen` command is a thin shell over this crate.

pub mod coverage;
pub mod diff;
pub mod extract;
