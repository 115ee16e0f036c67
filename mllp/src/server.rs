//! The MLLP server: an accept loop, one task per connection, answers written by a [`Handler`].
//!
//! # Behaviour
//!
//! - **Order.** On one connection, events are handed to the handler one at a time in arrival
//!   order; the next frame is read only after the previous answer is written. A sender may
//!   pipeline: frames that arrive together wait in the decoder.
//! - **Answers.** What the handler returns is written as one frame with a single write of the
//!   whole frame (then a flush), within `write_timeout`. `None` writes nothing.
//! - **Framing problems** reach the handler as [`Inbound::Invalid`]: skipped bytes outside a
//!   frame ([`FrameError::Garbage`], reported just before the frame that follows them), a frame
//!   over `limits.max_message_bytes` ([`FrameError::TooLarge`], reported as soon as the limit is
//!   crossed; the rest of that frame is discarded and the connection stays open for the next
//!   one), a frame cut short ([`FrameError::Truncated`]). Whatever the handler returns for them
//!   is written too: it may send a negative acknowledgement or nothing. A half frame is never
//!   handed on as a message.
//! - **Memory budget.** The payloads of frames being read, all connections together, hold at
//!   most `max_inflight_bytes` (plus up to 64 KiB per connection that every frame may use
//!   without asking, so a small message never waits for the budget). A frame is charged as its
//!   payload grows, before the bytes are taken, and keeps its charge until its answer is written;
//!   a frame that would pass the budget is reported as [`FrameError::OverBudget`] (handled like
//!   an oversized frame: the rest of it is discarded, the connection stays open).
//! - **Timeouts.** With no frame in progress, a connection silent for `idle_timeout` is closed
//!   (skipped bytes not yet reported are reported then, as [`FrameError::Garbage`]). Once a
//!   frame has started, each wait for more bytes is bounded by `read_timeout`, and the whole
//!   frame by `frame_timeout` (counted from when its start block was read); past either the
//!   partial frame is reported as [`FrameError::Truncated`] and the connection is closed
//!   ([`CloseReason::ReadTimeout`], [`CloseReason::FrameTimeout`]). A TLS handshake is bounded
//!   by `handshake_timeout`.
//! - **Connection limits.** Past `max_connections` served connections, or
//!   `max_connections_per_peer` from the same IP address, a new connection is accepted and
//!   closed at once (reported as [`ServerEvent::Refused`], [`ServerEvent::RefusedPeer`]): the
//!   sender sees the close and can retry, instead of hanging in the listen backlog. Through
//!   TLS, a connection takes its slot once its handshake is done (closed then, with
//!   [`CloseReason::ConnectionLimit`], if none is free); up to `max_connections` handshakes
//!   may run besides, each within `handshake_timeout`.
//! - **Shutdown.** When the `shutdown` future resolves, the listener is closed; a connection
//!   whose handler is running finishes it and writes the answer, then closes; connections
//!   waiting for bytes are closed at once (frames received but not yet handed to the handler are
//!   dropped unanswered: the sender, having no ACK, sends them again). `serve` returns `Ok(())`
//!   once every connection task has ended, so a handler that never completes keeps it waiting.
//! - **Errors** never stop the server: a failed `accept` (descriptor exhaustion, say) is retried
//!   after a pause that doubles while it keeps failing (10 ms to 1 s), and reported at most once
//!   every 10 s with the count of failures not reported; a failed connection or handshake ends
//!   that connection only, as does a handler that panics.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::frame::{FrameDecoder, FrameError};
use crate::io::{write_frame, WriteFailure};
use crate::Config;

/// Bytes read from a connection at a time (the decoder holds partial frames, not this buffer).
const READ_CHUNK: usize = 16 * 1024;
/// First pause after an `accept` failure that is not about one connection (descriptors
/// exhausted): retrying at once would spin. It doubles while failures go on.
const ACCEPT_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause between `accept` attempts that fail.
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);
/// `accept` failures are reported at most once per interval.
const ACCEPT_REPORT_INTERVAL: Duration = Duration::from_secs(10);
/// What every frame may hold without charging the shared budget.
const FRAME_ALLOWANCE: usize = 64 * 1024;

/// What a connection delivers to the handler.
#[derive(Debug)]
pub enum Inbound {
    /// A complete frame's payload, exactly as received (the HL7 message, not yet parsed).
    Message(Vec<u8>),
    /// A framing problem; see the [module documentation](self) for when each is reported.
    Invalid(FrameError),
}

/// Something that happened to a connection, for logs and metrics (see [`Handler::event`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A connection was accepted and will be served.
    Accepted {
        /// The remote address.
        peer: SocketAddr,
    },
    /// A connection was closed at once: `max_connections` were already open.
    Refused {
        /// The remote address.
        peer: SocketAddr,
        /// The `max_connections` in force.
        limit: usize,
    },
    /// A connection was closed at once: `max_connections_per_peer` from its IP address were
    /// already open.
    RefusedPeer {
        /// The remote address.
        peer: SocketAddr,
        /// The `max_connections_per_peer` in force.
        limit: usize,
    },
    /// `accept` failed; the server goes on. Reported at most once every 10 s.
    AcceptFailed {
        /// The error from `accept`.
        error: io::Error,
        /// Failures since the previous report that were not reported.
        unreported: u64,
    },
    /// A served connection ended.
    Closed {
        /// The remote address.
        peer: SocketAddr,
        /// Why.
        reason: CloseReason,
    },
}

/// Why the server closed (or lost) a connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer closed its side.
    PeerClosed,
    /// No byte for `idle_timeout` with no frame in progress.
    IdleTimeout,
    /// A started frame stalled for `read_timeout`.
    ReadTimeout,
    /// A frame was not complete `frame_timeout` after its start block.
    FrameTimeout,
    /// The TLS handshake was done but `max_connections` connections were being served.
    ConnectionLimit,
    /// An answer could not be written within `write_timeout`.
    WriteTimeout,
    /// The server is shutting down.
    Shutdown,
    /// The TLS handshake failed (bad or missing client certificate, plaintext client, ...).
    TlsHandshake(io::Error),
    /// The TLS handshake took longer than `handshake_timeout`.
    TlsHandshakeTimeout,
    /// Reading or writing failed.
    Io(io::Error),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::PeerClosed => f.write_str("closed by the peer"),
            CloseReason::IdleTimeout => f.write_str("idle timeout"),
            CloseReason::ReadTimeout => f.write_str("read timeout inside a frame"),
            CloseReason::FrameTimeout => f.write_str("frame deadline passed"),
            CloseReason::ConnectionLimit => f.write_str("connection limit reached after the TLS handshake"),
            CloseReason::WriteTimeout => f.write_str("write timeout"),
            CloseReason::Shutdown => f.write_str("server shutdown"),
            CloseReason::TlsHandshake(error) => write!(f, "TLS handshake failed: {error}"),
            CloseReason::TlsHandshakeTimeout => f.write_str("TLS handshake timeout"),
            CloseReason::Io(error) => write!(f, "I/O error: {error}"),
        }
    }
}

/// The application side of the server: turns each inbound event into an optional answer.
///
/// A closure `Fn(Inbound, SocketAddr) -> impl Future<Output = Option<Vec<u8>>>` is a handler.
pub trait Handler: Send + Sync + 'static {
    /// Handles one event of the connection from `peer`; the returned bytes are the answer's
    /// payload (an ACK), framed and written by the server. Events of one connection come one at
    /// a time, in order.
    fn handle(&self, event: Inbound, peer: SocketAddr) -> impl Future<Output = Option<Vec<u8>>> + Send;

    /// Connection-level events (accepted, refused, closed and why, accept failures), for logs.
    /// Called from the server's tasks: keep it quick. Ignores them by default.
    fn event(&self, event: ServerEvent) {
        let _ = event;
    }
}

impl<F, Fut> Handler for F
where
    F: Fn(Inbound, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Vec<u8>>> + Send,
{
    fn handle(&self, event: Inbound, peer: SocketAddr) -> impl Future<Output = Option<Vec<u8>>> + Send {
        self(event, peer)
    }
}

/// Serves MLLP on `listener` (through TLS when `tls` is given) until `shutdown` resolves, then
/// drains as the [module documentation](self) says and returns `Ok(())`.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use std::sync::Arc;
/// use hl7_mllp::{serve, shutdown_signal, Config, Inbound};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:2575").await?;
/// let handler = Arc::new(|event: Inbound, _peer| async move {
///     match event {
///         Inbound::Message(_message) => Some(b"MSH|^~\\&|...\rMSA|AA|...\r".to_vec()),
///         Inbound::Invalid(_problem) => None,
///     }
/// });
/// serve(listener, None, Config::default(), handler, shutdown_signal()).await
/// # }
/// ```
pub async fn serve<H: Handler>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    config: Config,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let limits = Arc::new(Shared {
        slots: Arc::new(Semaphore::new(config.max_connections.min(Semaphore::MAX_PERMITS))),
        handshakes: Arc::new(Semaphore::new(config.max_connections.min(Semaphore::MAX_PERMITS))),
        peers: Arc::new(Peers::new(config.max_connections_per_peer)),
        budget: Budget::new(config.max_inflight_bytes),
    });
    let mut connections = JoinSet::new();
    let mut failures = AcceptFailures::default();
    tokio::pin!(shutdown);
    loop {
        let resume = failures.resume;
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            // Reap finished connection tasks so the set does not grow with the server's age.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = tokio::time::sleep_until(resume.unwrap_or_else(Instant::now)), if resume.is_some() => failures.resume = None,
            accepted = listener.accept(), if resume.is_none() => match accepted {
                Ok((stream, peer)) => {
                    failures.pause = ACCEPT_PAUSE;
                    let Some(from_peer) = limits.peers.enter(peer.ip()) else {
                        handler.event(ServerEvent::RefusedPeer { peer, limit: config.max_connections_per_peer });
                        drop(stream);
                        continue;
                    };
                    // Through TLS the connection waits for its handshake outside the slots.
                    let first = if tls.is_some() { &limits.handshakes } else { &limits.slots };
                    let Ok(permit) = Arc::clone(first).try_acquire_owned() else {
                        handler.event(ServerEvent::Refused { peer, limit: config.max_connections });
                        drop(stream);
                        continue;
                    };
                    let handler = Arc::clone(&handler);
                    let tls = tls.clone();
                    let stop = stop_rx.clone();
                    let limits = Arc::clone(&limits);
                    connections.spawn(async move {
                        handler.event(ServerEvent::Accepted { peer });
                        let reason = serve_connection(stream, peer, tls, &config, &*handler, stop, permit, &limits).await;
                        handler.event(ServerEvent::Closed { peer, reason });
                        drop(from_peer);
                    });
                }
                Err(error) => failures.failed(error, &*handler),
            },
        }
    }
    drop(listener);
    // Receivers outlive the send only if a task is still running; an error just means none is.
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// What the connection tasks share: the connection slots, the TLS handshake slots, the count
/// per peer address and the memory budget.
struct Shared {
    slots: Arc<Semaphore>,
    handshakes: Arc<Semaphore>,
    peers: Arc<Peers>,
    budget: Budget,
}

/// The accept loop's record of failing `accept` calls: the next pause, when to try again and
/// what has not been reported yet.
#[derive(Default)]
struct AcceptFailures {
    pause: Duration,
    resume: Option<Instant>,
    last_report: Option<Instant>,
    unreported: u64,
}

impl AcceptFailures {
    fn failed<H: Handler>(&mut self, error: io::Error, handler: &H) {
        let per_connection = matches!(
            error.kind(),
            io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
        );
        let now = Instant::now();
        if self.last_report.is_none_or(|at| now.duration_since(at) >= ACCEPT_REPORT_INTERVAL) {
            handler.event(ServerEvent::AcceptFailed { error, unreported: self.unreported });
            self.last_report = Some(now);
            self.unreported = 0;
        } else {
            self.unreported = self.unreported.saturating_add(1);
        }
        if !per_connection {
            let pause = self.pause.max(ACCEPT_PAUSE);
            self.resume = Some(now + pause);
            self.pause = pause.saturating_mul(2).min(ACCEPT_PAUSE_MAX);
        }
    }
}

/// Connections open per IP address.
struct Peers {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl Peers {
    fn new(limit: usize) -> Self {
        Peers { limit, open: Mutex::new(HashMap::new()) }
    }

    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<OwnedPeerSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= self.limit {
            if *count == 0 {
                open.remove(&ip);
            }
            return None;
        }
        *count += 1;
        Some(OwnedPeerSlot { peers: Arc::clone(self), ip })
    }

    fn leave(&self, ip: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&ip);
            }
        }
    }
}

/// A connection counted for its address, until dropped.
struct OwnedPeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Drop for OwnedPeerSlot {
    fn drop(&mut self) {
        self.peers.leave(self.ip);
    }
}

/// Bytes that frames being read may hold, all connections together.
pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Budget { limit, used: AtomicUsize::new(0) }
    }

    /// Takes `bytes` if that keeps the total within the limit.
    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Bytes charged now, all connections together.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// What one frame has charged to the budget; given back when dropped.
struct Charge<'a> {
    budget: &'a Budget,
    bytes: usize,
}

impl<'a> Charge<'a> {
    fn none(budget: &'a Budget) -> Self {
        Charge { budget, bytes: 0 }
    }

    /// Raises the charge to `bytes` in all, if the budget has room.
    fn raise_to(&mut self, bytes: usize) -> bool {
        let more = bytes.saturating_sub(self.bytes);
        if more == 0 || self.budget.take(more) {
            self.bytes = self.bytes.max(bytes);
            true
        } else {
            false
        }
    }

    /// Gives the charge back now, keeping the guard.
    fn release(&mut self) {
        self.budget.give(std::mem::take(&mut self.bytes));
    }

    /// Moves the charge into a new guard (to keep it while the frame is handled).
    fn take(&mut self) -> Charge<'a> {
        Charge { budget: self.budget, bytes: std::mem::take(&mut self.bytes) }
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

/// Runs the TLS handshake if asked (holding a handshake slot, then taking a connection slot),
/// then the connection; returns why it ended.
#[allow(clippy::too_many_arguments)]
async fn serve_connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    config: &Config,
    handler: &H,
    mut stop: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
    shared: &Shared,
) -> CloseReason {
    // Answers are single writes already; Nagle would only delay them.
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = tls else {
        let _slot = permit;
        return run_connection(stream, peer, config, handler, stop, &shared.budget).await;
    };
    let handshake = tokio::time::timeout(config.handshake_timeout, acceptor.accept(stream));
    let stream = tokio::select! {
        biased;
        _ = stop.changed() => return CloseReason::Shutdown,
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return CloseReason::TlsHandshake(error),
            Err(_) => return CloseReason::TlsHandshakeTimeout,
        },
    };
    drop(permit);
    let Ok(_slot) = Arc::clone(&shared.slots).try_acquire_owned() else {
        return CloseReason::ConnectionLimit;
    };
    // The client certificate's subject, readable by the handler (crate::peer).
    let subject = crate::peer::client_subject(&stream);
    crate::peer::with_client_subject(subject, run_connection(stream, peer, config, handler, stop, &shared.budget)).await
}

/// Reads frames from one connection, hands them to the handler in order and writes the
/// answers, until the peer leaves, a timeout expires or the server stops.
pub(crate) async fn run_connection<S, H>(
    mut stream: S,
    peer: SocketAddr,
    config: &Config,
    handler: &H,
    mut stop: watch::Receiver<bool>,
    budget: &Budget,
) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Unpin,
    H: Handler + ?Sized,
{
    let max = config.max_frame_payload();
    let mut decoder = FrameDecoder::with_allowance(max, FRAME_ALLOWANCE);
    // What the current frame holds beyond the allowance, charged to the shared budget.
    let mut charge = Charge::none(budget);
    // The frame being timed: its number (`frames_started`) and when its start was read.
    let mut timed: Option<(u64, Instant)> = None;
    let mut buf = vec![0u8; READ_CHUNK];
    let mut out = Vec::new();
    let reason = 'connection: loop {
        loop {
            while let Some(event) = decoder.next_frame() {
                // A message keeps its charge until answered; a framing problem drops its payload.
                let (inbound, _held) = match event {
                    Ok(frame) => (Inbound::Message(frame.payload), charge.take()),
                    Err(problem) => {
                        charge.release();
                        (Inbound::Invalid(problem), Charge::none(budget))
                    }
                };
                if let Err(reason) = answer(&mut stream, handler, inbound, peer, config, &mut out).await {
                    break 'connection reason;
                }
                if *stop.borrow() {
                    break 'connection CloseReason::Shutdown;
                }
            }
            // The payload needs more than it holds: charge the budget (doubling, as the
            // allocation grows) before the decoder takes the bytes, or refuse the frame.
            let Some(wanted) = decoder.wants() else { break };
            let allowance = decoder.allowance();
            let doubled = decoder.allowed().saturating_mul(2).max(wanted).min(max);
            if charge.raise_to(doubled.saturating_sub(allowance)) {
                decoder.grant(doubled);
            } else if charge.raise_to(wanted.saturating_sub(allowance)) {
                decoder.grant(wanted);
            } else {
                let Some(problem) = decoder.refuse(budget.limit) else { break };
                charge.release();
                if let Err(reason) = answer(&mut stream, handler, Inbound::Invalid(problem), peer, config, &mut out).await {
                    break 'connection reason;
                }
            }
        }
        let idle = !decoder.in_frame();
        let (wait, deadline) = if idle {
            timed = None;
            (config.idle_timeout, false)
        } else {
            let number = decoder.frames_started();
            let started = match timed {
                Some((n, at)) if n == number => at,
                _ => {
                    let now = Instant::now();
                    timed = Some((number, now));
                    now
                }
            };
            let left = config.frame_timeout.saturating_sub(started.elapsed());
            if left < config.read_timeout {
                (left, true)
            } else {
                (config.read_timeout, false)
            }
        };
        let read = tokio::select! {
            biased;
            _ = stop.changed() => break CloseReason::Shutdown,
            read = tokio::time::timeout(wait, stream.read(&mut buf)) => read,
        };
        let (ended, reason) = match read {
            Ok(Ok(0)) => (true, CloseReason::PeerClosed),
            // A TLS peer that closes without close_notify: the same as a close for MLLP.
            Ok(Err(error)) if error.kind() == io::ErrorKind::UnexpectedEof => (true, CloseReason::PeerClosed),
            Ok(Ok(n)) => {
                decoder.push(buf.get(..n).unwrap_or_default());
                continue;
            }
            Ok(Err(error)) => (false, CloseReason::Io(error)),
            Err(_) if idle => (true, CloseReason::IdleTimeout),
            Err(_) if deadline => (true, CloseReason::FrameTimeout),
            Err(_) => (true, CloseReason::ReadTimeout),
        };
        if ended {
            // A half frame or unreported skipped bytes: the handler hears of them, and may answer.
            let problem = decoder.finish();
            charge.release();
            if let Some(problem) = problem {
                if let Err(reason) =
                    answer(&mut stream, handler, Inbound::Invalid(problem), peer, config, &mut out).await
                {
                    break reason;
                }
            }
        }
        break reason;
    };
    // Best effort: sends TLS close_notify / FIN; the peer may already be gone.
    let _ = tokio::time::timeout(config.write_timeout, stream.shutdown()).await;
    reason
}

/// Hands one event to the handler and writes its answer, if any.
async fn answer<S, H>(
    stream: &mut S,
    handler: &H,
    inbound: Inbound,
    peer: SocketAddr,
    config: &Config,
    out: &mut Vec<u8>,
) -> Result<(), CloseReason>
where
    S: AsyncWrite + Unpin,
    H: Handler + ?Sized,
{
    let Some(reply) = handler.handle(inbound, peer).await else {
        return Ok(());
    };
    write_frame(stream, &reply, out, config.write_timeout).await.map_err(|failure| match failure {
        WriteFailure::Timeout => CloseReason::WriteTimeout,
        WriteFailure::Io(error) => CloseReason::Io(error),
    })
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere than Unix), to pass as `serve`'s `shutdown`.
///
/// If a signal cannot be watched (no signal driver), that signal keeps its default action,
/// which ends the process, so waiting forever on it is the right fallback.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let wait = |kind: SignalKind| async move {
            match signal(kind) {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(SignalKind::interrupt()) => {}
            () = wait(SignalKind::terminate()) => {}
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::tests::Recorder;

    #[tokio::test]
    async fn each_answer_is_one_write_call_and_events_come_in_order() {
        let mut script = b"junk".to_vec();
        for payload in [&b"MSH|1\r"[..], b"MSH|2\r", b"MSH|3"] {
            crate::frame::encode(payload, &mut script);
        }
        script.extend_from_slice(b"\x0Bhalf");
        let stream = Recorder { script: std::io::Cursor::new(script), writes: Vec::new() };
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let handler = move |event: Inbound, _peer: SocketAddr| {
            let answer = match &event {
                Inbound::Message(payload) => [b"ACK ".as_slice(), payload].concat(),
                Inbound::Invalid(problem) => problem.to_string().into_bytes(),
            };
            log.lock().unwrap().push(format!("{event:?}"));
            async move { Some(answer) }
        };
        let (_stop_tx, stop) = watch::channel(false);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut stream = stream;
        let budget = Budget::new(0);
        let reason = run_connection(&mut stream, peer, &Config::default(), &handler, stop, &budget).await;
        assert!(matches!(reason, CloseReason::PeerClosed), "{reason:?}");
        assert_eq!(seen.lock().unwrap().len(), 5);
        let mut expected = Vec::new();
        for answer in [
            "4 bytes outside any MLLP frame skipped (not preceded by a start block 0x0B)".as_bytes(),
            b"ACK MSH|1\r",
            b"ACK MSH|2\r",
            b"ACK MSH|3",
            b"MLLP frame cut short after 4 payload bytes (no end block 0x1C 0x0D): dropped",
        ] {
            let mut frame = Vec::new();
            crate::frame::encode(answer, &mut frame);
            expected.push(frame);
        }
        assert_eq!(stream.writes, expected, "one write call per answer frame, in order");
    }

    #[tokio::test]
    async fn a_frame_past_the_budget_is_refused_and_the_budget_given_back() {
        let mut script = Vec::new();
        for size in [300_000, 50_000, 150_000] {
            crate::frame::encode(&vec![b'x'; size], &mut script);
        }
        let mut stream = Recorder { script: std::io::Cursor::new(script), writes: Vec::new() };
        let budget = Budget::new(200_000);
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let handler = move |event: Inbound, _peer: SocketAddr| {
            log.lock().unwrap().push(match event {
                Inbound::Message(payload) => format!("message {}", payload.len()),
                Inbound::Invalid(problem) => problem.to_string(),
            });
            async { None }
        };
        let (_stop_tx, stop) = watch::channel(false);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let config = Config { limits: hl7_runtime::Limits { max_message_bytes: 1 << 20, ..Default::default() }, ..Config::default() };
        let reason = run_connection(&mut stream, peer, &config, &handler, stop, &budget).await;
        assert!(matches!(reason, CloseReason::PeerClosed), "{reason:?}");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(seen[0].starts_with("MLLP frame refused at ") && seen[0].contains("budget of 200000 bytes"), "{seen:?}");
        assert_eq!(seen[1..], ["message 50000", "message 150000"]);
        assert_eq!(budget.used(), 0, "every charge given back");
    }
}
