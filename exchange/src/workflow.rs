//! The order workflow between the RIS and the platform, the same on both sides.
//!
//! An order is keyed by its placer order number, ORC-2 (see [`OrderKey`]). Every message of
//! the guide that carries an ORC is an order control event ([`Control`]) on the order its
//! ORC-2 names; [`transition`] says where it leads or why it is refused. The guide describes
//! the flows but not the sequence rules, so the table below is this toolkit's reading of it:
//!
//! | state \ ORC-1 | NW (flow 1) | OK (flow 3) | OC (flow 3) | CA (flow 2) | SR (flow 4) |
//! |---|---|---|---|---|---|
//! | (no order) | → requested | 204 ORC-2 | 204 ORC-2 | 204 ORC-2 | 204 ORC-2 |
//! | requested | 205 ORC-2 | → accepted | → refused | → cancelled | 207 ORC-1 |
//! | accepted, no exam yet | 205 ORC-2 | 207 ORC-1 | 207 ORC-1 | → cancelled | → accepted (+ exams) |
//! | accepted, with exams | 205 ORC-2 | 207 ORC-1 | 207 ORC-1 | 207 ORC-1 | → accepted (+ exams) |
//! | refused (final) | 205 ORC-2 | 207 ORC-1 | 207 ORC-1 | 207 ORC-1 | 207 ORC-1 |
//! | cancelled (final) | 205 ORC-2 | 207 ORC-1 | 207 ORC-1 | 207 ORC-1 | 207 ORC-1 |
//!
//! Codes are HL7 table 0357: **204** unknown key identifier (no order has this ORC-2),
//! **205** duplicate key identifier (a second NW for an ORC-2 already known), **207**
//! application internal error, used for "this order control is not allowed in the order's
//! state" (the table has no closer code; 206 "record locked" would invite a retry, which
//! cannot help). The ERR-2 location is ORC-2 for a key problem, ORC-1 for a sequence problem,
//! with the ORC's occurrence in the message as its sequence.

use std::fmt;

/// ORC-1 codes of the guide's flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Control {
    /// NW, flow 1: a new request.
    New,
    /// CA, flow 2: the RIS cancels its request.
    Cancel,
    /// OK, flow 3: the platform accepts the request.
    Accept,
    /// OC, flow 3: the platform refuses the request.
    Refuse,
    /// SR, flow 4: the RIS reports the exams performed.
    Complement,
}

impl Control {
    /// Reads ORC-1 (trimmed); `None` for a code no flow uses.
    pub fn from_code(code: &str) -> Option<Control> {
        match code.trim() {
            "NW" => Some(Control::New),
            "CA" => Some(Control::Cancel),
            "OK" => Some(Control::Accept),
            "OC" => Some(Control::Refuse),
            "SR" => Some(Control::Complement),
            _ => None,
        }
    }

    /// The ORC-1 code.
    pub const fn code(self) -> &'static str {
        match self {
            Control::New => "NW",
            Control::Cancel => "CA",
            Control::Accept => "OK",
            Control::Refuse => "OC",
            Control::Complement => "SR",
        }
    }
}

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Requested,
    Accepted,
    Refused,
    Cancelled,
}

impl State {
    /// The name stored and printed (`requested`, `accepted`, `refused`, `cancelled`).
    pub const fn name(self) -> &'static str {
        match self {
            State::Requested => "requested",
            State::Accepted => "accepted",
            State::Refused => "refused",
            State::Cancelled => "cancelled",
        }
    }

    pub fn from_name(name: &str) -> Option<State> {
        [State::Requested, State::Accepted, State::Refused, State::Cancelled].into_iter().find(|s| s.name() == name)
    }

    /// Refused and cancelled orders take no further message.
    pub const fn is_final(self) -> bool {
        matches!(self, State::Refused | State::Cancelled)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the store knows of an order when a message about it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Current {
    pub state: State,
    /// At least one SR has been recorded.
    pub has_exams: bool,
}

/// Which ORC field a refusal points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// ORC-1, order control: the event is not allowed now.
    OrderControl,
    /// ORC-2, placer order number: the key is unknown or already used.
    PlacerOrderNumber,
}

impl Field {
    pub const fn number(self) -> u16 {
        match self {
            Field::OrderControl => 1,
            Field::PlacerOrderNumber => 2,
        }
    }
}

/// Why an order control event is refused: the table-0357 code, the field, and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub field: Field,
    pub reason: String,
}

/// Table-0357 codes the workflow uses.
pub mod code {
    pub const UNKNOWN_KEY: u16 = 204;
    pub const DUPLICATE_KEY: u16 = 205;
    pub const NOT_ALLOWED: u16 = 207;
}

/// The state after `control` on an order in `current` (`None`: no such order), or why the
/// event breaks the sequence (see the module table).
pub fn transition(current: Option<Current>, control: Control) -> Result<State, Refusal> {
    let refuse = |code, field, reason: String| Err(Refusal { code, field, reason });
    let Some(cur) = current else {
        return match control {
            Control::New => Ok(State::Requested),
            other => refuse(code::UNKNOWN_KEY, Field::PlacerOrderNumber, format!("no order has this placer order number; {} needs an order created by NW", other.code())),
        };
    };
    if control == Control::New {
        return refuse(code::DUPLICATE_KEY, Field::PlacerOrderNumber, format!("an order with this placer order number already exists (state {})", cur.state));
    }
    if cur.state.is_final() {
        return refuse(code::NOT_ALLOWED, Field::OrderControl, format!("the order is {}, a final state: {} is not allowed", cur.state, control.code()));
    }
    match (cur.state, control) {
        (State::Requested, Control::Accept) => Ok(State::Accepted),
        (State::Requested, Control::Refuse) => Ok(State::Refused),
        (State::Requested | State::Accepted, Control::Cancel) if !cur.has_exams => Ok(State::Cancelled),
        (State::Accepted, Control::Cancel) => refuse(code::NOT_ALLOWED, Field::OrderControl, "the exam was performed (SR received): CA is not allowed".into()),
        (State::Accepted, Control::Complement) => Ok(State::Accepted),
        (State::Requested, Control::Complement) => refuse(code::NOT_ALLOWED, Field::OrderControl, "the order is requested, not accepted: SR needs an OK first".into()),
        (State::Accepted, Control::Accept | Control::Refuse) => refuse(code::NOT_ALLOWED, Field::OrderControl, format!("the order is already accepted: {} is not allowed", control.code())),
        (state, control) => refuse(code::NOT_ALLOWED, Field::OrderControl, format!("{} is not allowed on a {state} order", control.code())),
    }
}

/// A placer order number (ORC-2, EI) as the key of an order: EI.1 with its authority
/// (EI.2 namespace, or EI.3 universal id and EI.4 its type).
///
/// Its text form, used by `--order` and printed by `telerad orders`, is ORC-2 as ER7 writes
/// it with the standard delimiters: `EI.1^EI.2^EI.3^EI.4`, trailing empty components left
/// out, a `^ & ~ | \` inside a component written `\S\ \T\ \R\ \F\ \E\`. For example
/// `CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO`: copied from the message, it is the key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderKey(String);

impl OrderKey {
    /// From the four components, decoded.
    pub fn from_components(parts: [&str; 4]) -> OrderKey {
        let mut out = String::new();
        let last = parts.iter().rposition(|p| !p.trim().is_empty()).map_or(0, |i| i + 1);
        for (i, part) in parts.iter().take(last).enumerate() {
            if i > 0 {
                out.push('^');
            }
            for ch in part.trim().chars() {
                match ch {
                    '^' => out.push_str("\\S\\"),
                    '&' => out.push_str("\\T\\"),
                    '~' => out.push_str("\\R\\"),
                    '|' => out.push_str("\\F\\"),
                    '\\' => out.push_str("\\E\\"),
                    c => out.push(c),
                }
            }
        }
        OrderKey(out)
    }

    /// From the text form (`--order`); the components are re-read so that trailing `^` or
    /// blanks do not make a different key.
    pub fn parse(text: &str) -> Result<OrderKey, String> {
        let parts: Vec<&str> = text.split('^').collect();
        if parts.len() > 4 {
            return Err(format!("`{text}`: an order key has at most 4 components (EI.1^EI.2^EI.3^EI.4)"));
        }
        let get = |i: usize| parts.get(i).copied().unwrap_or("");
        if get(0).trim().is_empty() {
            return Err(format!("`{text}`: EI.1 (the placer order number) is empty"));
        }
        // The escapes are kept as written: the key's text form is already escaped.
        let mut out = String::new();
        let kept: Vec<&str> = (0..4).map(get).map(str::trim).collect();
        let last = kept.iter().rposition(|p| !p.is_empty()).map_or(0, |i| i + 1);
        for (i, p) in kept.iter().take(last).enumerate() {
            if i > 0 {
                out.push('^');
            }
            out.push_str(p);
        }
        Ok(OrderKey(out))
    }

    /// From a parsed ORC-2; `None` when EI.1 is empty.
    pub fn from_field(field: &hl7_runtime::Field<'_>) -> Option<OrderKey> {
        let rep = field.first();
        let c = |n| rep.component(n).text();
        let (a, b, c3, d) = (c(1), c(2), c(3), c(4));
        if a.trim().is_empty() {
            return None;
        }
        Some(OrderKey::from_components([&a, &b, &c3, &d]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An exam reported by SR: one per ORDER group of flow 4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exam {
    /// IPC-1, the accession identifier, in the key's text form (`EI.1^EI.2^EI.3^EI.4`).
    pub accession: String,
    /// IPC-3.1, the DICOM Study Instance UID.
    pub study_instance_uid: String,
}

/// One order control event read from a message: one per ORC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub key: OrderKey,
    pub control: Control,
    /// The ORC's occurrence in the message (1-based), for ERR-2.
    pub orc_sequence: u32,
    /// For SR: the exams of this ORDER group (its IPC segments).
    pub exams: Vec<Exam>,
}

/// Why a message's events cannot be read; reported as a finding when validation did not
/// already report it (it normally does: ORC-1 and ORC-2 are required).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub orc_sequence: u32,
    pub field: Field,
    pub reason: String,
}

/// The order control events of a message: one per ORC, in order, with the IPC segments that
/// follow each ORC (flow 4 places them at the end of its ORDER group).
pub fn events(message: &hl7_runtime::Message<'_>) -> Result<Vec<Event>, Unreadable> {
    let mut out: Vec<Event> = Vec::new();
    let mut sequence = 0u32;
    for seg in message.segments() {
        match seg.id() {
            "ORC" => {
                sequence += 1;
                let code = seg.field(1).first().component(1).text();
                let control = Control::from_code(&code).ok_or_else(|| Unreadable {
                    orc_sequence: sequence,
                    field: Field::OrderControl,
                    reason: format!("ORC-1 `{}` is not an order control of the guide (NW, CA, OK, OC, SR)", code.trim()),
                })?;
                let key = OrderKey::from_field(&seg.field(2)).ok_or(Unreadable {
                    orc_sequence: sequence,
                    field: Field::PlacerOrderNumber,
                    reason: "ORC-2 (placer order number) is empty: the order cannot be identified".into(),
                })?;
                out.push(Event { key, control, orc_sequence: sequence, exams: Vec::new() });
            }
            "IPC" => {
                if let Some(last) = out.last_mut() {
                    let acc = seg.field(1).first();
                    let c = |n| acc.component(n).text();
                    let accession = OrderKey::from_components([&c(1), &c(2), &c(3), &c(4)]).0;
                    let study_instance_uid = seg.field(3).first().component(1).text().trim().to_owned();
                    last.exams.push(Exam { accession, study_instance_uid });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Control; 5] = [Control::New, Control::Cancel, Control::Accept, Control::Refuse, Control::Complement];

    fn at(state: State, has_exams: bool) -> Option<Current> {
        Some(Current { state, has_exams })
    }

    fn refused(r: Result<State, Refusal>) -> (u16, Field) {
        let r = r.expect_err("refused");
        assert!(!r.reason.is_empty());
        (r.code, r.field)
    }

    /// Every cell of the module's table.
    #[test]
    fn the_table() {
        use Control::*;
        use State::*;
        let k = (code::UNKNOWN_KEY, Field::PlacerOrderNumber);
        let d = (code::DUPLICATE_KEY, Field::PlacerOrderNumber);
        let n = (code::NOT_ALLOWED, Field::OrderControl);
        // No order: only NW.
        assert_eq!(transition(None, New), Ok(Requested));
        for c in [Cancel, Accept, Refuse, Complement] {
            assert_eq!(refused(transition(None, c)), k, "{c:?}");
        }
        // A second NW is a duplicate key, whatever the state.
        for s in [Requested, Accepted, Refused, Cancelled] {
            for exams in [false, true] {
                assert_eq!(refused(transition(at(s, exams), New)), d, "{s:?}");
            }
        }
        // Requested.
        assert_eq!(transition(at(Requested, false), Accept), Ok(Accepted));
        assert_eq!(transition(at(Requested, false), Refuse), Ok(Refused));
        assert_eq!(transition(at(Requested, false), Cancel), Ok(Cancelled));
        assert_eq!(refused(transition(at(Requested, false), Complement)), n);
        // Accepted.
        assert_eq!(refused(transition(at(Accepted, false), Accept)), n);
        assert_eq!(refused(transition(at(Accepted, false), Refuse)), n);
        assert_eq!(transition(at(Accepted, false), Cancel), Ok(Cancelled));
        assert_eq!(transition(at(Accepted, false), Complement), Ok(Accepted));
        // SR may come more than once; CA after an SR is refused.
        assert_eq!(transition(at(Accepted, true), Complement), Ok(Accepted));
        assert_eq!(refused(transition(at(Accepted, true), Cancel)), n);
        assert_eq!(refused(transition(at(Accepted, true), Accept)), n);
        // Final states take nothing.
        for s in [Refused, Cancelled] {
            for c in [Cancel, Accept, Refuse, Complement] {
                assert_eq!(refused(transition(at(s, false), c)), n, "{s:?} {c:?}");
            }
        }
        assert!(ALL.iter().all(|c| Control::from_code(c.code()) == Some(*c)));
        assert_eq!(Control::from_code("XO"), None);
    }

    #[test]
    fn key_text_form() {
        let k = OrderKey::from_components(["CMD-1", "", "1.2.250.1", "ISO"]);
        assert_eq!(k.as_str(), "CMD-1^^1.2.250.1^ISO");
        assert_eq!(OrderKey::parse("CMD-1^^1.2.250.1^ISO"), Ok(k));
        assert_eq!(OrderKey::parse("CMD-1^^").map(|k| k.0), Ok("CMD-1".into()));
        assert_eq!(OrderKey::from_components(["A^B", "", "", ""]).as_str(), "A\\S\\B");
        assert!(OrderKey::parse("").is_err());
        assert!(OrderKey::parse("a^b^c^d^e").is_err());
    }

    #[test]
    fn events_of_the_fixtures() {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/flux4_sr_three_orders.hl7")).unwrap();
        let msg = hl7_runtime::Message::parse(&bytes).unwrap();
        let ev = events(&msg).unwrap();
        assert_eq!(ev.len(), 3);
        assert!(ev.iter().all(|e| e.control == Control::Complement && e.key.as_str() == "CMD-2026-000480^^1.2.250.1.748.12345678.12^ISO"));
        assert_eq!(ev.iter().map(|e| e.orc_sequence).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(ev[0].exams, [Exam { accession: "ACN-2026-0480-01^^1.2.250.1.748.12345678.20^ISO".into(), study_instance_uid: "1.2.250.1.213.4.5.2.1.480001".into() }]);
        assert_eq!(ev[2].exams[0].accession, "ACN-2026-0480-03^^1.2.250.1.748.12345678.20^ISO");

        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/flux1_nw_full.hl7")).unwrap();
        let msg = hl7_runtime::Message::parse(&bytes).unwrap();
        let ev = events(&msg).unwrap();
        assert_eq!((ev.len(), ev[0].control, ev[0].exams.len()), (1, Control::New, 0));
    }

    #[test]
    fn unreadable_events_are_located() {
        let msg = hl7_runtime::Message::parse(b"MSH|^~\\&|A|B|C|D|1||ORM^O01|1|P|2.5.1\rORC|NW|K1\rORC|XO|K2\r").unwrap();
        let e = events(&msg).unwrap_err();
        assert_eq!((e.orc_sequence, e.field), (2, Field::OrderControl));
        let msg = hl7_runtime::Message::parse(b"MSH|^~\\&|A|B|C|D|1||ORM^O01|1|P|2.5.1\rORC|NW\r").unwrap();
        assert_eq!(events(&msg).unwrap_err().field, Field::PlacerOrderNumber);
    }
}
