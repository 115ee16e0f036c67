//! The MLLP client: one connection, one message at a time, one answer per message.
//!
//! A [`Client`] does not reconnect: after any error it is closed (a late answer could otherwise
//! be taken for the answer to the next message), and every later [`Client::send`] fails with
//! [`ClientError::Closed`]. [`send_with_retry`] is the reconnecting helper: it opens a fresh
//! connection per attempt, with exponential backoff.
//!
//! Retrying after a read timeout or a lost connection may deliver a message twice (it may have
//! been received before the answer was lost): HL7 receivers deduplicate on MSH-10.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_rustls::TlsConnector;

use crate::frame::{FrameDecoder, FrameError};
use crate::io::{write_frame, WriteFailure};
use crate::Config;

/// Bytes read at a time while waiting for an answer.
const READ_CHUNK: usize = 16 * 1024;

/// Which step of an exchange timed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Opening the connection, TLS handshake included (`connect_timeout`).
    Connect,
    /// Writing the message (`write_timeout`).
    Write,
    /// Waiting for the answer (`read_timeout`).
    Read,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "connecting",
            Stage::Write => "writing the message",
            Stage::Read => "waiting for the answer",
        })
    }
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The TCP connection could not be opened.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address as given.
        addr: String,
        /// The error from the system.
        source: io::Error,
    },
    /// TLS failed: the handshake (certificate not trusted, wrong name, server does not speak
    /// TLS, ...), or a TLS alert later (with TLS 1.3 a server refusing the client certificate
    /// says so only after the client's side of the handshake is done).
    #[error("TLS with {addr} failed: {source}")]
    Tls {
        /// The address as given.
        addr: String,
        /// The error, wrapping the `rustls::Error` when there is one.
        source: io::Error,
    },
    /// A step took longer than its timeout.
    #[error("timed out {stage} after {after:?}")]
    Timeout {
        /// The step.
        stage: Stage,
        /// The timeout in force.
        after: Duration,
    },
    /// Reading or writing failed.
    #[error("MLLP connection error: {0}")]
    Io(#[source] io::Error),
    /// The answer was not a proper frame (too large, or cut short by the end of the stream).
    #[error("bad answer frame: {0}")]
    Frame(#[source] FrameError),
    /// The peer closed the connection before answering, or this client was closed by an
    /// earlier error.
    #[error("connection closed before an answer")]
    Closed,
}

impl ClientError {
    /// Whether another attempt on a new connection may succeed: not for TLS failures
    /// (certificates do not fix themselves) nor for an answer over the size limit.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, ClientError::Tls { .. } | ClientError::Frame(FrameError::TooLarge { .. }))
    }
}

/// The byte stream under a client, TCP or TLS over TCP.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Stream for T {}

/// One MLLP connection to a receiver.
///
/// ```no_run
/// # async fn run() -> Result<(), hl7_mllp::ClientError> {
/// let config = hl7_mllp::Config::default();
/// let mut client = hl7_mllp::Client::connect("127.0.0.1:2575", None, &config).await?;
/// let ack = client.send(b"MSH|^~\\&|...\r").await?;
/// client.close().await;
/// # Ok(()) }
/// ```
pub struct Client {
    /// `None` once closed, by an error or [`Client::close`].
    stream: Option<Box<dyn Stream>>,
    /// The address as given, for error messages.
    addr: String,
    peer: SocketAddr,
    decoder: FrameDecoder,
    config: Config,
    buf: Vec<u8>,
    out: Vec<u8>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("peer", &self.peer).field("open", &self.stream.is_some()).finish()
    }
}

impl Client {
    /// Connects to `addr` (`"host:port"`, a `SocketAddr`, ...), through TLS when `tls` gives a
    /// connector and the name to verify the server's certificate against, all within
    /// `config.connect_timeout`.
    pub async fn connect<A>(
        addr: A,
        tls: Option<(TlsConnector, ServerName<'static>)>,
        config: &Config,
    ) -> Result<Client, ClientError>
    where
        A: ToSocketAddrs + fmt::Display,
    {
        let shown = addr.to_string();
        let connecting = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|source| ClientError::Connect { addr: shown.clone(), source })?;
            // Messages are single writes already; Nagle would only delay them.
            let _ = tcp.set_nodelay(true);
            let peer = tcp.peer_addr().map_err(|source| ClientError::Connect { addr: shown.clone(), source })?;
            let stream: Box<dyn Stream> = match tls {
                None => Box::new(tcp),
                Some((connector, name)) => Box::new(
                    connector
                        .connect(name, tcp)
                        .await
                        .map_err(|source| ClientError::Tls { addr: shown.clone(), source })?,
                ),
            };
            Ok((stream, peer))
        };
        let (stream, peer) = tokio::time::timeout(config.connect_timeout, connecting)
            .await
            .map_err(|_| ClientError::Timeout { stage: Stage::Connect, after: config.connect_timeout })??;
        Ok(Client {
            stream: Some(stream),
            addr: shown,
            peer,
            decoder: FrameDecoder::new(config.max_frame_payload()),
            config: *config,
            buf: vec![0u8; READ_CHUNK],
            out: Vec::new(),
        })
    }

    /// The address connected to.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Sends `message` as one frame (one write, within `write_timeout`) and returns the payload
    /// of the answer frame, untouched, received within `read_timeout` of the write. Bytes
    /// outside a frame before the answer are skipped. On any error the connection is closed.
    pub async fn send(&mut self, message: &[u8]) -> Result<Vec<u8>, ClientError> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(ClientError::Closed);
        };
        let result = exchange(stream, message, &self.config, &mut self.decoder, &mut self.buf, &mut self.out)
            .await
            .map_err(|error| match error {
                ClientError::Io(source) if is_tls(&source) => ClientError::Tls { addr: self.addr.clone(), source },
                error => error,
            });
        if result.is_err() {
            self.stream = None;
            self.decoder.finish();
        }
        result
    }

    /// Closes the connection (TLS close_notify, then FIN), waiting at most `write_timeout`.
    pub async fn close(mut self) {
        if let Some(mut stream) = self.stream.take() {
            // Best effort: the answer is already in hand, and the peer may be gone.
            let _ = tokio::time::timeout(self.config.write_timeout, stream.shutdown()).await;
        }
    }
}

/// Writes one frame and reads one answer frame.
async fn exchange(
    stream: &mut Box<dyn Stream>,
    message: &[u8],
    config: &Config,
    decoder: &mut FrameDecoder,
    buf: &mut [u8],
    out: &mut Vec<u8>,
) -> Result<Vec<u8>, ClientError> {
    write_frame(stream, message, out, config.write_timeout).await.map_err(|failure| match failure {
        WriteFailure::Timeout => ClientError::Timeout { stage: Stage::Write, after: config.write_timeout },
        WriteFailure::Io(error) => ClientError::Io(error),
    })?;
    let reading = async {
        loop {
            match decoder.next_frame() {
                Some(Ok(frame)) => return Ok(frame.payload),
                Some(Err(FrameError::Garbage { .. })) => continue,
                Some(Err(problem)) => return Err(ClientError::Frame(problem)),
                None => {}
            }
            match stream.read(buf).await {
                Ok(0) => return Err(decoder.finish().map_or(ClientError::Closed, ClientError::Frame)),
                Ok(n) => decoder.push(buf.get(..n).unwrap_or_default()),
                // A TLS peer that closes without close_notify.
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(decoder.finish().map_or(ClientError::Closed, ClientError::Frame))
                }
                Err(error) => return Err(ClientError::Io(error)),
            }
        }
    };
    tokio::time::timeout(config.read_timeout, reading)
        .await
        .map_err(|_| ClientError::Timeout { stage: Stage::Read, after: config.read_timeout })?
}

/// Whether an I/O error comes from TLS (an alert, a bad record) rather than the network.
fn is_tls(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
}

/// How [`send_with_retry`] retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (0 counts as 1).
    pub attempts: u32,
    /// The wait before the second attempt; it doubles after each failure.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, waiting 1 s then 2 s, at most 30 s.
    fn default() -> Self {
        RetryPolicy { attempts: 3, initial_backoff: Duration::from_secs(1), max_backoff: Duration::from_secs(30) }
    }
}

/// Sends one message on a new connection and returns the answer; on a retryable failure
/// ([`ClientError::is_retryable`]) waits and tries again on another new connection, up to
/// `policy.attempts` in all. Returns the last error.
pub async fn send_with_retry<A>(
    addr: A,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    config: &Config,
    message: &[u8],
    policy: RetryPolicy,
) -> Result<Vec<u8>, ClientError>
where
    A: ToSocketAddrs + fmt::Display + Clone,
{
    let mut backoff = policy.initial_backoff.min(policy.max_backoff);
    let mut attempt = 1;
    loop {
        let result: Result<Vec<u8>, ClientError> = async {
            let mut client = Client::connect(addr.clone(), tls.clone(), config).await?;
            let answer = client.send(message).await?;
            client.close().await;
            Ok(answer)
        }
        .await;
        match result {
            Err(error) if attempt < policy.attempts && error.is_retryable() => {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2).min(policy.max_backoff);
                attempt += 1;
            }
            result => return result,
        }
    }
}
