//! The receiving side on the network: each MLLP frame goes through the receive pipeline
//! ([`crate::receive::prepare`]), then the store ([`Store::receive`]), and the ACK is written
//! back once the store has committed.
//!
//! Framing problems reported by the transport are answered so that a sender waiting for an
//! ACK is not left hanging, and logged on standard error; none is stored, since there is no
//! message to store:
//!
//! | problem | answer |
//! |---|---|
//! | bytes outside any frame | none (an answer would be taken for the next message's ACK); logged |
//! | frame over the size limit | AE, MSA-2 `UNKNOWN`, `ERR|||207^Application internal error^HL70357|E||||the message is larger than N bytes…`; the connection stays open |
//! | frame over the memory budget (`--max-inflight-bytes`, all connections together) | the same AE, `…refused: this receiver's N bytes for messages being received are in use…`; the rest of the frame is discarded unread, the connection stays open |
//! | frame cut short (the peer closed, or the read or frame deadline passed) | the same AE with the reason (the peer has usually gone) |

use std::net::SocketAddr;
use std::sync::Arc;

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
    /// Log connection events (accepted, closed) on standard error, not only problems.
    pub verbose: bool,
    /// `--charset-fallback windows-1252` (see [`receive::prepare_with`]).
    pub windows_1252_fallback: bool,
    /// `--senders`, `--application`, `--facility`, `--processing-id`.
    pub admission: Admission,
}

impl Receiver {
    /// Parse, validate and read on this task, then store and wait for the commit. `origin`:
    /// the connection's address and client certificate subject.
    pub async fn message(&self, bytes: Vec<u8>, origin: Origin) -> Vec<u8> {
        let prepared = receive::prepare_from(bytes, self.role, &self.limits, self.windows_1252_fallback, &self.admission, origin);
        if let Some(reason) = &prepared.refusal {
            eprintln!("telerad serve: MSH-10 `{}` refused (AR): {reason}", prepared.control_id);
        }
        self.store.receive(prepared).await
    }

    /// The AE for a framing problem (see the module table), or `None`.
    pub fn frame_problem(&self, problem: &FrameError, peer: SocketAddr) -> Option<Vec<u8>> {
        eprintln!("telerad serve: {peer}: {problem}");
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
                Some(self.message(bytes, origin).await)
            }
            Inbound::Invalid(problem) => self.frame_problem(&problem, peer),
        }
    }

    fn event(&self, event: ServerEvent) {
        match event {
            ServerEvent::Refused { peer, limit } => eprintln!("telerad serve: {peer}: refused, {limit} connections already open"),
            ServerEvent::RefusedPeer { peer, limit } => eprintln!("telerad serve: {peer}: refused, {limit} connections already open from {}", peer.ip()),
            ServerEvent::AcceptFailed { error, unreported: 0 } => eprintln!("telerad serve: accept failed: {error} (retrying; the next failures within 10 s are counted, not logged)"),
            ServerEvent::AcceptFailed { error, unreported } => eprintln!("telerad serve: accept failed: {error} ({unreported} more failure(s) since the last report)"),
            ServerEvent::Accepted { peer } if self.verbose => eprintln!("telerad serve: {peer}: connected"),
            ServerEvent::Closed { peer, reason } if self.verbose => eprintln!("telerad serve: {peer}: closed ({reason})"),
            _ => {}
        }
    }
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
