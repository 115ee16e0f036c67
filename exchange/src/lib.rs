//! The exchange of the CI-SIS teleradiology guide between a RIS and a teleradiology platform:
//! the durable store, the order workflow, the per-message receive pipeline, sending, and the
//! `telerad` command line.
//!
//! This crate carries the heavy dependencies (SQLite, and with the transport tokio and
//! rustls) so that a user of the typed messages (`telerad`) compiles none of them.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod batch;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod load;
pub mod receive;
pub mod respond;
pub mod send;
pub mod serve;
pub mod store;
pub mod workflow;
