//! A look into the store for the people who run the exchange: the messages, filtered
//! (`telerad messages`), and one message with its findings and its ACK (`telerad show`).
//! Everything here reads; nothing writes.

use hl7_runtime::validate::{Erl, Finding, Severity};
use rusqlite::{params, Connection, OptionalExtension};

use crate::workflow::OrderKey;

/// Which messages `telerad messages` lists; every condition given must hold.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    /// Stored at or after this time (the store's UTC form, [`time_bound`]).
    pub since: Option<String>,
    /// Stored before this time.
    pub until: Option<String>,
    /// MSH-3 or MSH-4 is this, exactly.
    pub sender: Option<String>,
    /// MSH-10 is this, exactly.
    pub control_id: Option<String>,
    /// The message created or moved this order.
    pub order: Option<OrderKey>,
    /// MSA-1 of its ACK.
    pub msa: Option<String>,
}

impl MessageFilter {
    /// The filter's conditions as SQL to follow a `WHERE` (each one ` AND …`), with their values
    /// in order; `placeholder(n)` writes the n-th parameter as the database spells it (`?n` for
    /// SQLite, `$n` for PostgreSQL). One text for both stores, so they select the same rows.
    pub(crate) fn conditions(&self, placeholder: impl Fn(usize) -> String) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut values: Vec<String> = Vec::new();
        let mut condition = |clause: &str, value: &str| {
            values.push(value.to_owned());
            sql.push_str(&clause.replace('?', &placeholder(values.len())));
        };
        if let Some(v) = &self.since {
            condition(" AND received_at >= ?", v);
        }
        if let Some(v) = &self.until {
            condition(" AND received_at < ?", v);
        }
        if let Some(v) = &self.sender {
            condition(" AND (sender_application = ? OR sender_facility = ?)", v);
        }
        if let Some(v) = &self.control_id {
            condition(" AND control_id = ?", v);
        }
        if let Some(v) = &self.order {
            condition(" AND id IN (SELECT message_id FROM order_history WHERE order_key = ? UNION SELECT request_message FROM orders WHERE key = ?)", v.as_str());
        }
        if let Some(v) = &self.msa {
            condition(" AND ack_code = ?", v);
        }
        (sql, values)
    }
}

/// One stored message, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MessageRow {
    /// The row id, for `telerad show` and `telerad resend`.
    pub id: i64,
    /// `in` or `out`.
    pub direction: String,
    /// When it was stored (UTC, ISO 8601 with milliseconds).
    pub received_at: String,
    pub sender_application: String,
    pub sender_facility: String,
    pub control_id: String,
    pub profile: Option<String>,
    /// MSA-1 of its ACK (none for a message sent without an answer recorded).
    pub msa: Option<String>,
    /// Its error findings.
    pub errors: usize,
    /// The row whose MSH-10 it reused with other bytes.
    pub conflict_of: Option<i64>,
    /// Its sender was not allowed (`serve --senders`).
    pub refused: bool,
}

/// One stored message with everything kept of it.
#[derive(Clone, Debug)]
pub struct StoredMessage {
    pub row: MessageRow,
    pub raw: Vec<u8>,
    pub findings: Vec<Finding>,
    pub ack: Option<Vec<u8>>,
    /// The orders it created or moved, with the transition (`NW: - -> requested`).
    pub transitions: Vec<(String, String)>,
}

/// Why a stored message cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store: message {id}: its findings cannot be read: {source}")]
    Findings { id: i64, source: serde_json::Error },
}

const COLUMNS: &str = "id, direction, received_at, sender_application, sender_facility, control_id, profile, ack_code, findings, conflict_of, refused";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(MessageRow, String)> {
    Ok((
        MessageRow {
            id: r.get(0)?,
            direction: r.get(1)?,
            received_at: r.get(2)?,
            sender_application: r.get(3)?,
            sender_facility: r.get(4)?,
            control_id: r.get(5)?,
            profile: r.get(6)?,
            msa: r.get(7)?,
            errors: 0,
            conflict_of: r.get(9)?,
            refused: r.get(10)?,
        },
        r.get(8)?,
    ))
}

/// The messages `filter` selects, oldest first.
pub fn messages(conn: &Connection, filter: &MessageFilter) -> Result<Vec<MessageRow>, InspectError> {
    let (conditions, values) = filter.conditions(|n| format!("?{n}"));
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE 1 = 1{conditions} ORDER BY id");
    let rows: Vec<(MessageRow, String)> = conn.prepare(&sql)?.query_map(rusqlite::params_from_iter(values), row)?.collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(mut m, findings)| {
            m.errors = findings_of(&findings).map_err(|source| InspectError::Findings { id: m.id, source })?.iter().filter(|f| f.severity == Severity::Error).count();
            Ok(m)
        })
        .collect()
}

/// The message stored as row `id`.
pub fn message(conn: &Connection, id: i64) -> Result<Option<StoredMessage>, InspectError> {
    let found = conn
        .query_row(&format!("SELECT {COLUMNS}, raw, ack FROM messages WHERE id = ?1"), params![id], |r| Ok((row(r)?, r.get::<_, Vec<u8>>(11)?, r.get::<_, Option<Vec<u8>>>(12)?)))
        .optional()?;
    let Some(((mut row, findings), raw, ack)) = found else {
        return Ok(None);
    };
    let findings = findings_of(&findings).map_err(|source| InspectError::Findings { id, source })?;
    row.errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    let transitions = conn
        .prepare("SELECT order_key, order_control, COALESCE(from_state, '-'), to_state FROM order_history WHERE message_id = ?1 ORDER BY id")?
        .query_map(params![id], |r| Ok((r.get::<_, String>(0)?, format!("{}: {} -> {}", r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))))?
        .collect::<Result<_, _>>()?;
    Ok(Some(StoredMessage { row, raw, findings, ack, transitions }))
}

/// The findings of a stored message (the JSON the store wrote with `Finding`'s `Serialize`).
pub fn findings_of(json: &str) -> Result<Vec<Finding>, serde_json::Error> {
    let stored: Vec<StoredFinding> = serde_json::from_str(json)?;
    Ok(stored.into_iter().map(Finding::from).collect())
}

/// A finding as stored: `hl7_runtime`'s `Finding` serialised.
#[derive(serde::Deserialize)]
struct StoredFinding {
    severity: StoredSeverity,
    code: u16,
    location: StoredErl,
    rule: String,
    source: String,
    message: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum StoredSeverity {
    Error,
    Warning,
    Info,
}

#[derive(serde::Deserialize)]
struct StoredErl {
    segment: Option<String>,
    sequence: Option<u32>,
    field: Option<u32>,
    repetition: Option<u32>,
    component: Option<u32>,
    subcomponent: Option<u32>,
}

impl From<StoredFinding> for Finding {
    fn from(f: StoredFinding) -> Finding {
        let severity = match f.severity {
            StoredSeverity::Error => Severity::Error,
            StoredSeverity::Warning => Severity::Warning,
            StoredSeverity::Info => Severity::Info,
        };
        let l = f.location;
        let location = Erl { segment: l.segment, sequence: l.sequence, field: l.field, repetition: l.repetition, component: l.component, subcomponent: l.subcomponent };
        Finding { severity, code: f.code, location, rule: f.rule, source: f.source, message: f.message }
    }
}

/// A time bound of `--since`/`--until` in the store's form (`2026-12-06T10:00:00.000Z`): an
/// RFC 3339 time with its offset (`2026-12-06T11:00:00+01:00`) or a date (`2026-12-06`, its
/// start in UTC).
pub fn time_bound(text: &str) -> Result<String, String> {
    let utc = jiff::tz::TimeZone::UTC;
    let instant = match text.trim().parse::<jiff::Timestamp>() {
        Ok(t) => t,
        Err(_) => match text.trim().parse::<jiff::civil::Date>() {
            Ok(d) => utc.to_timestamp(d.to_datetime(jiff::civil::Time::midnight())).map_err(|e| format!("`{text}`: {e}"))?,
            Err(_) => return Err(format!("`{text}` is neither a date (2026-12-06) nor a time with its offset (2026-12-06T10:00:00Z)")),
        },
    };
    Ok(crate::clock::at(instant, &utc).iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds() {
        assert_eq!(time_bound("2026-12-06").unwrap(), "2026-12-06T00:00:00.000Z");
        assert_eq!(time_bound("2026-12-06T11:00:00+01:00").unwrap(), "2026-12-06T10:00:00.000Z");
        assert_eq!(time_bound("2026-12-06T10:00:00.25Z").unwrap(), "2026-12-06T10:00:00.250Z");
        assert!(time_bound("yesterday").unwrap_err().contains("`yesterday` is neither a date"));
        assert!(time_bound("2026-13-01").is_err());
    }

    #[test]
    fn stored_findings_read_back_as_written() {
        let f = crate::receive::error(205, Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(10), ..Erl::default() }, "duplicate-control-id", "again".into());
        let json = serde_json::to_string(std::slice::from_ref(&f)).unwrap();
        assert_eq!(findings_of(&json).unwrap(), vec![f]);
        assert!(findings_of("[{\"severity\": \"fatal\"}]").is_err());
    }
}
