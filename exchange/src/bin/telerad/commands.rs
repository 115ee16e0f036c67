//! `telerad serve`, `send`, `respond`, `orders` and the hidden `load`: the exchange's
//! subcommands (the README's "Command line" section is their contract).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use hl7_runtime::ack::Identity;
use hl7_runtime::Limits;

use crate::cli::{io_failure, read_path, Failure};
use telerad_exchange::receive::Role;
use telerad_exchange::send::{self, Link, RecordOutcome, Target};
use telerad_exchange::store::{self, Recorded, Store, StoreOptions};
use telerad_exchange::workflow::{OrderKey, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleArg {
    Platform,
    Ris,
}

/// `--processing-id`: MSH-11.1 of the messages a receiver takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
pub enum ProcessingIdArg {
    /// Production.
    #[value(name = "P")]
    P,
    /// Training (tests).
    #[value(name = "T")]
    T,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Every option below in a TOML file (`exchange/deploy/serve.toml`); the flags given here
    /// win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Which side this is: `platform` takes flows 1, 2, 4; `ris` takes flow 3 (required, here
    /// or in the configuration file).
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// Address to listen on, e.g. `127.0.0.1:2575` (port 0: any free port; the bound address
    /// is the first line printed). Required, here or in the configuration file.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The store: a SQLite file (created on first use) or a PostgreSQL database
    /// (`postgres://USER@HOST:PORT/DB?sslmode=require`, its schema created or migrated on first
    /// use; several receivers may share it). Required, here or in the configuration file.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// TLS: this server's certificate chain (PEM); with `--tls-key`.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS: this server's private key (PEM); with `--tls-cert`.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS: clients must present a certificate issued by one of these CAs (PEM); needs
    /// `--tls-cert`.
    #[arg(long, value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Listen without TLS on an address other than loopback.
    #[arg(long)]
    pub allow_plaintext: bool,
    /// This side's application: MSH-5.1 of every message must be this (AE 103 otherwise), and
    /// it is the ACK's MSH-3 when the inbound MSH-5 is empty. Without it MSH-5 is not checked
    /// and that MSH-3 is `TELERAD`.
    #[arg(long, value_name = "NAME")]
    pub application: Option<String>,
    /// This side's facility: MSH-6.1 of every message must be this (AE 103 otherwise), and it
    /// is the ACK's MSH-4 when the inbound MSH-6 is empty. Without it MSH-6 is not checked and
    /// that MSH-4 is `TELERAD`.
    #[arg(long, value_name = "NAME")]
    pub facility: Option<String>,
    /// MSH-11.1 of the messages taken: `P` (production) or `T` (training); a message with the
    /// other is answered AE 202.
    #[arg(long, value_enum, default_value = "P", ignore_case = true)]
    pub processing_id: ProcessingIdArg,
    /// The `[[sender]]` tables of the configuration file (when it names no senders file).
    #[arg(skip)]
    pub inline_senders: Vec<telerad_exchange::senders::Entry>,
    /// Who may send (JSON, see the README): a message whose MSH-3/MSH-4 is not allowed from its
    /// connection's client certificate or address is answered AR and stored as refused.
    /// Without it any sender is taken.
    #[arg(long, value_name = "FILE")]
    pub senders: Option<PathBuf>,
    /// Connections served at once.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Connections from one IP address at once (TLS handshakes included).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_connections_per_peer: usize,
    /// Largest message (MLLP frame) accepted, in bytes; larger ones are answered AE unread.
    #[arg(long, value_name = "BYTES", default_value_t = hl7_mllp::DEFAULT_MAX_FRAME_BYTES)]
    pub max_message_bytes: usize,
    /// Bytes that messages being received may hold, all connections together (each may hold
    /// its first 64 KiB besides); a message that would need more is answered AE unread.
    #[arg(long, value_name = "BYTES", default_value_t = hl7_mllp::DEFAULT_MAX_INFLIGHT_BYTES)]
    pub max_inflight_bytes: usize,
    /// Seconds a message (MLLP frame) may take to arrive, from its first byte to its last.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub frame_timeout: u64,
    /// Seconds a TLS handshake may take.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub handshake_timeout: u64,
    /// Serve Prometheus metrics (`/metrics`) and a health check (`/health`) over HTTP on this
    /// address: `PORT` alone is loopback (`127.0.0.1:PORT`); another address than loopback
    /// needs `--allow-plaintext`. With it, the second line printed is its bound address.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Log at DEBUG unless `--log-level` or `RUST_LOG` say otherwise (connections and messages
    /// are logged at INFO anyway).
    #[arg(long)]
    pub verbose: bool,
    /// Read a message labelled 8859/1 or 8859/15 that holds bytes 0x80–0x9F as this set (with a
    /// warning stored in its findings) instead of answering AE.
    #[arg(long, value_enum, value_name = "CHARSET")]
    pub charset_fallback: Option<crate::cli::CharsetFallback>,
}

#[derive(Debug, Args)]
pub struct TlsClientArgs {
    /// TLS: the CA certificates to trust (PEM); without it the connection is plain TCP.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// Mutual TLS: this client's certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["tls_key", "tls_ca"])]
    pub tls_cert: Option<PathBuf>,
    /// Mutual TLS: this client's private key (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["tls_cert", "tls_ca"])]
    pub tls_key: Option<PathBuf>,
    /// Seconds to wait for each ACK.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Attempts per message when the connection fails (backoff 0.2 s, doubling, at most 5 s).
    #[arg(long, default_value_t = 6)]
    pub attempts: u32,
    /// Send without TLS to an address other than loopback.
    #[arg(long)]
    pub allow_plaintext: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The receiver, `HOST:PORT`.
    #[arg(long, value_name = "HOST:PORT")]
    pub to: String,
    /// Record what was sent (and the peer's ACK) in this store.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub net: TlsClientArgs,
    /// Under the line of each message not accepted, its ACK's ERR segments: ERR-2 (location),
    /// ERR-3 (code), ERR-8 (text), tab-separated, indented by two spaces.
    #[arg(long)]
    pub verbose: bool,
    /// `json`: one object per message, `{"control_id", "msa", "errors": [{"location", "code",
    /// "severity", "text"}]}`.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::cli::Format,
    /// Message files: several messages per file, or FHS/BHS batch files; `-` reads standard
    /// input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolAs {
    /// OBX-2 FT: the file as text, line breaks as `\.br\`.
    Ft,
    /// OBX-2 ED: the file's bytes in Base64.
    Ed,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("decision").required(true).args(["accept", "refuse"]))]
pub struct RespondArgs {
    /// The platform's store, where the request is.
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// The order: its ORC-2 as ER7 writes it, `EI.1^EI.2^EI.3^EI.4`.
    #[arg(long, value_name = "ID")]
    pub order: String,
    /// Accept (ORC-1 OK), with the imaging protocol.
    #[arg(long, requires = "protocol")]
    pub accept: bool,
    /// The imaging protocol file.
    #[arg(long, value_name = "FILE")]
    pub protocol: Option<PathBuf>,
    /// How the protocol is carried (default: `ft` for a UTF-8 text file, `ed` otherwise).
    #[arg(long = "as", value_enum)]
    pub protocol_as: Option<ProtocolAs>,
    /// Refuse (ORC-1 OC).
    #[arg(long, conflicts_with_all = ["accept", "protocol"])]
    pub refuse: bool,
    /// The refusal's reason (ORC-16.2, free text).
    #[arg(long, value_name = "TEXT", requires = "refuse")]
    pub reason: Option<String>,
    /// The platform's identity (JSON: application, facility, radiologist, organisation; see
    /// `exchange/examples/platform.json`).
    #[arg(long, value_name = "FILE")]
    pub identity: PathBuf,
    /// MSH-10 of the response (default `TLR<MSH-7 without its offset>-<n>`, n the store's next
    /// row).
    #[arg(long, value_name = "ID")]
    pub control_id: Option<String>,
    /// MSH-7 and ORC-9 (default: now, local time with its UTC offset, `TZ` honoured).
    #[arg(long, value_name = "DTM")]
    pub now: Option<String>,
    /// Send the response to the RIS instead of printing it.
    #[arg(long, value_name = "HOST:PORT")]
    pub to: Option<String>,
    /// Print the response that would be recorded and sent, and change nothing: the store is
    /// opened read-only, the order keeps its state.
    #[arg(long, conflicts_with = "to")]
    pub dry_run: bool,
    #[command(flatten)]
    pub net: TlsClientArgs,
}

#[derive(Debug, Args)]
pub struct OrdersArgs {
    /// The store: a SQLite file or a PostgreSQL URL (`postgres://…`).
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// `json`: one JSON object per order, one per line.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::cli::Format,
}

/// `messages --msa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MsaArg {
    #[value(name = "AA")]
    Aa,
    #[value(name = "AE")]
    Ae,
    #[value(name = "AR")]
    Ar,
}

#[derive(Debug, Args)]
pub struct MessagesArgs {
    /// The store: a SQLite file or a PostgreSQL URL (`postgres://…`).
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// Stored at or after this time: `2026-12-06T10:00:00Z` (RFC 3339, with its offset) or a
    /// date, `2026-12-06` (its start, UTC).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Stored before this time (same forms as `--since`).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// MSH-3 or MSH-4 is this.
    #[arg(long, value_name = "NAME")]
    pub sender: Option<String>,
    /// MSH-10 is this.
    #[arg(long, value_name = "ID")]
    pub control_id: Option<String>,
    /// The message created or moved this order (ORC-2 as ER7 writes it, as `orders` prints it).
    #[arg(long, value_name = "ID")]
    pub order: Option<String>,
    /// MSA-1 of its ACK.
    #[arg(long, value_enum, ignore_case = true)]
    pub msa: Option<MsaArg>,
    /// `json`: one object per message, one per line.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::cli::Format,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The store: a SQLite file or a PostgreSQL URL (`postgres://…`).
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// The message's row id (the first column of `telerad messages`).
    pub id: i64,
    /// `json`: one object with the message, its findings and its ACK.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::cli::Format,
}

#[derive(Debug, Args)]
pub struct ResendArgs {
    /// The store where the message was recorded as sent (`send --store`, `respond`).
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// The message's row id (the first column of `telerad messages`).
    pub id: i64,
    /// The receiver, `HOST:PORT`.
    #[arg(long, value_name = "HOST:PORT")]
    pub to: String,
    #[command(flatten)]
    pub net: TlsClientArgs,
    /// Under the message's line, the ERR segments of an ACK other than AA (as `send --verbose`).
    #[arg(long)]
    pub verbose: bool,
    /// `json`: one object, as `send --format json`.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::cli::Format,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The store: a SQLite file or a PostgreSQL URL (`postgres://…`).
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// Orders whose last change (to refused or cancelled) is older than this many days.
    #[arg(long, value_name = "DAYS")]
    pub older_than: u32,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The receiver, `HOST:PORT` (a platform: the messages are flow-1 requests).
    #[arg(long, value_name = "HOST:PORT")]
    pub to: String,
    /// Connections, each sending one message at a time.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Messages in all.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// The template message (default: exchange/examples/flux1_nw_minimal.hl7, compiled in).
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Distinguishes this run's MSH-10 and orders from earlier runs on the same store
    /// (default: the current time).
    #[arg(long)]
    pub run: Option<String>,
}

fn usage(m: impl Into<String>) -> Failure {
    Failure::Usage(m.into())
}

fn runtime(multi: bool) -> Result<tokio::runtime::Runtime, Failure> {
    let mut b = if multi { tokio::runtime::Builder::new_multi_thread() } else { tokio::runtime::Builder::new_current_thread() };
    b.enable_all().build().map_err(|e| usage(format!("cannot start the async runtime: {e}")))
}

fn open_store(path: &Path, options: StoreOptions) -> Result<Store, Failure> {
    Store::open(path, options).map_err(|e| usage(e.to_string()))
}

pub fn serve(args: &ServeArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let missing = |flag: &str| usage(format!("serve needs --{flag} (or `{flag}` in the --config file)"));
    let role = match args.role.ok_or_else(|| missing("role"))? {
        RoleArg::Platform => Role::Platform,
        RoleArg::Ris => Role::Ris,
    };
    let listen = args.listen.as_deref().ok_or_else(|| missing("listen"))?;
    let store_path = args.store.as_deref().ok_or_else(|| missing("store"))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let config = hl7_mllp::tls::server_config_from_files(cert, key, args.tls_client_ca.as_deref()).map_err(|e| usage(format!("TLS: {e}")))?;
            Some(hl7_mllp::tokio_rustls::TlsAcceptor::from(config))
        }
        (None, None) if args.tls_client_ca.is_some() => return Err(usage("--tls-client-ca needs --tls-cert and --tls-key")),
        (None, None) => None,
        _ => return Err(usage("--tls-cert and --tls-key go together")),
    };
    let senders = match &args.senders {
        Some(path) => Some(Arc::new(telerad_exchange::senders::Senders::load(path).map_err(usage)?)),
        None if !args.inline_senders.is_empty() => Some(Arc::new(telerad_exchange::senders::Senders::from_entries(args.inline_senders.clone()).map_err(|e| usage(format!("--config [[sender]]: {e}")))?)),
        None => None,
    };
    let admission = telerad_exchange::receive::Admission {
        senders,
        application: args.application.clone(),
        facility: args.facility.clone(),
        processing_id: Some(match args.processing_id {
            ProcessingIdArg::P => telerad_exchange::receive::ProcessingId::Production,
            ProcessingIdArg::T => telerad_exchange::receive::ProcessingId::Training,
        }),
    };
    let metrics_addr = match &args.metrics {
        Some(text) => {
            let addr = metrics_addr(text).map_err(|e| usage(format!("--metrics {text}: {e}")))?;
            if !args.allow_plaintext {
                loopback_only(&[addr], &format!("--metrics {text}"), "a loopback address")?;
            }
            Some(addr)
        }
        None => None,
    };
    let metrics = metrics_addr.map(|_| Arc::new(telerad_exchange::metrics::Metrics::new(store_path)));
    let defaults = StoreOptions::default().identity;
    let identity = Identity { application: args.application.clone().unwrap_or(defaults.application), facility: args.facility.clone().unwrap_or(defaults.facility) };
    let on_commit = metrics.clone().map(|m| -> store::CommitHook { Arc::new(move |latency, ok| m.commit(latency, ok)) });
    let options = StoreOptions { identity, on_commit, ..StoreOptions::default() };
    let store = open_store(store_path, options)?;
    // A store that cannot be written would answer AR to every message: refuse to start.
    store.check_writable(store_path).map_err(|e| usage(e.to_string()))?;
    let rt = runtime(true)?;
    let listener = rt.block_on(tokio::net::TcpListener::bind(listen)).map_err(|e| usage(format!("cannot listen on {listen}: {e}")))?;
    let bound: SocketAddr = listener.local_addr().map_err(|e| usage(format!("cannot listen on {listen}: {e}")))?;
    if tls.is_none() && !args.allow_plaintext {
        loopback_only(&[bound], &bound.to_string(), "--tls-cert and --tls-key")?;
    }
    // The first line is the bound address alone, so that a caller that asked for port 0 can
    // read where to connect.
    writeln!(out, "{bound}").and_then(|()| out.flush()).map_err(io_failure)?;
    let http = match (metrics_addr, &metrics) {
        (Some(addr), Some(m)) => {
            // The MLLP listener is bound (the kernel queues connections until `serve::run`
            // accepts them): healthy from before /health can be asked. Set after the address
            // was printed, a caller that asked at once was told 503 (a race CI once lost).
            m.set_listening(true);
            let l = telerad_exchange::metrics::Listener::start(addr, m.clone()).map_err(|e| usage(format!("--metrics: {e}")))?;
            writeln!(out, "{}", l.addr).and_then(|()| out.flush()).map_err(io_failure)?;
            tracing::info!(target: "telerad::serve", metrics = %l.addr, "metrics and health on http://{}/metrics and /health", l.addr);
            Some(l)
        }
        _ => None,
    };
    tracing::info!(target: "telerad::serve", role = role.name(), listen = %bound, tls = tls.is_some(), store = %store_name(store_path), "{} side listening on {bound} ({})", role.name(), if tls.is_some() { "TLS" } else { "plaintext" });
    let limits = Limits { max_message_bytes: args.max_message_bytes, ..Limits::DEFAULT };
    let config = hl7_mllp::Config {
        limits,
        max_connections: args.max_connections,
        max_connections_per_peer: args.max_connections_per_peer,
        max_inflight_bytes: args.max_inflight_bytes,
        frame_timeout: Duration::from_secs(args.frame_timeout),
        handshake_timeout: Duration::from_secs(args.handshake_timeout),
        ..hl7_mllp::Config::default()
    };
    let receiver = Arc::new(telerad_exchange::serve::Receiver { store: store.clone(), role, limits: config.limits, verbose: args.verbose, windows_1252_fallback: args.charset_fallback.is_some(), admission, metrics: metrics.clone() });
    let stopping = metrics.clone();
    let shutdown = async move {
        hl7_mllp::shutdown_signal().await;
        // Not accepting any more: /health answers 503 from now on.
        if let Some(m) = stopping {
            m.set_listening(false);
        }
    };
    let served = rt.block_on(telerad_exchange::serve::run(listener, tls, config, receiver, shutdown));
    drop(rt);
    // Every answer has been written; wait for the writer to finish what it holds.
    store.close();
    if let Some(l) = http {
        l.stop();
    }
    tracing::info!(target: "telerad::serve", "stopped");
    served.map_err(|e| usage(format!("serve: {e}")))
}

/// `--metrics`: `HOST:PORT`, or `PORT` alone for loopback.
pub fn metrics_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs as _;
    if let Ok(port) = text.trim().parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let mut addrs = text.to_socket_addrs().map_err(|e| e.to_string())?;
    addrs.next().ok_or_else(|| "no address".to_owned())
}

/// Health data goes without TLS only over loopback, unless `--allow-plaintext` says otherwise:
/// an error naming the TLS options (`tls_flags`) when one of `addrs` is not loopback (or there
/// is none).
fn loopback_only(addrs: &[SocketAddr], shown: &str, tls_flags: &str) -> Result<(), Failure> {
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(usage(format!("{shown} is not a loopback address: give {tls_flags}, or --allow-plaintext to send health data unencrypted")));
    }
    Ok(())
}

/// The peer to send to; without TLS, `to` must resolve to loopback addresses only (see
/// [`loopback_only`]).
fn target(to: &str, net: &TlsClientArgs) -> Result<Target, Failure> {
    if net.tls_ca.is_none() && !net.allow_plaintext {
        use std::net::ToSocketAddrs as _;
        let addrs: Vec<SocketAddr> = to.to_socket_addrs().map_err(|e| usage(format!("{to}: {e}")))?.collect();
        loopback_only(&addrs, to, "--tls-ca")?;
    }
    let tls = match &net.tls_ca {
        Some(ca) => {
            let identity = match (&net.tls_cert, &net.tls_key) {
                (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
                _ => None,
            };
            let config = hl7_mllp::tls::client_config_from_files(ca, identity).map_err(|e| usage(format!("TLS: {e}")))?;
            let host = to.rsplit_once(':').map_or(to, |(h, _)| h).trim_start_matches('[').trim_end_matches(']');
            let name = hl7_mllp::tls::server_name(host).map_err(|e| usage(format!("TLS: {e}")))?;
            Some((hl7_mllp::tokio_rustls::TlsConnector::from(config), name))
        }
        None => None,
    };
    let config = hl7_mllp::Config { read_timeout: Duration::from_secs(net.timeout.max(1)), ..hl7_mllp::Config::default() };
    let retry = hl7_mllp::RetryPolicy { attempts: net.attempts.max(1), ..send::default_retry() };
    Ok(Target { addr: to.to_owned(), tls, config, retry })
}

/// Exit 2 (network, usage) wins over 1 (a message not accepted).
pub fn send(args: &SendArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let mut messages = Vec::new();
    for file in &args.files {
        let content = read_path(file)?;
        let split = telerad_exchange::batch::split(&content).map_err(|e| usage(format!("{}: {e}", file.display())))?;
        messages.extend(split);
    }
    let target = target(&args.to, &args.net)?;
    let store = match &args.store {
        Some(p) => Some(open_store(p, StoreOptions::default())?),
        None => None,
    };
    let rt = runtime(false)?;
    let mut link = Link::new(target);
    let mut rejected = false;
    let mut failure = None;
    for (i, message) in messages.iter().enumerate() {
        let id = telerad_exchange::batch::control_id(message);
        let start = std::time::Instant::now();
        let answer = match rt.block_on(link.send(message)) {
            Ok(a) => a,
            Err(e) => {
                failure = Some(format!("{}: {e}; {} message(s) not sent", args.to, messages.len() - i));
                break;
            }
        };
        log_sent(&args.to, message, &answer, start);
        let (code, acked) = send::acknowledgment(&answer).unwrap_or_default();
        if !acked.is_empty() && acked != id {
            eprintln!("telerad: {}: the ACK acknowledges `{acked}`, not `{id}`", args.to);
        }
        rejected |= !send::accepted(&code);
        print_answer(out, args.format, args.verbose, &id, &code, &answer)?;
        if let Some(store) = &store {
            match send::record(store, message, &answer).map_err(|e| usage(e.to_string()))? {
                RecordOutcome::Inconsistent(why) => eprintln!("telerad: {id}: accepted by the peer, but this store's workflow refuses it: {why}; stored without changing the order"),
                RecordOutcome::Applied | RecordOutcome::Kept | RecordOutcome::AlreadyRecorded => {}
            }
        }
    }
    rt.block_on(link.close());
    if let Some(s) = store {
        s.close();
    }
    match (failure, rejected) {
        (Some(m), _) => Err(Failure::Usage(m)),
        (None, true) => Err(Failure::Rejected(String::new())),
        (None, false) => Ok(()),
    }
}

/// A message's line (`MSH-10<TAB>MSA-1`, `?` without an MSA) and, with `verbose`, the ERR
/// segments of an ACK other than AA under it; in JSON one object with every ERR.
fn print_answer(out: &mut dyn Write, format: crate::cli::Format, verbose: bool, id: &str, code: &str, answer: &[u8]) -> Result<(), Failure> {
    let shown = if code.is_empty() { "?" } else { code };
    match format {
        crate::cli::Format::Text => {
            writeln!(out, "{id}\t{shown}").map_err(io_failure)?;
            if verbose && code != "AA" {
                for e in send::ack_errors(answer) {
                    writeln!(out, "  {}\t{}\t{}", e.location, e.code, e.text).map_err(io_failure)?;
                }
            }
            Ok(())
        }
        crate::cli::Format::Json => {
            let line = serde_json::json!({ "control_id": id, "msa": shown, "errors": send::ack_errors(answer) });
            writeln!(out, "{line}").map_err(io_failure)
        }
    }
}

/// The log line of a message sent (`telerad_exchange::serve::log_message`).
fn log_sent(to: &str, message: &[u8], answer: &[u8], start: std::time::Instant) {
    use telerad_exchange::serve::{self, AckSummary, MessageLog};
    if !tracing::enabled!(target: "telerad::message", tracing::Level::INFO) {
        return;
    }
    let ack_us = serve::micros(start);
    let read = telerad_exchange::receive::read_outbound(message);
    let summary = AckSummary::of(answer);
    serve::log_message(&MessageLog { direction: "out", peer: Some(to.to_owned()), sender: &read.sender, control_id: &read.control_id, profile: read.profile, ack: &summary, ack_us });
}

pub fn respond(args: &RespondArgs, out: &mut dyn Write) -> Result<(), Failure> {
    use telerad_exchange::respond::{self as r, Answer, Protocol};
    let key = OrderKey::parse(&args.order).map_err(|e| usage(format!("--order {e}")))?;
    let identity: r::Platform = serde_json::from_slice(&read_path(&args.identity)?).map_err(|e| usage(format!("{}: {e}", args.identity.display())))?;
    let postgres = telerad_exchange::pg::url_of(&args.store).is_some();
    if !postgres && !args.store.exists() {
        return Err(usage(format!("no store at {}", args.store.display())));
    }
    let answer = if args.accept {
        let path = args.protocol.as_deref().ok_or_else(|| usage("--accept needs --protocol FILE"))?;
        let bytes = read_path(path)?;
        let as_text = match args.protocol_as {
            Some(ProtocolAs::Ft) => true,
            Some(ProtocolAs::Ed) => false,
            None => std::str::from_utf8(&bytes).is_ok(),
        };
        if as_text {
            let text = String::from_utf8(bytes).map_err(|_| usage(format!("{}: not UTF-8 text; use --as ed", path.display())))?;
            Answer::Accept(Protocol::Text(text))
        } else {
            Answer::Accept(Protocol::Encapsulated(bytes))
        }
    } else {
        Answer::Refuse { reason: args.reason.clone() }
    };
    let stamp = telerad_exchange::clock::now();
    let now = args.now.clone().unwrap_or_else(|| stamp.dtm.clone());
    // Before anything is recorded: a peer this command will not send to is a usage error.
    let target = args.to.as_deref().map(|to| target(to, &args.net)).transpose()?;
    if let Some(client) = pg_client(&args.store).filter(|_| args.dry_run) {
        let mut client = client?;
        let failed = |e: telerad_exchange::store::DbError| usage(format!("store {}: {e}", store_name(&args.store)));
        let found = telerad_exchange::pg::request_of(&mut client, &key).map_err(failed)?;
        let next = telerad_exchange::pg::next_id(&mut client).map_err(failed)?;
        let (_, bytes) = response(args, &key, found, next, &identity, &answer, &stamp, &now)?;
        return out.write_all(&bytes).map_err(io_failure);
    }
    if args.dry_run {
        // Read-only: nothing is written, not even the store's schema.
        let conn = open_read_only(&args.store)?;
        let found = store::request_of(&conn, &key).map_err(|e| usage(format!("store {}: {e}", args.store.display())))?;
        let next = conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM messages", [], |r| r.get::<_, i64>(0)).map_err(|e| usage(format!("store {}: {e}", args.store.display())))?;
        let (_, bytes) = response(args, &key, found, next, &identity, &answer, &stamp, &now)?;
        return out.write_all(&bytes).map_err(io_failure);
    }
    let store = open_store(&args.store, StoreOptions::default())?;
    let lookup = key.clone();
    let (found, next) = if postgres {
        let found = store
            .query_pg(move |c| c.and_then(|c| telerad_exchange::pg::request_of(c, &lookup).map_err(|e| e.to_string())))
            .map_err(|e| usage(e.to_string()))?
            .map_err(|e| usage(format!("store: {e}")))?;
        let next = store.query_pg(|c| c.and_then(|c| telerad_exchange::pg::next_id(c).map_err(|e| e.to_string()))).map_err(|e| usage(e.to_string()))?.unwrap_or(0);
        (found, next)
    } else {
        let found = store.query(move |c| store::request_of(c, &lookup)).map_err(|e| usage(e.to_string()))?.map_err(|e| usage(format!("store: {e}")))?;
        let next = store.query(|c| c.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM messages", [], |r| r.get::<_, i64>(0))).map_err(|e| usage(e.to_string()))?.unwrap_or(0);
        (found, next)
    };
    let (control_id, bytes) = match response(args, &key, found, next, &identity, &answer, &stamp, &now) {
        Ok(built) => built,
        Err(f) => {
            store.close();
            return Err(f);
        }
    };
    let recorded = store.record_outbound(telerad_exchange::receive::read_outbound(&bytes), true).map_err(|e| usage(e.to_string()))?;
    let id = match recorded {
        Recorded::Stored { id } => id,
        Recorded::AlreadyRecorded { .. } => {
            store.close();
            return Err(usage(format!("MSH-10 `{control_id}` was already sent from this store; give another --control-id")));
        }
        Recorded::Refused { key, refusal } => {
            store.close();
            return Err(Failure::Rejected(format!("order `{key}`: {}", refusal.reason)));
        }
    };
    let (Some(to), Some(target)) = (&args.to, target) else {
        store.close();
        return out.write_all(&bytes).map_err(io_failure);
    };
    let rt = runtime(false)?;
    let mut link = Link::new(target);
    let start = std::time::Instant::now();
    let sent = rt.block_on(link.send(&bytes));
    rt.block_on(link.close());
    if let Ok(answer) = &sent {
        log_sent(to, &bytes, answer, start);
    }
    let answer = match sent {
        Ok(a) => a,
        Err(e) => {
            store.close();
            // The response is recorded: print it so that it can be sent again (`telerad send -`).
            out.write_all(&bytes).map_err(io_failure)?;
            return Err(usage(format!("{to}: {e}; the response is recorded in the store and printed on standard output")));
        }
    };
    let (code, _) = send::acknowledgment(&answer).unwrap_or_default();
    let stored = store.set_ack(id, &answer, &code);
    store.close();
    stored.map_err(|e| usage(e.to_string()))?;
    writeln!(out, "{control_id}\t{}", if code.is_empty() { "?" } else { code.as_str() }).map_err(io_failure)?;
    if send::accepted(&code) {
        Ok(())
    } else {
        Err(Failure::Rejected(String::new()))
    }
}

/// The response to the order `key`'s request (`found`: its state and bytes) and its MSH-10
/// (`--control-id`, or from the time and `next`, the store's next row).
#[allow(clippy::too_many_arguments)]
fn response(
    args: &RespondArgs,
    key: &OrderKey,
    found: Option<(State, Vec<u8>)>,
    next: i64,
    identity: &telerad_exchange::respond::Platform,
    answer: &telerad_exchange::respond::Answer,
    stamp: &telerad_exchange::clock::Stamp,
    now: &str,
) -> Result<(String, Vec<u8>), Failure> {
    use telerad_exchange::respond as r;
    let Some((state, request)) = found else {
        return Err(Failure::Rejected(format!("no order `{key}` in {}", store_name(&args.store))));
    };
    if state != State::Requested {
        return Err(Failure::Rejected(format!("order `{key}` is {state}: only a requested order can be answered")));
    }
    let control_id = match &args.control_id {
        Some(id) => id.clone(),
        None => {
            // The digits of the time only: an offset's `+` has no place in an identifier.
            let digits = if args.now.is_some() { now.get(..14).unwrap_or(now) } else { stamp.digits() };
            format!("TLR{digits}-{next}")
        }
    };
    match r::build(&request, identity, answer, &control_id, now) {
        Ok(bytes) => Ok((control_id, bytes)),
        Err(e @ r::RespondError::Invalid(_)) => Err(Failure::Rejected(format!("{e} (check {})", args.identity.display()))),
        Err(e) => Err(usage(e.to_string())),
    }
}

/// A connection to the PostgreSQL store `--store` names, when it is one (`orders`,
/// `messages`, `show`, `purge`, `resend`'s lookup, `respond`'s lookups). Connecting does not
/// create or migrate anything.
fn pg_client(path: &Path) -> Option<Result<postgres::Client, Failure>> {
    use telerad_exchange::pg;
    let url = pg::url_of(path)?;
    Some(pg::connect(url).map_err(|e| usage(format!("store {}: {e}", pg::shown(url)))))
}

/// How a store is named in messages (a PostgreSQL URL without its password).
fn store_name(path: &Path) -> String {
    match telerad_exchange::pg::url_of(path) {
        Some(url) => telerad_exchange::pg::shown(url),
        None => path.display().to_string(),
    }
}

/// A store opened read-only (`orders`, `messages`, `show`, `respond --dry-run`): nothing is
/// created or changed; a missing file is a usage error.
fn open_read_only(path: &Path) -> Result<rusqlite::Connection, Failure> {
    if !path.exists() {
        return Err(usage(format!("no store at {}", path.display())));
    }
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| usage(format!("store {}: {e}", path.display())))?;
    let _ = conn.busy_timeout(Duration::from_secs(5));
    Ok(conn)
}

pub fn orders(args: &OrdersArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let list = match pg_client(&args.store) {
        Some(client) => telerad_exchange::pg::orders(&mut client?).map_err(|e| usage(format!("store {}: {e}", store_name(&args.store))))?,
        None => {
            let conn = open_read_only(&args.store)?;
            store::orders(&conn).map_err(|e| usage(format!("store {}: {e}", args.store.display())))?
        }
    };
    for o in &list {
        match args.format {
            crate::cli::Format::Json => {
                let line = serde_json::to_string(o).map_err(|e| usage(format!("cannot write JSON: {e}")))?;
                writeln!(out, "{line}").map_err(io_failure)?;
            }
            crate::cli::Format::Text => {
                writeln!(out, "{}\t{}", o.key, o.state).map_err(io_failure)?;
                for e in &o.exams {
                    writeln!(out, "  exam {} study {}", e.accession, e.study_instance_uid).map_err(io_failure)?;
                }
                for h in &o.history {
                    writeln!(out, "  {} {} {} {} -> {} ({})", h.at, h.direction, h.order_control, h.from.as_deref().unwrap_or("-"), h.to, h.message_control_id).map_err(io_failure)?;
                }
            }
        }
    }
    Ok(())
}

pub fn messages(args: &MessagesArgs, out: &mut dyn Write) -> Result<(), Failure> {
    use telerad_exchange::inspect;
    let bound = |flag: &str, v: &Option<String>| v.as_deref().map(|t| inspect::time_bound(t).map_err(|e| usage(format!("{flag} {e}")))).transpose();
    let filter = inspect::MessageFilter {
        since: bound("--since", &args.since)?,
        until: bound("--until", &args.until)?,
        sender: args.sender.clone(),
        control_id: args.control_id.clone(),
        order: args.order.as_deref().map(OrderKey::parse).transpose().map_err(|e| usage(format!("--order {e}")))?,
        msa: args.msa.map(|m| match m {
            MsaArg::Aa => "AA".to_owned(),
            MsaArg::Ae => "AE".to_owned(),
            MsaArg::Ar => "AR".to_owned(),
        }),
    };
    let list = match pg_client(&args.store) {
        Some(client) => telerad_exchange::pg::messages(&mut client?, &filter).map_err(|e| usage(format!("store {}: {e}", store_name(&args.store))))?,
        None => {
            let conn = open_read_only(&args.store)?;
            inspect::messages(&conn, &filter).map_err(|e| usage(format!("{}: {e}", args.store.display())))?
        }
    };
    let mut out = std::io::BufWriter::new(out);
    for m in &list {
        match args.format {
            crate::cli::Format::Json => {
                let line = serde_json::to_string(m).map_err(|e| usage(format!("cannot write JSON: {e}")))?;
                writeln!(out, "{line}").map_err(io_failure)?;
            }
            crate::cli::Format::Text => writeln!(out, "{}", message_line(m)).map_err(io_failure)?,
        }
    }
    out.flush().map_err(io_failure)
}

/// `ID<TAB>TIME<TAB>DIRECTION<TAB>MSH-3<TAB>MSH-4<TAB>MSH-10<TAB>PROFILE<TAB>MSA-1<TAB>ERRORS`,
/// `-` for what is missing, then `conflict of N` or `refused` when so.
fn message_line(m: &telerad_exchange::inspect::MessageRow) -> String {
    let mut line = format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        m.id,
        m.received_at,
        m.direction,
        m.sender_application,
        m.sender_facility,
        m.control_id,
        m.profile.as_deref().unwrap_or("-"),
        m.msa.as_deref().unwrap_or("-"),
        m.errors
    );
    if let Some(c) = m.conflict_of {
        line.push_str(&format!("\tconflict of {c}"));
    }
    if m.refused {
        line.push_str("\trefused");
    }
    line
}

pub fn show(args: &ShowArgs, out: &mut dyn Write) -> Result<(), Failure> {
    use telerad_exchange::inspect;
    use telerad_exchange::validation::{finding_json, finding_line};
    let m = match pg_client(&args.store) {
        Some(client) => telerad_exchange::pg::message(&mut client?, args.id).map_err(|e| usage(format!("store {}: {e}", store_name(&args.store))))?,
        None => {
            let conn = open_read_only(&args.store)?;
            inspect::message(&conn, args.id).map_err(|e| usage(format!("{}: {e}", args.store.display())))?
        }
    };
    let Some(m) = m else {
        return Err(Failure::Rejected(format!("no message {} in {}", args.id, store_name(&args.store))));
    };
    // Segments one per line; the bytes as stored (in the message's character set).
    let lines = |bytes: &[u8]| -> Vec<u8> { bytes.iter().map(|&b| if b == b'\r' { b'\n' } else { b }).collect() };
    match args.format {
        crate::cli::Format::Json => {
            let mut value = serde_json::to_value(&m.row).map_err(|e| usage(format!("cannot write JSON: {e}")))?;
            if let Some(o) = value.as_object_mut() {
                o.insert("message".into(), String::from_utf8_lossy(&m.raw).into_owned().into());
                o.insert("findings".into(), m.findings.iter().map(finding_json).collect::<Vec<_>>().into());
                o.insert("ack".into(), m.ack.as_deref().map(|a| String::from_utf8_lossy(a).into_owned()).into());
                o.insert("transitions".into(), m.transitions.iter().map(|(k, t)| serde_json::json!({ "order": k, "transition": t })).collect::<Vec<_>>().into());
            }
            writeln!(out, "{value}").map_err(io_failure)
        }
        crate::cli::Format::Text => {
            let mut text = Vec::new();
            let r = &m.row;
            let verdict = if r.errors == 0 { "valid".to_owned() } else { format!("invalid ({} error(s))", r.errors) };
            writeln!(text, "{}", message_line(r)).map_err(io_failure)?;
            for (key, transition) in &m.transitions {
                writeln!(text, "order {key}\t{transition}").map_err(io_failure)?;
            }
            writeln!(text, "\nfindings: {verdict} [{}]", r.profile.as_deref().unwrap_or("no profile")).map_err(io_failure)?;
            for f in &m.findings {
                writeln!(text, "  {}", finding_line(f)).map_err(io_failure)?;
            }
            writeln!(text, "\nmessage:").map_err(io_failure)?;
            text.extend(lines(&m.raw));
            if !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            match &m.ack {
                Some(ack) => {
                    writeln!(text, "\nack:").map_err(io_failure)?;
                    text.extend(lines(ack));
                    if !text.ends_with(b"\n") {
                        text.push(b'\n');
                    }
                }
                None => writeln!(text, "\nack: none recorded").map_err(io_failure)?,
            }
            out.write_all(&text).map_err(io_failure)
        }
    }
}

/// Exit as `send`: 0 when the peer accepts it, 1 when not, 2 on a network or usage error.
pub fn resend(args: &ResendArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let found = if let Some(client) = pg_client(&args.store) {
        telerad_exchange::pg::sent_message(&mut client?, args.id).map_err(|e| usage(format!("store {}: {e}", store_name(&args.store))))?
    } else {
        let conn = open_read_only(&args.store)?;
        conn.query_row("SELECT direction, raw, control_id FROM messages WHERE id = ?1", rusqlite::params![args.id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?)))
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(|e| usage(format!("store {}: {e}", args.store.display())))?
    };
    let Some((direction, bytes, id)) = found else {
        return Err(Failure::Rejected(format!("no message {} in {}", args.id, store_name(&args.store))));
    };
    if direction != "out" {
        return Err(usage(format!("message {} was received, not sent, by this side: only a message sent can be sent again", args.id)));
    }
    let target = target(&args.to, &args.net)?;
    let rt = runtime(false)?;
    let mut link = Link::new(target);
    let start = std::time::Instant::now();
    let sent = rt.block_on(link.send(&bytes));
    rt.block_on(link.close());
    let answer = sent.map_err(|e| usage(format!("{}: {e}; message {} not sent", args.to, args.id)))?;
    log_sent(&args.to, &bytes, &answer, start);
    let (code, _) = send::acknowledgment(&answer).unwrap_or_default();
    let store = open_store(&args.store, StoreOptions::default())?;
    let recorded = store.record_resent(args.id, &answer, &code);
    store.close();
    if let Some(why) = recorded.map_err(|e| usage(e.to_string()))? {
        eprintln!("telerad: {id}: accepted by the peer, but this store's workflow refuses it: {why}; the ACK is recorded without changing the order");
    }
    print_answer(out, args.format, args.verbose, &id, &code, &answer)?;
    if send::accepted(&code) {
        Ok(())
    } else {
        Err(Failure::Rejected(String::new()))
    }
}

/// Prints `purged N order(s), M message(s)`.
pub fn purge(args: &PurgeArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let postgres = pg_client(&args.store).transpose()?;
    if postgres.is_none() && !args.store.exists() {
        return Err(usage(format!("no store at {}", args.store.display())));
    }
    let cutoff = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(i64::from(args.older_than) * 24))
        .map_err(|e| usage(format!("--older-than {}: {e}", args.older_than)))?;
    let before = telerad_exchange::clock::at(cutoff, &jiff::tz::TimeZone::UTC).iso;
    if let Some(mut client) = postgres {
        let purged = telerad_exchange::pg::purge(&mut client, &before).map_err(|e| usage(format!("store {}: {e}", store_name(&args.store))))?;
        return writeln!(out, "purged {} order(s), {} message(s)", purged.orders, purged.messages).map_err(io_failure);
    }
    let store = open_store(&args.store, StoreOptions::default())?;
    let purged = store.query(move |c| store::purge(c, &before));
    store.close();
    let purged = purged.map_err(|e| usage(e.to_string()))?.map_err(|e| usage(format!("store {}: {e}", args.store.display())))?;
    writeln!(out, "purged {} order(s), {} message(s)", purged.orders, purged.messages).map_err(io_failure)
}

pub fn load(args: &LoadArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let template = match &args.template {
        Some(p) => read_path(p)?,
        // A symbolic link to the test fixture of the same name (one copy of the message), inside
        // this package so that `cargo package` carries the file behind it.
        None => include_bytes!("../../../examples/flux1_nw_minimal.hl7").to_vec(),
    };
    // An address that names no receiver is a usage error, not every message sent and re-sent to
    // nowhere (`--to ""` went on without end).
    if !std::net::ToSocketAddrs::to_socket_addrs(args.to.as_str()).is_ok_and(|mut a| a.next().is_some()) {
        return Err(usage(format!("--to {:?}: not a HOST:PORT address", args.to)));
    }
    let run = args.run.clone().unwrap_or_else(|| telerad_exchange::clock::now().digits().to_owned());
    let messages = crate::load::Messages::new(&template, &run).map_err(usage)?;
    let target = Target::plain(args.to.clone(), hl7_mllp::Config { limits: Limits::DEFAULT, ..hl7_mllp::Config::default() });
    let rt = runtime(true)?;
    let report = rt.block_on(crate::load::run(&target, args.connections, args.messages, &messages));
    let line = serde_json::json!({
        "connections": args.connections,
        "messages": args.messages,
        "answered": report.answered(),
        "accepted": report.accepted(),
        "seconds": report.elapsed.as_secs_f64(),
        "per_second": report.rate(),
        "p50_ms": report.quantile(0.5).as_secs_f64() * 1e3,
        "p99_ms": report.quantile(0.99).as_secs_f64() * 1e3,
        "connections_opened": report.connections_opened,
    });
    writeln!(out, "{line}").map_err(io_failure)?;
    if report.accepted() == args.messages {
        Ok(())
    } else {
        Err(Failure::Rejected(format!("{} of {} messages accepted", report.accepted(), args.messages)))
    }
}
