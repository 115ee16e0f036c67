//! Profile validation: every rule of the guide evaluated by one engine over the static
//! definitions, returning every finding (never the first only).

pub mod finding;

pub use finding::{Erl, Finding, Severity};
