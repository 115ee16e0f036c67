//! Derive macros for HL7 v2 segments, datatypes and messages.
//!
//! Not written yet: `#[derive(Segment)]`, `#[derive(DataType)]`, `#[derive(Message)]` and
//! `#[derive(Group)]` are the scope of their own issue ("Derive macros: custom segments,
//! datatypes and messages that behave exactly like generated ones"). The crate exists so the
//! workspace layout is the one that issue builds on; it exports nothing today.
