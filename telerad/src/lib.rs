//! Typed messages of the CI-SIS teleradiology guide (HL7 v2.5.1), generated at build time from
//! `spec/` by hl7-codegen, over the hl7-runtime engine.
//!
//! ```
//! let bytes = b"MSH|^~\\&|RIS|CHU_X|SI-TLR|PLAT-TLR|202310030830||ORM^O01^ORM_O01|12345|P|2.5.1|||||FRA|8859/15|||1.0^CISIS_TLR_HL7_V2\r";
//! let msg = telerad::flux1_orm_o01_nw::Message::parse(bytes).unwrap();
//! assert_eq!(msg.msh().unwrap().message_control_id().unwrap().text(), "12345");
//! ```
//!
//! Module per profile: `flux1_orm_o01_nw` (flow 1, ORM^O01 NW), `flux2_orm_o01_ca` (flow 2,
//! ORM^O01 CA), `flux3_oru_r01` (flow 3, ORU^R01 OK/OC), `flux4_omi_o23` (flow 4, OMI^O23 SR),
//! `ack`. [`AnyMessage`] picks the profile from the header.

// Library code handles every input by value (get, iterators, error paths): a panic on bad
// input would take down a receiver. Tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod generated {
    include!(concat!(env!("OUT_DIR"), "/mod.rs"));
}

pub use generated::*;
pub use hl7_runtime as runtime;

/// The derive macros of `hl7-derive`, for an application's own segments, datatypes, groups and
/// messages (`use telerad::derive::{Message, Segment};`). Their expansions name the runtime as
/// `::telerad::runtime` and the guide's datatypes as `::telerad::datatypes`, so an application
/// that depends on telerad alone needs nothing else; see `hl7-derive`'s docs for the
/// attributes and the example `telerad/examples/z_segment`.
pub mod derive {
    pub use hl7_derive::{DataType, Group, Message, Segment};
}

pub mod check;

pub use check::{check, check_with, Checked};

/// The README's Rust examples are compiled as doctests, so the README cannot drift from the API.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
