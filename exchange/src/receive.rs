//! The per-message pipeline of a receiver: parse (within the shared [`Limits`]), choose the
//! profile, check that this side takes it, validate, read the order events. This part runs
//! on the connection's task, in parallel; the store's writer then applies the workflow, builds
//! the ACK and commits both ([`crate::store::Store::receive`]).
//!
//! What each side takes (anything else is answered AE):
//!
//! | role | flows | otherwise |
//! |---|---|---|
//! | platform | 1 (ORM^O01 NW), 2 (ORM^O01 CA), 4 (OMI^O23 SR) | 200 at MSH-9.1 |
//! | ris | 3 (ORU^R01 OK/OC) | 200 at MSH-9.1 |
//!
//! A message type no profile of the guide has is 200 at MSH-9.1, a known type with another
//! event 201 at MSH-9.2, and an ORM/ORU/OMI whose first ORC-1 selects no profile (`XO`…) 201
//! at ORC-1 (what `telerad validate` reports).
//!
//! Before any of that, the header is checked against the receiver's [`Admission`]:
//!
//! | check | otherwise |
//! |---|---|
//! | the sender (MSH-3, MSH-4) is allowed from this connection ([`Senders`]) | **refused**: AR, `ERR|||207^…|E||||<why>`, nothing else read; stored as refused |
//! | MSH-5.1 is this receiver's application, MSH-6.1 its facility (when configured) | AE, 103 at `MSH^1^5` / `MSH^1^6` |
//! | MSH-11.1 is this receiver's processing id (P or T) | AE, 202 at `MSH^1^11` |
//!
//! An empty MSH-5, MSH-6 or MSH-11 is left to the profile (101, required field missing).

use hl7_runtime::validate::finding::code;
use hl7_runtime::validate::{self, Erl, Finding, Severity};
use hl7_runtime::{Limits, Message, ParseOptions};
use telerad::AnyMessage;

use std::sync::Arc;

use crate::senders::{Origin, Senders};
use crate::workflow::{self, Event};

/// Which side of the exchange a receiver is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The teleradiology platform: takes flows 1, 2 and 4.
    Platform,
    /// The RIS: takes flow 3.
    Ris,
}

impl Role {
    /// The profiles this side receives.
    pub const fn profiles(self) -> &'static [&'static str] {
        match self {
            Role::Platform => &["flux1_orm_o01_nw", "flux2_orm_o01_ca", "flux4_omi_o23"],
            Role::Ris => &["flux3_oru_r01"],
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Role::Platform => "platform",
            Role::Ris => "ris",
        }
    }
}

/// MSH-11.1 of the messages a receiver takes (table 0103).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProcessingId {
    /// `P`, production.
    Production,
    /// `T`, training (tests).
    Training,
}

impl ProcessingId {
    pub const fn code(self) -> &'static str {
        match self {
            ProcessingId::Production => "P",
            ProcessingId::Training => "T",
        }
    }
}

/// What a receiver checks in a message's header before reading the rest (see the module
/// table). The default checks nothing.
#[derive(Clone, Debug, Default)]
pub struct Admission {
    /// Who may send from where; `None`: anyone.
    pub senders: Option<Arc<Senders>>,
    /// MSH-5.1 must be this.
    pub application: Option<String>,
    /// MSH-6.1 must be this.
    pub facility: Option<String>,
    /// MSH-11.1 must be this.
    pub processing_id: Option<ProcessingId>,
}

/// MSH-3 and MSH-4 of a message, as written (decoded, separators kept): with MSH-10, what
/// makes a message unique.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sender {
    pub application: String,
    pub facility: String,
}

/// A message after the parallel part of the pipeline.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The bytes as received (MLLP framing removed).
    pub raw: Vec<u8>,
    /// Length of the MSH segment in `raw` when the message parsed: the ACK's header is read
    /// from it alone by the store's writer (parsing one segment costs far less than the
    /// whole message again).
    pub header_len: Option<usize>,
    pub sender: Sender,
    /// MSH-10, empty when it cannot be read.
    pub control_id: String,
    /// The profile the message was placed in.
    pub profile: Option<&'static str>,
    /// Every finding (validation, role, unreadable events); errors make the ACK an AE.
    pub findings: Vec<Finding>,
    /// The order events, read only when there is no error finding.
    pub events: Vec<Event>,
    /// SHA-256 of `raw` ([`crate::store::digest`]), computed here rather than by the store's
    /// single writer.
    pub digest: Vec<u8>,
    /// The connection it came on (its client certificate's subject is stored with it).
    pub origin: Origin,
    /// Why its sender is not allowed ([`Admission::senders`]): the message is answered AR and
    /// stored as refused.
    pub refusal: Option<String>,
}

impl Prepared {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The message's header alone, parsed, for the ACK (`None` when the message did not
    /// parse: the ACK builder then reads what it can of the raw header).
    pub fn header(&self) -> Option<Message<'_>> {
        let len = self.header_len?;
        // The MSH alone parses whenever the whole message did; the whole message is the
        // fallback so that a parsed message is never answered as unparsable.
        self.raw.get(..len).and_then(|h| Message::parse(h).ok()).or_else(|| Message::parse(&self.raw).ok())
    }
}

/// Runs the parallel part of the pipeline on one received message.
pub fn prepare(raw: Vec<u8>, role: Role, limits: &Limits) -> Prepared {
    prepare_with(raw, role, limits, false)
}

/// [`prepare`], reading a message labelled 8859/1 or 8859/15 that holds bytes 0x80–0x9F as
/// Windows-1252 when `windows_1252_fallback` (with a warning finding at MSH-18) instead of
/// answering AE (`telerad serve --charset-fallback windows-1252`).
pub fn prepare_with(raw: Vec<u8>, role: Role, limits: &Limits, windows_1252_fallback: bool) -> Prepared {
    prepare_from(raw, role, limits, windows_1252_fallback, &Admission::default(), Origin::default())
}

/// [`prepare_with`], the header checked first against `admission` for a message that came
/// from `origin` (`telerad serve`).
pub fn prepare_from(raw: Vec<u8>, role: Role, limits: &Limits, windows_1252_fallback: bool, admission: &Admission, origin: Origin) -> Prepared {
    let mut out = empty();
    out.origin = origin;
    let options = ParseOptions { windows_1252_fallback, ..ParseOptions::default() };
    inspect(&raw, role, limits, &options, admission, &mut out);
    out.digest = crate::store::digest(&raw);
    out.raw = raw;
    out
}

fn empty() -> Prepared {
    Prepared {
        raw: Vec::new(),
        header_len: None,
        sender: Sender::default(),
        control_id: String::new(),
        profile: None,
        findings: Vec::new(),
        events: Vec::new(),
        digest: Vec::new(),
        origin: Origin::default(),
        refusal: None,
    }
}

fn inspect(raw: &[u8], role: Role, limits: &Limits, options: &ParseOptions, admission: &Admission, out: &mut Prepared) {
    if raw.len() > limits.max_message_bytes {
        out.findings.push(error(code::APPLICATION_INTERNAL, Erl::default(), "limit", format!("the message is {} bytes, more than this receiver's limit of {}", raw.len(), limits.max_message_bytes)));
        read_raw_header(raw, out);
        admit(admission, out);
        return;
    }
    let message = match Message::parse_with(raw, options) {
        Ok(m) => m,
        Err(e) => {
            out.findings.push(validate::parse_error_finding(&e));
            read_raw_header(raw, out);
            admit(admission, out);
            return;
        }
    };
    // Read as Windows-1252 through the fallback: a warning, stored with the message.
    out.findings.extend(hl7_runtime::charset::windows_1252_notice(&message));
    read_header(&message, out);
    out.header_len = header_len(raw);
    if !admit(admission, out) {
        return;
    }
    check_receiver(&message, admission, out);
    if message.segment_count() > limits.max_segments {
        out.findings.push(error(code::APPLICATION_INTERNAL, Erl::default(), "limit", format!("the message has {} segments, more than this receiver's limit of {}", message.segment_count(), limits.max_segments)));
        return;
    }
    let any = match AnyMessage::from_message(message) {
        Ok(m) => m,
        Err(e) => {
            out.findings.push(validate::no_profile_finding(&e, &telerad::REGISTRY));
            return;
        }
    };
    let profile = any.profile();
    out.profile = Some(profile.profile);
    if !role.profiles().contains(&profile.profile) {
        let msh9 = Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(9), component: Some(1), ..Erl::default() };
        out.findings.push(error(
            code::UNSUPPORTED_MESSAGE_TYPE,
            msh9,
            "role",
            format!("{}^{} ({}) is not received by the {} side of the exchange", profile.code, profile.event.unwrap_or(""), profile.profile, role.name()),
        ));
        return;
    }
    out.findings.extend(validate::validate_with(any.placed(), &telerad::REGISTRY, None));
    if out.has_errors() {
        return;
    }
    match workflow::events(&any.placed().message) {
        Ok(events) => out.events = events,
        Err(u) => {
            let code = match u.field {
                workflow::Field::OrderControl => code::UNSUPPORTED_EVENT,
                workflow::Field::PlacerOrderNumber => code::REQUIRED_FIELD_MISSING,
            };
            out.findings.push(error(code, orc_erl(u.orc_sequence, u.field), "workflow", u.reason));
        }
    }
}

/// Checks the sender against [`Admission::senders`]; when it is not allowed, sets
/// [`Prepared::refusal`] and returns false.
fn admit(admission: &Admission, out: &mut Prepared) -> bool {
    let Some(senders) = &admission.senders else {
        return true;
    };
    if senders.allows(&out.sender, &out.origin) {
        return true;
    }
    let address = out.origin.address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    let certificate = out.origin.certificate.as_deref().map_or_else(|| "no client certificate".to_owned(), |c| format!("client certificate `{c}`"));
    out.refusal = Some(format!(
        "the sender `{}` / `{}` (MSH-3 / MSH-4) is not allowed to send to this receiver from this connection (address {address}, {certificate}); the message was not integrated",
        out.sender.application, out.sender.facility
    ));
    false
}

/// MSH-5, MSH-6 and MSH-11 against this receiver (an empty one is the profile's to report).
fn check_receiver(message: &Message<'_>, admission: &Admission, out: &mut Prepared) {
    let Some(msh) = message.segment(0).filter(|s| s.id() == "MSH") else {
        return;
    };
    let at = |field: u32| Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(field), ..Erl::default() };
    for (field, name, expected) in [(5, "receiving application", &admission.application), (6, "receiving facility", &admission.facility)] {
        let Some(expected) = expected else { continue };
        let value = msh.field(field).first().component(1).text();
        let value = value.trim();
        if !value.is_empty() && value != expected {
            out.findings.push(error(
                code::TABLE_VALUE_NOT_FOUND,
                at(field as u32),
                "receiver",
                format!("MSH-{field} ({name}) `{value}` does not name this receiver, `{expected}`: the message is for another system"),
            ));
        }
    }
    if let Some(expected) = admission.processing_id {
        let value = msh.field(11).first().component(1).text();
        let value = value.trim();
        if !value.is_empty() && value != expected.code() {
            out.findings.push(error(
                code::UNSUPPORTED_PROCESSING_ID,
                at(11),
                "processing-id",
                format!("MSH-11 (processing id) is `{value}`; this receiver takes only `{}` messages", expected.code()),
            ));
        }
    }
}

/// ERR-2 for an ORC field.
pub fn orc_erl(sequence: u32, field: workflow::Field) -> Erl {
    Erl { segment: Some("ORC".into()), sequence: Some(sequence), field: Some(u32::from(field.number())), ..Erl::default() }
}

/// An error finding of the exchange (not of a profile rule).
pub fn error(code: u16, location: Erl, rule: &str, message: String) -> Finding {
    Finding { severity: Severity::Error, code, location, rule: rule.into(), source: "exchange".into(), message }
}

fn read_header(message: &Message<'_>, out: &mut Prepared) {
    if let Some(msh) = message.segment(0).filter(|s| s.id() == "MSH") {
        out.sender = Sender { application: msh.field(3).text().trim().to_owned(), facility: msh.field(4).text().trim().to_owned() };
        out.control_id = msh.field(10).first().text().trim().to_owned();
    }
}

/// The header of a message that did not parse: its first line alone, leniently (as the ACK
/// builder does), so a fault in a later segment does not lose MSH-10.
fn read_raw_header(raw: &[u8], out: &mut Prepared) {
    let end = raw.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(raw.len());
    if let Some(line) = raw.get(..end) {
        if let Ok(m) = Message::parse_with(line, &ParseOptions::lenient()) {
            read_header(&m, out);
        }
    }
}

/// The MSH segment's length, its terminator included when there is one.
fn header_len(raw: &[u8]) -> Option<usize> {
    match raw.iter().position(|&b| b == b'\r') {
        Some(i) => Some(i + 1),
        None => Some(raw.len()),
    }
}

/// A message this side sends, read for the store: header, profile and order events (a
/// message that does not parse is recorded with none).
pub fn read_outbound(raw: &[u8]) -> crate::store::Outbound {
    let mut p = empty();
    let mut events = Vec::new();
    match Message::parse_with(raw, &ParseOptions::default()) {
        Ok(message) => {
            read_header(&message, &mut p);
            events = workflow::events(&message).unwrap_or_default();
            p.profile = hl7_runtime::select::profile(&message, &telerad::REGISTRY).ok().map(|d| d.profile);
        }
        Err(_) => read_raw_header(raw, &mut p),
    }
    crate::store::Outbound { raw: raw.to_vec(), sender: p.sender, control_id: p.control_id, profile: p.profile, events, ack: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn platform_takes_flows_1_2_4_and_ris_flow_3() {
        for (name, role) in [("flux1_nw_full.hl7", Role::Platform), ("flux2_ca.hl7", Role::Platform), ("flux4_sr.hl7", Role::Platform), ("flux3_ok_ft.hl7", Role::Ris), ("flux1_nw_no_final_cr.hl7", Role::Platform)] {
            let p = prepare(fixture(name), role, &Limits::DEFAULT);
            assert!(!p.has_errors(), "{name}: {:?}", p.findings);
            assert!(!p.sender.application.is_empty());
            assert!(!p.control_id.is_empty());
            assert!(!p.events.is_empty(), "{name}");
            assert!(p.header().is_some());
        }
        for (name, role) in [("flux3_ok_ft.hl7", Role::Platform), ("flux1_nw_full.hl7", Role::Ris), ("ack_aa.hl7", Role::Platform)] {
            let p = prepare(fixture(name), role, &Limits::DEFAULT);
            let f = p.findings.iter().find(|f| f.severity == Severity::Error).expect("an error");
            assert_eq!((f.code, f.location.field, f.location.component), (200, Some(9), Some(1)), "{name}");
            assert!(p.events.is_empty());
        }
    }

    #[test]
    fn unparsable_and_unsupported() {
        let p = prepare(b"MSH|^~\\&|A|B|C|D|1||ORM^O01|77|P|2.5.1\rPID|||1\\XZZ\\\r".to_vec(), Role::Platform, &Limits::DEFAULT);
        assert!(p.has_errors() && p.header_len.is_none());
        assert_eq!(p.control_id, "77");
        let p = prepare(b"garbage".to_vec(), Role::Platform, &Limits::DEFAULT);
        assert!(p.has_errors() && p.control_id.is_empty());
        let p = prepare(b"MSH|^~\\&|A|B|C|D|1||ADT^A01|9|P|2.5.1\r".to_vec(), Role::Platform, &Limits::DEFAULT);
        assert_eq!(p.findings[0].code, 200);
        let p = prepare(b"MSH|^~\\&|A|B|C|D|1||ORM^O01^ORM_O01|9|P|2.5.1\rORC|XO|1\r".to_vec(), Role::Platform, &Limits::DEFAULT);
        assert_eq!((p.findings[0].code, p.findings[0].location.segment.as_deref()), (201, Some("ORC")));
        let small = Limits { max_message_bytes: 10, ..Limits::DEFAULT };
        let p = prepare(fixture("flux1_nw_full.hl7"), Role::Platform, &small);
        assert!(p.has_errors() && p.control_id == "CHUXF1-20260106-0002");
    }
}
