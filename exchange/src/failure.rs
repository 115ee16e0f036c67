//! The outcome of a `telerad` command that did not succeed, mapped to the exit code contract
//! (the README's "Command line"): the command's own modules and [`crate::validation::run`]
//! return it.

use std::process::ExitCode;

/// Outcome of one command, mapped to the exit code contract.
#[derive(Debug)]
pub enum Failure {
    /// Exit 1: the message was not accepted.
    Rejected(String),
    /// Exit 2: usage, I/O or configuration.
    Usage(String),
}

impl Failure {
    /// 1 for [`Failure::Rejected`], 2 for [`Failure::Usage`].
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Rejected(_) => ExitCode::from(1),
            Failure::Usage(_) => ExitCode::from(2),
        }
    }
}

/// An error writing the command's output: a usage failure (exit 2).
pub fn io_failure(e: std::io::Error) -> Failure {
    Failure::Usage(format!("cannot write output: {e}"))
}
