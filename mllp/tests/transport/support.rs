//! A server on loopback with a recording handler, raw-socket helpers and a time bound for every
//! test, so that a regression fails instead of hanging.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hl7_mllp::{encode, CloseReason, Config, FrameDecoder, FrameError, Handler, Inbound, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// The longest any single test step may take before the test fails.
pub const BOUND: Duration = Duration::from_secs(20);

/// Runs `step`, failing the test if it takes longer than [`BOUND`].
pub async fn bounded<F: Future>(step: F) -> F::Output {
    tokio::time::timeout(BOUND, step).await.expect("test step exceeded its time bound")
}

/// Timeouts that a loaded machine does not hit by accident; tests of a timeout shorten that one.
pub fn test_config() -> Config {
    Config {
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(10),
        write_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
        ..Config::default()
    }
}

/// What the recording handler saw, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    Message(Vec<u8>),
    Invalid(FrameError),
    Accepted,
    Refused,
    Closed(String),
}

/// Answers `ACK:` + the message, `NAK: <problem>` for an oversized or truncated frame and
/// nothing for skipped bytes; records everything. `delay` holds each message that long, and
/// `started` is notified when a message reaches the handler.
#[derive(Default)]
pub struct Recorder {
    pub seen: Mutex<Vec<Seen>>,
    pub delay: Duration,
    pub started: Notify,
}

impl Recorder {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn record(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
    }

    /// Waits until `check` holds for what was seen (the server records asynchronously).
    pub async fn wait_for(&self, check: impl Fn(&[Seen]) -> bool) {
        bounded(async {
            while !check(&self.seen()) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
    }
}

impl Handler for Recorder {
    async fn handle(&self, event: Inbound, _peer: SocketAddr) -> Option<Vec<u8>> {
        match event {
            Inbound::Message(payload) => {
                self.record(Seen::Message(payload.clone()));
                self.started.notify_one();
                tokio::time::sleep(self.delay).await;
                Some([b"ACK:".as_slice(), &payload].concat())
            }
            Inbound::Invalid(problem) => {
                self.record(Seen::Invalid(problem.clone()));
                match problem {
                    FrameError::Garbage { .. } => None,
                    problem => Some(format!("NAK: {problem}").into_bytes()),
                }
            }
        }
    }

    fn event(&self, event: ServerEvent) {
        match event {
            ServerEvent::Accepted { .. } => self.record(Seen::Accepted),
            ServerEvent::Refused { .. } => self.record(Seen::Refused),
            ServerEvent::Closed { reason, .. } => self.record(Seen::Closed(reason_name(&reason))),
            _ => {}
        }
    }
}

/// A short name for a close reason, to compare in tests.
pub fn reason_name(reason: &CloseReason) -> String {
    match reason {
        CloseReason::PeerClosed => "peer closed",
        CloseReason::IdleTimeout => "idle timeout",
        CloseReason::ReadTimeout => "read timeout",
        CloseReason::FrameTimeout => "frame deadline",
        CloseReason::ConnectionLimit => "connection limit",
        CloseReason::WriteTimeout => "write timeout",
        CloseReason::Shutdown => "shutdown",
        CloseReason::TlsHandshake(_) => "tls handshake",
        CloseReason::TlsHandshakeTimeout => "tls handshake timeout",
        CloseReason::Io(_) => "io",
        _ => "other",
    }
    .to_owned()
}

/// A server running `serve` on a loopback port.
pub struct Server {
    pub addr: SocketAddr,
    pub handler: Arc<Recorder>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Server {
    pub async fn start(config: Config, tls: Option<TlsAcceptor>, handler: Recorder) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = Arc::new(handler);
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(hl7_mllp::serve(listener, tls, config, Arc::clone(&handler), shutdown));
        Server { addr, handler, stop: Some(stop), task }
    }

    /// Asks the server to stop (without waiting).
    pub fn trigger_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and returns what `serve` returned.
    pub async fn stop(mut self) -> io::Result<()> {
        self.trigger_shutdown();
        bounded(self.task).await.unwrap()
    }
}

/// Writes `payloads` framed, all in one write.
pub async fn write_frames(stream: &mut TcpStream, payloads: &[&[u8]]) {
    let mut wire = Vec::new();
    for payload in payloads {
        encode(payload, &mut wire);
    }
    stream.write_all(&wire).await.unwrap();
}

/// Reads MLLP answers from a raw socket.
pub struct Reader {
    decoder: FrameDecoder,
}

impl Reader {
    pub fn new() -> Reader {
        Reader { decoder: FrameDecoder::new(1 << 20) }
    }

    /// The next answer frame's payload, or `None` if the server closed the connection first.
    pub async fn next(&mut self, stream: &mut TcpStream) -> Option<Vec<u8>> {
        bounded(async {
            let mut buf = [0u8; 4096];
            loop {
                if let Some(frame) = self.decoder.next_frame() {
                    return Some(frame.unwrap().payload);
                }
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.decoder.push(&buf[..n]),
                }
            }
        })
        .await
    }
}

/// Waits until the server closes `stream`, failing the test if it sends a frame instead.
pub async fn expect_closed(stream: &mut TcpStream) {
    assert_eq!(Reader::new().next(stream).await, None, "expected the server to close the connection");
}
