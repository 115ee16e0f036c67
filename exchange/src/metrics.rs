//! What `telerad serve --metrics ADDR` exposes, on a small HTTP listener of its own thread:
//! `GET /metrics`, the Prometheus metrics (OpenMetrics text, which Prometheus scrapes), and
//! `GET /health`, 200 while the MLLP listener accepts and the store can be written, 503 (with
//! the reason) otherwise.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `telerad_messages_total` | counter | `direction` (`in`), `profile` (empty when none), `msa` (MSA-1 of the ACK) |
//! | `telerad_ack_latency_seconds` | histogram | from the message read to its ACK ready (its commit included) |
//! | `telerad_store_commit_latency_seconds` | histogram | one transaction of the store's writer (a batch of messages) |
//! | `telerad_open_connections` | gauge | |
//! | `telerad_refused_connections_total` | counter | `reason`: `max_connections`, `max_connections_per_peer` |
//! | `telerad_frame_problems_total` | counter | `kind`: `too_large`, `over_budget`, `garbage`, `truncated` |
//! | `telerad_store_size_bytes` | gauge | the store file and its WAL, read at each scrape |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MessageLabels {
    direction: &'static str,
    profile: &'static str,
    msa: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// The metrics of one `serve`, shared by the connections, the store's writer and the HTTP
/// listener.
pub struct Metrics {
    registry: Registry,
    messages: Family<MessageLabels, Counter>,
    ack_latency: Histogram,
    commit_latency: Histogram,
    open_connections: Gauge,
    refused: Family<ReasonLabels, Counter>,
    frame_problems: Family<KindLabels, Counter>,
    store_size: Gauge,
    store: PathBuf,
    /// The MLLP listener accepts connections.
    listening: AtomicBool,
    /// The last commit of the store's writer succeeded (true until one fails).
    committing: AtomicBool,
    /// Commits since the last failure (for the health reason).
    failures: AtomicI64,
}

impl Metrics {
    /// The metrics of a `serve` whose store is the file at `store`.
    pub fn new(store: &Path) -> Metrics {
        let mut registry = Registry::with_prefix("telerad");
        let messages = Family::<MessageLabels, Counter>::default();
        registry.register("messages", "Messages received (direction in) by profile and MSA-1 of their ACK", messages.clone());
        // 100 µs to about 6.5 s.
        let ack_latency = Histogram::new(exponential_buckets(0.0001, 2.0, 17));
        registry.register_with_unit("ack_latency", "From a message read to its ACK ready, its commit included", prometheus_client::registry::Unit::Seconds, ack_latency.clone());
        let commit_latency = Histogram::new(exponential_buckets(0.0001, 2.0, 17));
        registry.register_with_unit("store_commit_latency", "One transaction of the store's writer (a batch of messages)", prometheus_client::registry::Unit::Seconds, commit_latency.clone());
        let open_connections = Gauge::default();
        registry.register("open_connections", "MLLP connections being served", open_connections.clone());
        let refused = Family::<ReasonLabels, Counter>::default();
        registry.register("refused_connections", "Connections closed as soon as accepted, by reason", refused.clone());
        let frame_problems = Family::<KindLabels, Counter>::default();
        registry.register("frame_problems", "MLLP framing problems (answered AE or skipped), by kind", frame_problems.clone());
        let store_size = Gauge::default();
        registry.register_with_unit("store_size", "The store file and its write-ahead log", prometheus_client::registry::Unit::Bytes, store_size.clone());
        Metrics {
            registry,
            messages,
            ack_latency,
            commit_latency,
            open_connections,
            refused,
            frame_problems,
            store_size,
            store: store.to_owned(),
            listening: AtomicBool::new(false),
            committing: AtomicBool::new(true),
            failures: AtomicI64::new(0),
        }
    }

    /// A message received and answered.
    pub fn message(&self, profile: Option<&'static str>, msa: &str, latency: Duration) {
        self.messages.get_or_create(&MessageLabels { direction: "in", profile: profile.unwrap_or(""), msa: msa.to_owned() }).inc();
        self.ack_latency.observe(latency.as_secs_f64());
    }

    /// One transaction of the store's writer, committed or not.
    pub fn commit(&self, latency: Duration, ok: bool) {
        self.commit_latency.observe(latency.as_secs_f64());
        self.committing.store(ok, Ordering::Relaxed);
        if !ok {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn connection_opened(&self) {
        self.open_connections.inc();
    }

    pub fn connection_closed(&self) {
        self.open_connections.dec();
    }

    /// `reason`: `max_connections` or `max_connections_per_peer`.
    pub fn connection_refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn frame_problem(&self, kind: &'static str) {
        self.frame_problems.get_or_create(&KindLabels { kind }).inc();
    }

    /// Whether the MLLP listener accepts (set by `serve` when it listens and when it stops).
    pub fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::Relaxed);
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let size = [self.store.clone(), wal_of(&self.store)].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum::<u64>();
        self.store_size.set(i64::try_from(size).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// `None` when healthy, else why not.
    pub fn unhealthy(&self) -> Option<String> {
        if !self.listening.load(Ordering::Relaxed) {
            return Some("the MLLP listener is not accepting connections".into());
        }
        match std::fs::metadata(&self.store) {
            Ok(m) if m.permissions().readonly() => return Some(format!("the store {} is read-only", self.store.display())),
            Ok(_) => {}
            Err(e) => return Some(format!("the store {}: {e}", self.store.display())),
        }
        if !self.committing.load(Ordering::Relaxed) {
            return Some(format!("the store's last commit failed ({} failure(s) in all)", self.failures.load(Ordering::Relaxed)));
        }
        None
    }
}

fn wal_of(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// The HTTP listener of `--metrics`: serves until [`Listener::stop`].
pub struct Listener {
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub addr: SocketAddr,
}

impl Listener {
    /// Listens on `addr` and serves `/metrics` and `/health` from `metrics` on a thread.
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<Listener, String> {
        let server = Arc::new(tiny_http::Server::http(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?);
        let addr = server.server_addr().to_ip().ok_or_else(|| format!("cannot listen on {addr}: not an IP address"))?;
        let serving = server.clone();
        let thread = std::thread::Builder::new()
            .name("telerad-metrics".into())
            .spawn(move || {
                for request in serving.incoming_requests() {
                    let response = answer(request.method(), request.url(), &metrics);
                    let _ = request.respond(response);
                }
            })
            .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
        Ok(Listener { server, thread: Some(thread), addr })
    }

    pub fn stop(mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(method: &tiny_http::Method, url: &str, metrics: &Metrics) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let header = |value: &str| tiny_http::Header::from_bytes("Content-Type", value).ok();
    let path = url.split('?').next().unwrap_or(url);
    let (status, body, kind) = match (method, path) {
        (tiny_http::Method::Get, "/metrics") => (200, metrics.render(), "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (tiny_http::Method::Get, "/health") => match metrics.unhealthy() {
            None => (200, "ok\n".to_owned(), "text/plain; charset=utf-8"),
            Some(why) => (503, format!("{why}\n"), "text/plain; charset=utf-8"),
        },
        (tiny_http::Method::Get, _) => (404, "not found: /metrics or /health\n".to_owned(), "text/plain; charset=utf-8"),
        _ => (405, "GET only\n".to_owned(), "text/plain; charset=utf-8"),
    };
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    if let Some(h) = header(kind) {
        response = response.with_header(h);
    }
    response
}
