//! Code shared by the bench files (not a bench target: no `main.rs` here).

pub mod workloads;
