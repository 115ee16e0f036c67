//! MLLP (the Minimal Lower Layer Protocol of HL7 v2) over TCP or TLS: framing, a server and a
//! client, with the timeouts and bounds integrators ask for.
//!
//! - [`frame`]: the framing itself, pure and synchronous ([`FrameDecoder`], [`encode`]).
//! - [`Config`]: limits (frame size = [`hl7_runtime::Limits::max_message_bytes`]), timeouts,
//!   connection bound.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
#![warn(missing_docs)]

pub mod config;
pub mod frame;

pub use config::Config;
pub use frame::{encode, Frame, FrameDecoder, FrameError};
