//! The receiving side on the network: each MLLP frame goes through the receive pipeline
//! ([`crate::receive::prepare`]), then the store ([`Store::receive`]), and the ACK is written
//! back once the store has committed.
//!
//! Framing problems reported by the transport are answered so that a sender waiting for an
//! ACK is not left hanging, and logged; none is stored, since there is no message to store:
//!
//! | problem | answer |
//! |---|---|
//! | bytes outside any frame | none (an answer would be taken for the next message's ACK); logged |
//! | frame over the size limit | AE, MSA-2 `UNKNOWN`, `ERR|||207^Application internal error^HL70357|E||||the message is larger than N bytes…`; the connection stays open |
//! | frame over the memory budget (`--max-inflight-bytes`, all connections together) | the same AE, `…refused: this receiver's N bytes for messages being received are in use…`; the rest of the frame is discarded unread, the connection stays open |
//! | frame cut short (the peer closed, or the read or frame deadline passed) | the same AE with the reason (the peer has usually gone) |
//!
//! # Log
//!
//! Through `tracing` (the `telerad` binary chooses the format and the level): one line per
//! message at INFO, target `telerad::message` ([`log_message`]), and one per connection event,
//! target `telerad::connection` (`open` and `close` at INFO, `refused` at WARN with its reason).
//! No line holds patient data: the header's sender, MSH-10 and profile, the ACK's MSA-1 and
//! error count, never a byte of the message or anything of PID.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hl7_mllp::{FrameError, Handler, Inbound, ServerEvent};
use hl7_runtime::ack::{self, AckOptions, Decision};
use hl7_runtime::validate::finding::code;
use hl7_runtime::validate::Erl;
use hl7_runtime::Limits;

use crate::receive::{self, Admission, Role};
use crate::senders::Origin;
use crate::store::Store;

/// The MLLP handler of `telerad serve`.
pub struct Receiver {
    pub store: Store,
    pub role: Role,
    pub limits: Limits,
    /// Unused: connection events are logged at INFO (`--verbose` now lowers the log level).
    pub verbose: bool,
    /// `--charset-fallback windows-1252` (see [`receive::prepare_with`]).
    pub windows_1252_fallback: bool,
    /// `--senders`, `--application`, `--facility`, `--processing-id`.
    pub admission: Admission,
    /// `--metrics`.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Receiver {
    /// Parse, validate and read on this task, then store and wait for the commit. `origin`:
    /// the connection's address and client certificate subject.
    pub async fn message(&self, bytes: Vec<u8>, origin: Origin) -> Vec<u8> {
        let peer = origin.address.map(|ip| SocketAddr::new(ip, 0));
        self.receive(bytes, origin, peer).await
    }

    async fn receive(&self, bytes: Vec<u8>, origin: Origin, peer: Option<SocketAddr>) -> Vec<u8> {
        let start = Instant::now();
        let prepared = receive::prepare_from(bytes, self.role, &self.limits, self.windows_1252_fallback, &self.admission, origin);
        if let Some(reason) = &prepared.refusal {
            tracing::warn!(target: "telerad::message", control_id = %prepared.control_id, "MSH-10 `{}` refused (AR): {reason}", prepared.control_id);
        }
        // What the log line needs, taken before the store owns the message (no patient data).
        let header = tracing::enabled!(target: "telerad::message", tracing::Level::INFO).then(|| (prepared.sender.clone(), prepared.control_id.clone()));
        let profile = prepared.profile;
        let ack = self.store.receive(prepared).await;
        if header.is_none() && self.metrics.is_none() {
            return ack;
        }
        let elapsed = start.elapsed();
        let summary = AckSummary::of(&ack);
        if let Some(m) = &self.metrics {
            m.message(profile, &summary.code, elapsed);
        }
        if let Some((sender, control_id)) = header {
            let ack_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            log_message(&MessageLog { direction: "in", peer: peer.map(|p| p.to_string()), sender: &sender, control_id: &control_id, profile, ack: &summary, ack_us });
        }
        ack
    }

    /// The AE for a framing problem (see the module table), or `None`.
    pub fn frame_problem(&self, problem: &FrameError, peer: SocketAddr) -> Option<Vec<u8>> {
        tracing::warn!(target: "telerad::connection", event = "frame", peer = %peer, "{problem}");
        if let Some(m) = &self.metrics {
            m.frame_problem(match problem {
                FrameError::TooLarge { .. } => "too_large",
                FrameError::OverBudget { .. } => "over_budget",
                FrameError::Garbage { .. } => "garbage",
                FrameError::Truncated { .. } => "truncated",
                _ => "other",
            });
        }
        let text = match problem {
            FrameError::Garbage { .. } => return None,
            FrameError::TooLarge { limit } => format!("the message is larger than {limit} bytes, this receiver's limit: it was not read"),
            FrameError::OverBudget { budget, .. } => format!("the message was refused: this receiver's {budget} bytes for messages being received are in use; it was not read and may be sent again"),
            other => format!("{other}: the message was not read"),
        };
        let finding = receive::error(code::APPLICATION_INTERNAL, Erl::default(), "frame", text);
        let now = (self.store.options().clock)();
        let (clock, id) = (move || now.dtm.clone(), || "FRAME".to_owned());
        let opts = AckOptions { receiver: self.store.options().identity.clone(), clock: &clock, next_id: &id };
        ack::build(None, b"", &[finding], Decision::Accept, &opts).ok()
    }
}

impl Handler for Receiver {
    async fn handle(&self, event: Inbound, peer: SocketAddr) -> Option<Vec<u8>> {
        match event {
            Inbound::Message(bytes) => {
                let origin = Origin { address: Some(peer.ip()), certificate: hl7_mllp::client_certificate_subject() };
                Some(self.receive(bytes, origin, Some(peer)).await)
            }
            Inbound::Invalid(problem) => self.frame_problem(&problem, peer),
        }
    }

    fn event(&self, event: ServerEvent) {
        if let Some(m) = &self.metrics {
            match &event {
                ServerEvent::Accepted { .. } => m.connection_opened(),
                ServerEvent::Closed { .. } => m.connection_closed(),
                ServerEvent::Refused { .. } => m.connection_refused("max_connections"),
                ServerEvent::RefusedPeer { .. } => m.connection_refused("max_connections_per_peer"),
                _ => {}
            }
        }
        match event {
            ServerEvent::Refused { peer, limit } => {
                tracing::warn!(target: "telerad::connection", event = "refused", peer = %peer, reason = %format!("{limit} connections already open"), "connection refused")
            }
            ServerEvent::RefusedPeer { peer, limit } => {
                tracing::warn!(target: "telerad::connection", event = "refused", peer = %peer, reason = %format!("{limit} connections already open from {}", peer.ip()), "connection refused")
            }
            ServerEvent::AcceptFailed { error, unreported: 0 } => {
                tracing::error!(target: "telerad::connection", "accept failed: {error} (retrying; the next failures within 10 s are counted, not logged)")
            }
            ServerEvent::AcceptFailed { error, unreported } => tracing::error!(target: "telerad::connection", "accept failed: {error} ({unreported} more failure(s) since the last report)"),
            ServerEvent::Accepted { peer } => tracing::info!(target: "telerad::connection", event = "open", peer = %peer, "connection opened"),
            ServerEvent::Closed { peer, reason } => tracing::info!(target: "telerad::connection", event = "close", peer = %peer, reason = %reason, "connection closed"),
            _ => {}
        }
    }
}

/// MSA-1 of an ACK and its ERR segments whose ERR-4 is `E`, read without parsing the ACK
/// (it is this side's or a peer's answer; a segment is a line ended by CR).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AckSummary {
    /// MSA-1, empty when there is no MSA.
    pub code: String,
    /// ERR segments with ERR-4 `E` (errors).
    pub errors: usize,
}

impl AckSummary {
    pub fn of(ack: &[u8]) -> AckSummary {
        let separator = ack.get(3).copied().unwrap_or(b'|');
        let mut out = AckSummary::default();
        for segment in ack.split(|&b| b == b'\r' || b == b'\n') {
            let mut fields = segment.split(|&b| b == separator);
            match fields.next() {
                Some(b"MSA") if out.code.is_empty() => out.code = String::from_utf8_lossy(fields.next().unwrap_or_default()).trim().to_owned(),
                Some(b"ERR") if fields.nth(3).is_some_and(|f| f.trim_ascii() == b"E") => out.errors += 1,
                _ => {}
            }
        }
        out
    }
}

/// One message received or sent, as logged.
pub struct MessageLog<'a> {
    /// `in` or `out`.
    pub direction: &'static str,
    /// The peer's address (`HOST:PORT` for a message sent).
    pub peer: Option<String>,
    pub sender: &'a receive::Sender,
    pub control_id: &'a str,
    pub profile: Option<&'a str>,
    pub ack: &'a AckSummary,
    /// From the message read to its ACK written (received), or from sending to the ACK read.
    pub ack_us: u64,
}

/// The line of a message: INFO, target `telerad::message`, with the fields `direction`,
/// `peer`, `sender_application`, `sender_facility`, `control_id` (MSH-10), `profile`, `msa`
/// (MSA-1), `errors` (ERR segments of severity E in the ACK) and `ack_us`.
pub fn log_message(m: &MessageLog<'_>) {
    tracing::info!(
        target: "telerad::message",
        direction = m.direction,
        peer = m.peer.as_deref().unwrap_or(""),
        sender_application = %m.sender.application,
        sender_facility = %m.sender.facility,
        control_id = %m.control_id,
        profile = m.profile.unwrap_or(""),
        msa = %m.ack.code,
        errors = m.ack.errors,
        ack_us = m.ack_us,
        "message {}", if m.direction == "in" { "received" } else { "sent" }
    );
}

/// Microseconds since `start`.
pub fn micros(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Serves until `shutdown` resolves, then lets the connections finish what they hold.
pub async fn run(
    listener: tokio::net::TcpListener,
    tls: Option<hl7_mllp::tokio_rustls::TlsAcceptor>,
    config: hl7_mllp::Config,
    receiver: Arc<Receiver>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    hl7_mllp::serve(listener, tls, config, receiver, shutdown).await
}
