//! Timeouts and bounds shared by the server and the client.

use std::time::Duration;

use hl7_runtime::Limits;

/// The default largest frame payload: 16 MiB. The guide's largest message, a flow-3 ORU
/// carrying an imaging protocol in Base64, is a few MB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 << 20;

/// The default budget for frames being read, all connections together: 128 MiB (eight
/// frames at the default limit).
pub const DEFAULT_MAX_INFLIGHT_BYTES: usize = 128 << 20;

/// Transport settings. Build one with struct update syntax:
///
/// ```
/// use std::time::Duration;
/// let config = hl7_mllp::Config { read_timeout: Duration::from_secs(5), ..Default::default() };
/// assert_eq!(config.max_connections, 1024);
/// assert_eq!(config.max_frame_payload(), 16 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Resource limits; `limits.max_message_bytes` is the largest frame payload accepted (by the
    /// server for messages, by the client for answers).
    pub limits: Limits,
    /// Client: the longest wait to open a connection, TLS handshake included.
    pub connect_timeout: Duration,
    /// Server: the longest TLS handshake; a connection takes one of the `max_connections`
    /// slots only once its handshake is done.
    pub handshake_timeout: Duration,
    /// Server: the longest wait for the next bytes of a frame that has started before the
    /// connection is closed. Client: the longest wait for the whole answer after the message is
    /// written.
    pub read_timeout: Duration,
    /// Server: the longest a frame may take from its start block to its end block, however
    /// steadily its bytes arrive; past it the connection is closed.
    pub frame_timeout: Duration,
    /// The longest time to write one frame (an ACK, or a message).
    pub write_timeout: Duration,
    /// Server: a connection with no frame in progress is closed after this long without a byte.
    pub idle_timeout: Duration,
    /// Server: connections served at once; further ones are closed as soon as accepted.
    pub max_connections: usize,
    /// Server: connections from one IP address at once (TLS handshakes included); further
    /// ones are closed as soon as accepted.
    pub max_connections_per_peer: usize,
    /// Server: bytes that frames being read may hold, all connections together (each frame
    /// holds its first 64 KiB outside it). A frame that would need more is answered as
    /// oversized ([`crate::FrameError::OverBudget`]) and discarded, not read into memory.
    pub max_inflight_bytes: usize,
}

impl Default for Config {
    /// [`Limits::DEFAULT`] with [`DEFAULT_MAX_FRAME_BYTES`] (16 MiB frames), 10 s to connect
    /// or to complete a TLS handshake, 30 s to read the next bytes of a started frame (or an
    /// answer), 120 s for a whole frame, 10 s to write a frame, 300 s idle, 1024 connections,
    /// 64 per IP address, [`DEFAULT_MAX_INFLIGHT_BYTES`] (128 MiB) for frames being read.
    fn default() -> Self {
        Config {
            limits: Limits { max_message_bytes: DEFAULT_MAX_FRAME_BYTES, ..Limits::DEFAULT },
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            frame_timeout: Duration::from_secs(120),
            write_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_connections: 1024,
            max_connections_per_peer: 64,
            max_inflight_bytes: DEFAULT_MAX_INFLIGHT_BYTES,
        }
    }
}

impl Config {
    /// The largest frame payload accepted: `limits.max_message_bytes`.
    pub fn max_frame_payload(&self) -> usize {
        self.limits.max_message_bytes
    }
}
