//! The log of every subcommand, on standard error through `tracing`: a line per event with
//! its time (UTC, RFC 3339) and level, as text or one JSON object per line. The level comes from
//! `--log-level`, else `RUST_LOG`, else INFO (DEBUG with `serve --verbose`); both take
//! `tracing-subscriber`'s filter syntax (`warn`, `info,telerad::connection=warn`…).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::cli::Failure;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `TIME LEVEL TARGET: MESSAGE field=value…`.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the fields.
    Json,
}

/// Installs the subscriber. `level`: `--log-level`; `default`: the level without it nor
/// `RUST_LOG`.
pub fn init(format: LogFormat, level: Option<&str>, default: &str) -> Result<(), Failure> {
    let filter = match (level, std::env::var("RUST_LOG")) {
        (Some(l), _) => EnvFilter::try_new(l).map_err(|e| Failure::Usage(format!("--log-level `{l}`: {e}")))?,
        (None, Ok(l)) if !l.trim().is_empty() => EnvFilter::try_new(&l).map_err(|e| Failure::Usage(format!("RUST_LOG `{l}`: {e}")))?,
        _ => EnvFilter::new(default),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init(),
    };
    result.map_err(|e| Failure::Usage(format!("cannot start the log: {e}")))
}
