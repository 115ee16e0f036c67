//! MLLP (the Minimal Lower Layer Protocol of HL7 v2) over TCP or TLS: framing, a server and a
//! client, with the timeouts and bounds integrators ask for.
//!
//! - [`frame`]: the framing itself, pure and synchronous ([`FrameDecoder`], [`encode`]).
//! - [`Config`]: limits (frame size = [`hl7_runtime::Limits::max_message_bytes`], memory for
//!   frames being read across connections), timeouts (per read, per frame, TLS handshake),
//!   connection bounds (in all, per peer address).
//! - [`serve`] with a [`Handler`]: the receiving side; [`shutdown_signal`] for SIGINT/SIGTERM.
//! - [`Client`] and [`send_with_retry`]: the sending side.
//! - [`tls`]: rustls configurations (ring provider, optional mutual TLS) from PEM.
//! - [`peer`]: the subject of the TLS client certificate, for the handler
//!   ([`client_certificate_subject`]).
//!
//! The transport carries bytes: it neither parses nor acknowledges HL7 by itself; the handler
//! builds the ACK (`hl7_runtime::ack`) and returns its bytes.
//!
//! # From synchronous code
//!
//! Everything here is async on tokio. A command-line tool drives it from a runtime it builds:
//!
//! ```no_run
//! fn send(message: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
//!     let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//!     let config = hl7_mllp::Config::default();
//!     let policy = hl7_mllp::RetryPolicy::default();
//!     Ok(runtime.block_on(hl7_mllp::send_with_retry("127.0.0.1:2575", None, &config, message, policy))?)
//! }
//! ```
//!
//! A server wants the multi-threaded runtime (`#[tokio::main]` or `Builder::new_multi_thread`).
//! The rustls, tokio-rustls and rustls-pki-types crates are re-exported so callers name the
//! same versions as this crate.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod frame;
mod io;
pub mod peer;
pub mod server;
pub mod tls;

pub use client::{send_with_retry, Client, ClientError, RetryPolicy, Stage};
pub use config::{Config, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_INFLIGHT_BYTES};
pub use frame::{encode, Frame, FrameDecoder, FrameError};
pub use peer::client_certificate_subject;
pub use server::{serve, shutdown_signal, CloseReason, Handler, Inbound, ServerEvent};

pub use rustls;
pub use rustls_pki_types;
pub use tokio_rustls;
