//! The exchange of the CI-SIS teleradiology guide between a RIS and a teleradiology platform:
//! the durable store, the order workflow, the per-message receive pipeline, sending, and the
//! `telerad` command line.
//!
//! This crate carries the heavy dependencies (SQLite, and with the transport tokio and
//! rustls) so that a user of the typed messages (`telerad`) compiles none of them.
//!
//! Modules: [`receive`] (the per-message pipeline: parse, profile, role, validation, order
//! events), [`store`] (the durable store, its writer and group commit), [`workflow`] (order
//! states and transitions), [`inspect`] (reading the store: `telerad messages`, `show`), [`respond`] (the platform's flow-3 answer), [`metrics`] (`serve --metrics`), [`send`] (sending with
//! reconnection, recording what was sent), [`serve`] (the MLLP handler), [`senders`] (who
//! may send), [`batch`] (message
//! files); `telerad validate` over folders: [`inputs`] (files and the messages in them),
//! [`validation`] (checking on every core, in order), [`summary`], [`junit`], [`report`] (the
//! HTML report), [`hints`] (errors in the command's terms); [`failure`] (a command's exit code).
//! The `telerad` command's own modules (its clap types, the subcommands, `split`, the load
//! tool) belong to the binary (`src/bin/telerad/`), not to this library's API.
//!
//! Receiving one message without the network, as `telerad serve` does for each frame:
//!
//! ```
//! use telerad_exchange::receive::{prepare, Role};
//! use telerad_exchange::store::{Store, StoreOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(&dir.path().join("platform.db"), StoreOptions::default())?;
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flux1_nw_minimal.hl7"))?;
//! // Parse, validate and read the order events (in parallel, on any thread)…
//! let prepared = prepare(bytes, Role::Platform, &hl7_runtime::Limits::DEFAULT);
//! // …then the workflow, the commit, and the ACK (written to the peer only after this).
//! let ack = store.receive_blocking(prepared);
//! assert!(String::from_utf8_lossy(&ack).contains("\rMSA|AA|CHUXF1-20260106-0001\r"));
//! store.close();
//! # Ok(()) }
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod batch;
pub mod clock;
pub mod failure;
pub mod hints;
pub mod inputs;
pub mod inspect;
pub mod junit;
pub mod metrics;
pub mod pg;
pub mod receive;
pub mod report;
pub mod respond;
pub mod send;
pub mod senders;
pub mod serve;
pub mod store;
pub mod summary;
pub mod validation;
pub mod workflow;
