//! Timeouts and bounds shared by the server and the client.

use std::time::Duration;

use hl7_runtime::Limits;

/// Transport settings. Build one with struct update syntax:
///
/// ```
/// use std::time::Duration;
/// let config = hl7_mllp::Config { read_timeout: Duration::from_secs(5), ..Default::default() };
/// assert_eq!(config.max_connections, 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Resource limits; `limits.max_message_bytes` is the largest frame payload accepted (by the
    /// server for messages, by the client for answers).
    pub limits: Limits,
    /// Client: the longest wait to open a connection, TLS handshake included. Server: the
    /// longest TLS handshake.
    pub connect_timeout: Duration,
    /// Server: the longest wait for the next bytes of a frame that has started before the
    /// connection is closed. Client: the longest wait for the whole answer after the message is
    /// written.
    pub read_timeout: Duration,
    /// The longest time to write one frame (an ACK, or a message).
    pub write_timeout: Duration,
    /// Server: a connection with no frame in progress is closed after this long without a byte.
    pub idle_timeout: Duration,
    /// Server: connections served at once; further ones are closed as soon as accepted.
    pub max_connections: usize,
}

impl Default for Config {
    /// [`Limits::DEFAULT`] (64 MiB frames), 10 s to connect, 30 s to read a started frame (or
    /// an answer), 10 s to write a frame, 300 s idle, 1024 connections.
    fn default() -> Self {
        Config {
            limits: Limits::DEFAULT,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_connections: 1024,
        }
    }
}

impl Config {
    /// The largest frame payload accepted: `limits.max_message_bytes`.
    pub fn max_frame_payload(&self) -> usize {
        self.limits.max_message_bytes
    }
}
