//! The load tool behind `telerad load` (hidden subcommand) and the fault test: N connections
//! send M distinct flow-1 requests made from a template, each waiting for its ACK before the
//! next, re-sending on a new connection when one fails (the receiver removes duplicates).
//! It measures ACKed messages per second and the latency of each exchange (from the first
//! write to the ACK, retries included).

use std::time::{Duration, Instant};

use telerad_exchange::send::{acknowledgment, Link, Target};

/// What a load run saw.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Per message, in order of sending: its MSH-10 and MSA-1, or `None` when it was never
    /// answered (the retries ran out).
    pub outcomes: Vec<(String, Option<String>)>,
    /// One latency per answered message.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
    /// Connections opened in all (reconnections included).
    pub connections_opened: u64,
}

impl Report {
    pub fn answered(&self) -> usize {
        self.outcomes.iter().filter(|(_, c)| c.is_some()).count()
    }

    pub fn accepted(&self) -> usize {
        self.outcomes.iter().filter(|(_, c)| c.as_deref() == Some("AA")).count()
    }

    /// ACKed messages per second over the whole run.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.answered() as f64 / secs
        } else {
            0.0
        }
    }

    /// The latency below which `q` (0..=1) of the answered messages fall.
    pub fn quantile(&self, q: f64) -> Duration {
        let mut v = self.latencies.clone();
        v.sort_unstable();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let i = ((v.len() as f64 - 1.0) * q.clamp(0.0, 1.0)).round() as usize;
        v.get(i).copied().unwrap_or_default()
    }
}

/// The `n`-th message of a run: the template with its MSH-10 and its placer order number
/// (ORC-2.1, also in OBR-2) replaced by `<run>-<n>` forms, so each message is a new order.
pub struct Messages {
    template: String,
    control_id: String,
    placer: String,
    run: String,
}

impl Messages {
    /// `template` must parse and have MSH-10 and ORC-2.1.
    pub fn new(template: &[u8], run: &str) -> Result<Messages, String> {
        let msg = hl7_runtime::Message::parse(template).map_err(|e| format!("template: {e}"))?;
        let control_id = msg.segment(0).map(|s| s.field(10).text().into_owned()).unwrap_or_default();
        let placer = msg.segments_by_id("ORC").next().map(|s| s.field(2).first().component(1).text().into_owned()).unwrap_or_default();
        if control_id.is_empty() || placer.is_empty() {
            return Err("template: MSH-10 and ORC-2.1 must be set".into());
        }
        let template = String::from_utf8(template.to_vec()).map_err(|_| "template: not UTF-8".to_owned())?;
        Ok(Messages { template, control_id, placer, run: run.to_owned() })
    }

    /// MSH-10 of message `n`.
    pub fn control_id(&self, n: usize) -> String {
        format!("L{}-{n}", self.run)
    }

    pub fn message(&self, n: usize) -> Vec<u8> {
        self.template.replace(&self.control_id, &self.control_id(n)).replace(&self.placer, &format!("LOAD-{}-{n}", self.run)).into_bytes()
    }
}

/// Sends `count` messages over `connections` connections (message `n` on connection
/// `n % connections`), each connection one message at a time.
pub async fn run(target: &Target, connections: usize, count: usize, messages: &Messages) -> Report {
    let connections = connections.max(1);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let target = target.clone();
        let items: Vec<(usize, String, Vec<u8>)> = (c..count).step_by(connections).map(|n| (n, messages.control_id(n), messages.message(n))).collect();
        tasks.spawn(async move {
            let mut link = Link::new(target);
            let mut out = Vec::with_capacity(items.len());
            for (n, id, bytes) in items {
                let t = Instant::now();
                let answer = link.send(&bytes).await;
                let code = answer.ok().and_then(|a| acknowledgment(&a)).map(|(code, _)| code);
                out.push((n, id, code, t.elapsed()));
            }
            let opened = link.connections;
            link.close().await;
            (out, opened)
        });
    }
    let mut all = Vec::with_capacity(count);
    let mut report = Report::default();
    while let Some(done) = tasks.join_next().await {
        // A task only ends by returning; a panic in it is a bug, reported as unanswered.
        if let Ok((out, opened)) = done {
            all.extend(out);
            report.connections_opened += opened;
        }
    }
    report.elapsed = start.elapsed();
    all.sort_by_key(|(n, ..)| *n);
    for (_, id, code, latency) in all {
        if code.is_some() {
            report.latencies.push(latency);
        }
        report.outcomes.push((id, code));
    }
    report
}
