//! hl7-runtime: the hand-written engine under the generated teleradiology types.
//!
//! ER7 layer (owned by the parser work): `charset`, `escape`, `error`, `er7`, `owned`.
//! Structure layer: `meta` (static definitions that generated code emits), `structure`
//! (placing segments into groups), `path` (generic access by HL7 path), `json`.

pub mod meta;
pub mod structure;
