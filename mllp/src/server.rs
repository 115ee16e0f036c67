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
//! - **Timeouts.** With no frame in progress, a connection silent for `idle_timeout` is closed
//!   (skipped bytes not yet reported are reported then, as [`FrameError::Garbage`]). Once a
//!   frame has started, each wait for more bytes is bounded by `read_timeout`; past it the
//!   partial frame is reported as [`FrameError::Truncated`] and the connection is closed. A TLS
//!   handshake is bounded by `connect_timeout`.
//! - **Connection limit.** Past `max_connections` open connections, a new connection is accepted
//!   and closed at once (reported as [`ServerEvent::Refused`]): the sender sees the close and can
//!   retry, instead of hanging in the listen backlog.
//! - **Shutdown.** When the `shutdown` future resolves, the listener is closed; a connection
//!   whose handler is running finishes it and writes the answer, then closes; connections
//!   waiting for bytes are closed at once (frames received but not yet handed to the handler are
//!   dropped unanswered: the sender, having no ACK, sends them again). `serve` returns `Ok(())`
//!   once every connection task has ended, so a handler that never completes keeps it waiting.
//! - **Errors** never stop the server: a failed `accept` (descriptor exhaustion, say) is reported
//!   and retried after a pause; a failed connection or handshake ends that connection only, as
//!   does a handler that panics.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::frame::{FrameDecoder, FrameError};
use crate::io::{write_frame, WriteFailure};
use crate::Config;

/// Bytes read from a connection at a time (the decoder holds partial frames, not this buffer).
const READ_CHUNK: usize = 16 * 1024;
/// Pause after an `accept` failure that is not about one connection (descriptors exhausted):
/// retrying at once would spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

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
    /// `accept` failed; the server goes on.
    AcceptFailed {
        /// The error from `accept`.
        error: io::Error,
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
    /// An answer could not be written within `write_timeout`.
    WriteTimeout,
    /// The server is shutting down.
    Shutdown,
    /// The TLS handshake failed (bad or missing client certificate, plaintext client, ...).
    TlsHandshake(io::Error),
    /// The TLS handshake took longer than `connect_timeout`.
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
    let slots = Arc::new(Semaphore::new(config.max_connections.min(Semaphore::MAX_PERMITS)));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            // Reap finished connection tasks so the set does not grow with the server's age.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                        handler.event(ServerEvent::Refused { peer, limit: config.max_connections });
                        drop(stream);
                        continue;
                    };
                    let handler = Arc::clone(&handler);
                    let tls = tls.clone();
                    let stop = stop_rx.clone();
                    connections.spawn(async move {
                        handler.event(ServerEvent::Accepted { peer });
                        let reason = serve_connection(stream, peer, tls, &config, &*handler, stop).await;
                        handler.event(ServerEvent::Closed { peer, reason });
                        drop(slot);
                    });
                }
                Err(error) => {
                    let per_connection = matches!(
                        error.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
                    );
                    handler.event(ServerEvent::AcceptFailed { error });
                    if !per_connection {
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                    }
                }
            },
        }
    }
    drop(listener);
    // Receivers outlive the send only if a task is still running; an error just means none is.
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Runs the TLS handshake if asked, then the connection; returns why it ended.
async fn serve_connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    config: &Config,
    handler: &H,
    mut stop: watch::Receiver<bool>,
) -> CloseReason {
    // Answers are single writes already; Nagle would only delay them.
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = tls else {
        return run_connection(stream, peer, config, handler, stop).await;
    };
    let handshake = tokio::time::timeout(config.connect_timeout, acceptor.accept(stream));
    tokio::select! {
        biased;
        _ = stop.changed() => CloseReason::Shutdown,
        done = handshake => match done {
            Ok(Ok(stream)) => {
                let subject = crate::peer::client_subject(&stream);
                crate::peer::with_client_subject(subject, run_connection(stream, peer, config, handler, stop)).await
            }
            Ok(Err(error)) => CloseReason::TlsHandshake(error),
            Err(_) => CloseReason::TlsHandshakeTimeout,
        },
    }
}

/// Reads frames from one connection, hands them to the handler in order and writes the
/// answers, until the peer leaves, a timeout expires or the server stops.
pub(crate) async fn run_connection<S, H>(
    mut stream: S,
    peer: SocketAddr,
    config: &Config,
    handler: &H,
    mut stop: watch::Receiver<bool>,
) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Unpin,
    H: Handler + ?Sized,
{
    let mut decoder = FrameDecoder::new(config.max_frame_payload());
    let mut buf = vec![0u8; READ_CHUNK];
    let mut out = Vec::new();
    let reason = 'connection: loop {
        while let Some(event) = decoder.next_frame() {
            let inbound = match event {
                Ok(frame) => Inbound::Message(frame.payload),
                Err(problem) => Inbound::Invalid(problem),
            };
            if let Err(reason) = answer(&mut stream, handler, inbound, peer, config, &mut out).await {
                break 'connection reason;
            }
            if *stop.borrow() {
                break 'connection CloseReason::Shutdown;
            }
        }
        let idle = !decoder.in_frame();
        let wait = if idle { config.idle_timeout } else { config.read_timeout };
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
            Err(_) => (true, CloseReason::ReadTimeout),
        };
        if ended {
            // A half frame or unreported skipped bytes: the handler hears of them, and may answer.
            if let Some(problem) = decoder.finish() {
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
        let reason = run_connection(&mut stream, peer, &Config::default(), &handler, stop).await;
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
}
