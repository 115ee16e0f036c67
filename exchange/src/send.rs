//! Sending messages to a peer: one connection kept open for many messages, reconnecting and
//! re-sending with backoff when it fails. Re-sending is safe because the receiver recognises a
//! message it already stored (sender and MSH-10) and answers its stored ACK again.
//!
//! Recording what was sent in this side's store is [`record`]: after the peer's ACK, the
//! message is stored as outbound with that ACK, and its order events are applied only when the
//! peer accepted it (MSA-1 `AA` or `CA`), so the store follows what the peer integrated.

use std::time::Duration;

use hl7_mllp::rustls_pki_types::ServerName;
use hl7_mllp::tokio_rustls::TlsConnector;
use hl7_mllp::{Client, ClientError, Config, RetryPolicy};

use crate::store::{Outbound, Recorded, Store, StoreError};

/// Where and how to send.
#[derive(Clone)]
pub struct Target {
    /// `host:port`.
    pub addr: String,
    /// The TLS connector and the name the server's certificate must carry.
    pub tls: Option<(TlsConnector, ServerName<'static>)>,
    pub config: Config,
    /// Attempts per message (connection failures and lost answers), with backoff.
    pub retry: RetryPolicy,
}

impl Target {
    /// Plain TCP with the given timeouts and the default retry policy of [`Target::retry`].
    pub fn plain(addr: impl Into<String>, config: Config) -> Target {
        Target { addr: addr.into(), tls: None, config, retry: default_retry() }
    }
}

/// 6 attempts: waits of 0.2, 0.4, 0.8, 1.6 and 3.2 s between them (about 6 s in all).
pub fn default_retry() -> RetryPolicy {
    RetryPolicy { attempts: 6, initial_backoff: Duration::from_millis(200), max_backoff: Duration::from_secs(5) }
}

/// A connection to a target, opened on first use and reopened after a failure.
pub struct Link {
    target: Target,
    client: Option<Client>,
    /// Connections opened so far (the first included).
    pub connections: u64,
}

impl Link {
    pub fn new(target: Target) -> Link {
        Link { target, client: None, connections: 0 }
    }

    /// Sends one message and returns the peer's answer (the ACK payload). A failure that may
    /// pass (connection refused or lost, timeout) is retried on a new connection after a
    /// backoff, up to the policy's attempts; the last error is returned.
    pub async fn send(&mut self, message: &[u8]) -> Result<Vec<u8>, ClientError> {
        let policy = self.target.retry;
        let mut backoff = policy.initial_backoff.min(policy.max_backoff);
        let mut attempt = 1;
        loop {
            let result = self.try_once(message).await;
            match result {
                Ok(answer) => return Ok(answer),
                Err(e) if attempt < policy.attempts.max(1) && e.is_retryable() => {
                    self.client = None;
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2).min(policy.max_backoff);
                    attempt += 1;
                }
                Err(e) => {
                    self.client = None;
                    return Err(e);
                }
            }
        }
    }

    async fn try_once(&mut self, message: &[u8]) -> Result<Vec<u8>, ClientError> {
        let client = match &mut self.client {
            Some(c) => c,
            None => {
                let c = Client::connect(self.target.addr.as_str(), self.target.tls.clone(), &self.target.config).await?;
                self.connections += 1;
                self.client.insert(c)
            }
        };
        client.send(message).await
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        if let Some(c) = self.client.take() {
            c.close().await;
        }
    }
}

/// MSA-1 and MSA-2 of an answer, when it is an ACK.
pub fn acknowledgment(answer: &[u8]) -> Option<(String, String)> {
    let msg = hl7_runtime::Message::parse_with(answer, &hl7_runtime::ParseOptions::lenient()).ok()?;
    let msa = msg.segments_by_id("MSA").next()?;
    Some((msa.field(1).text().trim().to_owned(), msa.field(2).first().text().trim().to_owned()))
}

/// One ERR segment of an ACK, as `send --verbose` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AckError {
    /// ERR-2, the error location (ERL) as ER7 writes it: `ORC^1^2`.
    pub location: String,
    /// ERR-3.1, the code of HL7 table 0357 (`205`).
    pub code: String,
    /// ERR-4, the severity (`E`, `W`, `I`).
    pub severity: String,
    /// ERR-8, the user message (decoded).
    pub text: String,
}

/// The ERR segments of an answer, in order (none when it does not parse).
pub fn ack_errors(answer: &[u8]) -> Vec<AckError> {
    let Ok(msg) = hl7_runtime::Message::parse_with(answer, &hl7_runtime::ParseOptions::lenient()) else {
        return Vec::new();
    };
    msg.segments_by_id("ERR")
        .map(|err| AckError {
            location: err.field(2).text().trim().to_owned(),
            code: err.field(3).first().component(1).text().trim().to_owned(),
            severity: err.field(4).text().trim().to_owned(),
            text: err.field(8).text().into_owned(),
        })
        .collect()
}

/// Whether MSA-1 says the peer took the message (original `AA` or enhanced `CA`).
pub fn accepted(code: &str) -> bool {
    matches!(code, "AA" | "CA")
}

/// What recording a sent message did, for the sender's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Stored, its order events applied (the peer accepted it).
    Applied,
    /// Stored without changing any order (the peer did not accept it).
    Kept,
    /// Already stored as sent (same sender and MSH-10): nothing changed.
    AlreadyRecorded,
    /// The peer accepted it but this side's workflow refuses the transition: stored without
    /// it, and the reason is returned for a warning.
    Inconsistent(String),
}

/// Stores a message sent and the peer's `answer` in `store` (see the module docs).
pub fn record(store: &Store, message: &[u8], answer: &[u8]) -> Result<RecordOutcome, StoreError> {
    let code = acknowledgment(answer).map(|(c, _)| c).unwrap_or_default();
    let prepared = crate::receive::read_outbound(message);
    let outbound = Outbound { ack: Some(answer.to_vec()), ..prepared };
    if !accepted(&code) {
        return Ok(match store.record_outbound(outbound, false)? {
            Recorded::AlreadyRecorded { .. } => RecordOutcome::AlreadyRecorded,
            _ => RecordOutcome::Kept,
        });
    }
    match store.record_outbound(outbound.clone(), true)? {
        Recorded::Stored { .. } => Ok(RecordOutcome::Applied),
        Recorded::AlreadyRecorded { .. } => Ok(RecordOutcome::AlreadyRecorded),
        Recorded::Refused { key, refusal } => {
            store.record_outbound(outbound, false)?;
            Ok(RecordOutcome::Inconsistent(format!("order {key}: {} ({})", refusal.reason, refusal.code)))
        }
    }
}
