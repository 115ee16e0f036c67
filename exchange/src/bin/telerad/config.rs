//! `telerad serve --config FILE`: every option of `serve` in a TOML file, each key the flag's
//! name without its dashes (`max-connections = 1024`), plus the allowed senders as `[[sender]]`
//! tables (the entries of a `--senders` file). A flag given on the command line wins over the
//! file. Relative paths in the file are relative to the file's folder. `telerad config check
//! FILE` reads one and reports every problem; `exchange/deploy/serve.toml` is the documented
//! example.

use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::ArgMatches;

use crate::commands::{ProcessingIdArg, RoleArg, ServeArgs};
use crate::logging::LogFormat;

/// The file. Unknown keys are refused: a misspelt key must not silently drop a setting.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeConfig {
    pub role: Option<RoleArg>,
    pub listen: Option<String>,
    pub store: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_client_ca: Option<PathBuf>,
    pub allow_plaintext: Option<bool>,
    pub application: Option<String>,
    pub facility: Option<String>,
    pub processing_id: Option<ProcessingIdArg>,
    /// A senders file (JSON), or:
    pub senders: Option<PathBuf>,
    /// the senders themselves.
    #[serde(default)]
    pub sender: Vec<telerad_exchange::senders::Entry>,
    pub max_connections: Option<usize>,
    pub max_connections_per_peer: Option<usize>,
    pub max_message_bytes: Option<usize>,
    pub max_inflight_bytes: Option<usize>,
    pub frame_timeout: Option<u64>,
    pub handshake_timeout: Option<u64>,
    pub verbose: Option<bool>,
    pub charset_fallback: Option<CharsetFallbackName>,
    pub metrics: Option<String>,
    pub log_format: Option<LogFormatName>,
    pub log_level: Option<String>,
}

/// `charset-fallback = "windows-1252"`.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub enum CharsetFallbackName {
    #[serde(rename = "windows-1252")]
    Windows1252,
}

/// `log-format = "text"` or `"json"`.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormatName {
    Text,
    Json,
}

/// Reads and parses `path`; the error names the file, and the line and column of a syntax
/// error or an unknown key.
pub fn load(path: &Path) -> Result<ServeConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the configuration file {}: {e}", path.display()))?;
    let mut config: ServeConfig = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.to_string().trim_end()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for p in [&mut config.store, &mut config.tls_cert, &mut config.tls_key, &mut config.tls_client_ca, &mut config.senders].into_iter().flatten() {
        // A PostgreSQL URL is not a file beside the configuration.
        if p.is_relative() && telerad_exchange::pg::url_of(p).is_none() {
            *p = base.join(&*p);
        }
    }
    if config.senders.is_some() && !config.sender.is_empty() {
        return Err(format!("{}: give `senders` (a file) or `[[sender]]` tables, not both", path.display()));
    }
    Ok(config)
}

/// Whether the flag `id` was given on the command line.
fn given(matches: &ArgMatches, id: &str) -> bool {
    matches.try_get_raw(id).is_ok() && matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// Fills `args` with what the file holds and the command line did not give; returns the
/// senders of `[[sender]]` tables, and sets the log's format and level unless given.
pub fn apply(config: ServeConfig, args: &mut ServeArgs, matches: &ArgMatches, log_format: &mut LogFormat, log_level: &mut Option<String>) -> Vec<telerad_exchange::senders::Entry> {
    macro_rules! fill {
        ($($field:ident),*) => {$(
            if let Some(v) = config.$field {
                if !given(matches, stringify!($field)) {
                    args.$field = v.into();
                }
            }
        )*};
    }
    fill!(role, listen, store, tls_cert, tls_key, tls_client_ca, allow_plaintext, application, facility, processing_id, senders);
    fill!(max_connections, max_connections_per_peer, max_message_bytes, max_inflight_bytes, frame_timeout, handshake_timeout, verbose, metrics);
    if let Some(CharsetFallbackName::Windows1252) = config.charset_fallback {
        if !given(matches, "charset_fallback") {
            args.charset_fallback = Some(crate::cli::CharsetFallback::Windows1252);
        }
    }
    if let Some(f) = config.log_format {
        if !given(matches, "log_format") {
            *log_format = match f {
                LogFormatName::Text => LogFormat::Text,
                LogFormatName::Json => LogFormat::Json,
            };
        }
    }
    if config.log_level.is_some() && !given(matches, "log_level") {
        *log_level = config.log_level;
    }
    config.sender
}

/// `telerad config check FILE`: every problem found, one per line (the file is fine when there
/// is none). The store is not opened.
pub fn check(path: &Path) -> Vec<String> {
    let config = match load(path) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let name = path.display();
    let mut problems = Vec::new();
    for (present, key) in [(config.role.is_some(), "role"), (config.listen.is_some(), "listen"), (config.store.is_some(), "store")] {
        if !present {
            problems.push(format!("{name}: `{key}` is missing (or give --{key} to serve)"));
        }
    }
    if config.tls_cert.is_some() != config.tls_key.is_some() {
        problems.push(format!("{name}: `tls-cert` and `tls-key` go together"));
    }
    if config.tls_client_ca.is_some() && config.tls_cert.is_none() {
        problems.push(format!("{name}: `tls-client-ca` needs `tls-cert` and `tls-key`"));
    }
    if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
        if let Err(e) = hl7_mllp::tls::server_config_from_files(cert, key, config.tls_client_ca.as_deref()) {
            problems.push(format!("{name}: TLS: {e}"));
        }
    }
    if let Some(listen) = &config.listen {
        use std::net::ToSocketAddrs as _;
        match listen.to_socket_addrs() {
            Ok(addrs) => {
                let addrs: Vec<_> = addrs.collect();
                if (config.tls_cert.is_none() || config.tls_key.is_none()) && !config.allow_plaintext.unwrap_or(false) && (addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback())) {
                    problems.push(format!("{name}: listen = \"{listen}\" is not a loopback address: give tls-cert and tls-key, or allow-plaintext = true"));
                }
            }
            Err(e) => problems.push(format!("{name}: listen = \"{listen}\": {e}")),
        }
    }
    if let Some(metrics) = &config.metrics {
        match crate::commands::metrics_addr(metrics) {
            Ok(a) if !a.ip().is_loopback() && !config.allow_plaintext.unwrap_or(false) => {
                problems.push(format!("{name}: metrics = \"{metrics}\" is not a loopback address: give allow-plaintext = true to serve metrics on it"))
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("{name}: metrics = \"{metrics}\": {e}")),
        }
    }
    if let Some(file) = &config.senders {
        if let Err(e) = telerad_exchange::senders::Senders::load(file) {
            problems.push(format!("{name}: {e}"));
        }
    } else if !config.sender.is_empty() {
        if let Err(e) = telerad_exchange::senders::Senders::from_entries(config.sender.clone()) {
            problems.push(format!("{name}: [[sender]]: {e}"));
        }
    }
    if let Some(level) = &config.log_level {
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(level) {
            problems.push(format!("{name}: log-level = \"{level}\": {e}"));
        }
    }
    problems
}
