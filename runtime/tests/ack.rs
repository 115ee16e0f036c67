//! Building the acknowledgment of an inbound message (acquittement.md).

use hl7_runtime::ack::{self, Ack, AckCode, AckOptions, Decision, HeaderSource, Identity};
use hl7_runtime::validate::{Erl, Finding, Severity};
use hl7_runtime::{Charset, Message};

/// The flow-1 ORM^O01 header of the guide (acquittement_exemple_MSH_ORM_O01_flux1.hl7).
const FLOW1_MSH: &str =
    r"MSH|^~\&|StructureApp|StructureFacility|TLRapp|TLRfacility|20260106134418||ORM^O01^ORM_O01|12345|P|2.5.1|||||FRA|UNICODE UTF-8|||1.0^CISIS_TLR_HL7_V2";

fn msg(segments: &[&str]) -> Vec<u8> {
    let mut out = segments.join("\r").into_bytes();
    out.push(b'\r');
    out
}

fn clock() -> String {
    "20260106134419".into()
}

fn next_id() -> String {
    "12346".into()
}

fn opts() -> AckOptions<'static> {
    AckOptions {
        receiver: Identity { application: "MyTLR".into(), facility: "MyFacility".into() },
        clock: &clock,
        next_id: &next_id,
    }
}

fn finding(severity: Severity, code: u16, location: Erl, message: &str) -> Finding {
    Finding {
        severity,
        code,
        location,
        rule: "test".into(),
        source: "test".into(),
        message: message.into(),
    }
}

fn erl(segment: &str, sequence: u32, field: u32) -> Erl {
    Erl { segment: Some(segment.into()), sequence: Some(sequence), field: Some(field), ..Erl::default() }
}

fn ack_of(raw: &[u8], findings: &[Finding], decision: Decision) -> Ack {
    let inbound = Message::parse(raw).unwrap();
    ack::build_with_info(Some(&inbound), raw, findings, decision, &opts()).unwrap()
}

/// The ACK as lines, for exact comparison (panics when it is not CR-terminated).
fn lines(bytes: &[u8]) -> Vec<String> {
    assert_eq!(bytes.last(), Some(&b'\r'), "every segment, the last included, ends with CR");
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    text.trim_end_matches('\r').split('\r').map(str::to_owned).collect()
}

#[test]
fn accept_swaps_the_header_and_recalls_msh10() {
    let raw = msg(&[FLOW1_MSH, "PID|1"]);
    let ack = ack_of(&raw, &[], Decision::Accept);
    assert_eq!(
        lines(&ack.bytes),
        [
            // Not ACK^R01^ACK as the guide's example says (erratum E2): the event of an
            // ORM^O01 is O01.
            r"MSH|^~\&|TLRapp|TLRfacility|StructureApp|StructureFacility|20260106134419||ACK^O01^ACK|12346|P|2.5.1|||||FRA|UNICODE UTF-8",
            "MSA|AA|12345",
        ]
    );
    assert_eq!(ack.info.code, AckCode::Accept);
    assert_eq!(ack.info.charset, Charset::Utf8);
    assert!(!ack.info.charset_fallback);
    assert!(!ack.info.receiver_fallback);
    assert_eq!(ack.info.header, HeaderSource::Inbound);
    assert_eq!(ack.info.control_id, "12346");
    assert_eq!(ack.info.acknowledged_id, "12345");
    assert_eq!(ack.info.errors, 0);

    let parsed = Message::parse(&ack.bytes).unwrap();
    assert_eq!(parsed.get("MSH-9.2").unwrap().as_deref(), Some("O01"));
    assert_eq!(parsed.get("MSA-2").unwrap().as_deref(), Some("12345"));

    // `build` returns the same bytes.
    let inbound = Message::parse(&raw).unwrap();
    assert_eq!(ack::build(Some(&inbound), &raw, &[], Decision::Accept, &opts()).unwrap(), ack.bytes);
}

#[test]
fn header_fields_are_copied_with_all_their_components() {
    let raw = msg(&[
        r"MSH|^~\&|App^1.2.3^ISO|Fac&x^2.3.4^ISO|Tlr^9.9^ISO|TlrFac|20260106134418||OMI^O23^OMI_O23|ID\F\7|T^A|2.5.1|||||FRA|UNICODE UTF-8",
    ]);
    let ack = ack_of(&raw, &[], Decision::Accept);
    assert_eq!(
        lines(&ack.bytes)[0],
        r"MSH|^~\&|Tlr^9.9^ISO|TlrFac|App^1.2.3^ISO|Fac&x^2.3.4^ISO|20260106134419||ACK^O23^ACK|12346|T^A|2.5.1|||||FRA|UNICODE UTF-8"
    );
    // The control id is decoded and re-escaped.
    assert_eq!(lines(&ack.bytes)[1], r"MSA|AA|ID\F\7");
    assert_eq!(ack.info.acknowledged_id, "ID|7");
}

#[test]
fn two_errors_give_two_err_segments() {
    let raw = msg(&[FLOW1_MSH, "PID|1"]);
    let findings = [
        finding(Severity::Error, 101, erl("PID", 1, 3), "PID-3 (identifiant patient) est absent"),
        finding(
            Severity::Error,
            103,
            Erl { component: Some(1), repetition: Some(1), ..erl("OBR", 2, 24) },
            "OBR-24 'XX' not in table 0074",
        ),
        finding(Severity::Warning, 102, erl("PID", 1, 7), "a warning is not sent"),
    ];
    let ack = ack_of(&raw, &findings, Decision::Accept);
    let l = lines(&ack.bytes);
    assert_eq!(l.len(), 4, "{l:?}");
    assert_eq!(l[1], "MSA|AE|12345");
    assert_eq!(l[2], "ERR||PID^1^3|101^Required field missing^HL70357|E||||PID-3 (identifiant patient) est absent");
    assert_eq!(l[3], "ERR||OBR^2^24^1^1|103^Table value not found^HL70357|E||||OBR-24 'XX' not in table 0074");
    assert_eq!(ack.info.code, AckCode::Error);
    assert_eq!(ack.info.errors, 2);
    Message::parse(&ack.bytes).unwrap();
}

#[test]
fn warnings_alone_are_accepted_without_err() {
    let raw = msg(&[FLOW1_MSH]);
    let findings = [finding(Severity::Warning, 102, erl("PID", 1, 7), "w"), finding(Severity::Info, 0, Erl::default(), "i")];
    let ack = ack_of(&raw, &findings, Decision::Accept);
    assert_eq!(lines(&ack.bytes)[1..], ["MSA|AA|12345"]);
}

#[test]
fn unsupported_version_is_ae_203() {
    let header = FLOW1_MSH.replace("|2.5.1|", "|2.3|");
    let raw = msg(&[&header]);
    let findings = [finding(Severity::Error, 203, erl("MSH", 1, 12), "version 2.3 is not supported")];
    let ack = ack_of(&raw, &findings, Decision::Accept);
    let l = lines(&ack.bytes);
    // The ACK itself is always 2.5.1.
    assert!(l[0].contains("|ACK^O01^ACK|12346|P|2.5.1|"), "{}", l[0]);
    assert_eq!(l[1..], ["MSA|AE|12345", "ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||version 2.3 is not supported"]);
}

#[test]
fn reject_is_ar_with_its_reason_in_err8() {
    let raw = msg(&[FLOW1_MSH]);
    let ack = ack_of(&raw, &[], Decision::Reject { reason: "base indisponible, réessayer plus tard".into() });
    assert_eq!(
        lines(&ack.bytes)[1..],
        ["MSA|AR|12345", "ERR|||207^Application internal error^HL70357|E||||base indisponible, réessayer plus tard"]
    );
    assert_eq!(ack.info.code, AckCode::Reject);
}

#[test]
fn errors_win_over_a_rejection_and_both_are_written() {
    let raw = msg(&[FLOW1_MSH]);
    let findings = [finding(Severity::Error, 101, erl("PID", 1, 3), "missing")];
    let ack = ack_of(&raw, &findings, Decision::Reject { reason: "busy".into() });
    assert_eq!(
        lines(&ack.bytes)[1..],
        [
            "MSA|AE|12345",
            "ERR||PID^1^3|101^Required field missing^HL70357|E||||missing",
            "ERR|||207^Application internal error^HL70357|E||||busy",
        ]
    );
}

#[test]
fn latin9_inbound_gets_a_latin9_ack() {
    let header = FLOW1_MSH.replace("UNICODE UTF-8", "8859/15");
    let raw = msg(&[&header]);
    let text = "Donnée refusée : 5 € œuvre";
    let findings = [finding(Severity::Error, 102, erl("OBX", 1, 5), text)];
    let ack = ack_of(&raw, &findings, Decision::Accept);
    assert_eq!(ack.info.charset, Charset::Latin9);
    assert!(!ack.info.charset_fallback);
    assert_eq!(ack.info.notated_characters, 0);
    let bytes = &ack.bytes;
    assert!(String::from_utf8(bytes.clone()).is_err(), "Latin-9, not UTF-8");
    let tail: &[u8] = b"|E||||Donn\xE9e refus\xE9e : 5 \xA4 \xBDuvre\r";
    assert!(bytes.ends_with(tail), "{:?}", String::from_utf8_lossy(bytes));
    let parsed = Message::parse(bytes).unwrap();
    assert_eq!(parsed.charset(), Charset::Latin9);
    assert_eq!(parsed.get("MSH-18").unwrap().as_deref(), Some("8859/15"));
    assert_eq!(parsed.get("ERR-8").unwrap().as_deref(), Some(text));
}

#[test]
fn unrepresentable_characters_are_notated_not_substituted() {
    let header = FLOW1_MSH.replace("UNICODE UTF-8", "8859/15");
    let raw = msg(&[&header]);
    let findings = [finding(Severity::Error, 102, erl("PID", 1, 5), "nom « Łukasz » ✓")];
    let ack = ack_of(&raw, &findings, Decision::Accept);
    let parsed = Message::parse(&ack.bytes).unwrap();
    assert_eq!(parsed.get("ERR-8").unwrap().as_deref(), Some("nom « <U+0141>ukasz » <U+2713>"));
    assert_eq!(ack.info.notated_characters, 2);
}

#[test]
fn latin1_inbound_falls_back_to_utf8() {
    let header = FLOW1_MSH.replace("StructureApp", "Structure\u{e9}").replace("UNICODE UTF-8", "8859/1");
    // The inbound is really Latin-1 on the wire: é is the byte E9.
    let raw: Vec<u8> = String::from_utf8(msg(&[&header])).unwrap().chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
    let ack = ack_of(&raw, &[], Decision::Accept);
    assert_eq!(ack.info.charset, Charset::Utf8);
    assert!(ack.info.charset_fallback);
    let l = lines(&ack.bytes);
    assert!(l[0].ends_with("|FRA|UNICODE UTF-8"), "{}", l[0]);
    assert!(l[0].contains("|Structureé|StructureFacility|"), "{}", l[0]);
}

#[test]
fn empty_msh18_falls_back_to_utf8() {
    let raw = msg(&[r"MSH|^~\&|A|B|C|D|20260106134418||ORU^R01^ORU_R01|9|P|2.5.1"]);
    let ack = ack_of(&raw, &[], Decision::Accept);
    assert!(ack.info.charset_fallback);
    // No MSH-17 in the inbound: the ACK still says FRA (the ACK table makes it R, FRA).
    assert_eq!(lines(&ack.bytes)[0], r"MSH|^~\&|C|D|A|B|20260106134419||ACK^R01^ACK|12346|P|2.5.1|||||FRA|UNICODE UTF-8");
}

#[test]
fn unparsable_inbound_is_ae_with_the_documented_fallbacks() {
    let raw = b"this is not HL7\r".to_vec();
    let parse_error = finding(Severity::Error, 100, Erl { segment: Some("MSH".into()), ..Erl::default() }, "not an HL7 message");
    let ack = ack::build_with_info(None, &raw, &[parse_error], Decision::Accept, &opts()).unwrap();
    assert_eq!(
        lines(&ack.bytes),
        [
            r"MSH|^~\&|MyTLR|MyFacility|UNKNOWN|UNKNOWN|20260106134419||ACK^O01^ACK|12346|P|2.5.1|||||FRA|UNICODE UTF-8",
            "MSA|AE|UNKNOWN",
            "ERR||MSH^1|100^Segment sequence error^HL70357|E||||not an HL7 message",
        ]
    );
    assert_eq!(ack.info.header, HeaderSource::None);
    assert!(ack.info.receiver_fallback);
    assert!(ack.info.charset_fallback);
    assert_eq!(ack.info.acknowledged_id, "");
    Message::parse(&ack.bytes).unwrap();
}

#[test]
fn unparsable_inbound_without_finding_still_has_an_err() {
    let ack = ack::build_with_info(None, b"", &[], Decision::Accept, &opts()).unwrap();
    let l = lines(&ack.bytes);
    assert_eq!(l[1..], ["MSA|AE|UNKNOWN", "ERR||MSH^1|100^Segment sequence error^HL70357|E||||the message could not be parsed"]);
}

#[test]
fn unparsable_body_still_recalls_the_header() {
    // A broken second segment: the header alone is read back for MSA-2.
    let header = FLOW1_MSH.replace("UNICODE UTF-8", "8859/15");
    let raw = msg(&[&header, "pid|1"]);
    assert!(Message::parse(&raw).is_err());
    let parse_error = finding(Severity::Error, 100, Erl { segment: Some("pid".into()), ..Erl::default() }, "bad segment id");
    let ack = ack::build_with_info(None, &raw, &[parse_error], Decision::Accept, &opts()).unwrap();
    assert_eq!(ack.info.header, HeaderSource::RawHeader);
    assert_eq!(ack.info.charset, Charset::Latin9);
    assert_eq!(
        lines(&ack.bytes)[..2],
        [
            r"MSH|^~\&|TLRapp|TLRfacility|StructureApp|StructureFacility|20260106134419||ACK^O01^ACK|12346|P|2.5.1|||||FRA|8859/15",
            "MSA|AE|12345",
        ]
    );
}

#[test]
fn missing_msh10_gives_unknown_msa2_and_err_101() {
    let header = FLOW1_MSH.replace("|12345|", "||");
    let raw = msg(&[&header]);
    let ack = ack_of(&raw, &[], Decision::Accept);
    let l = lines(&ack.bytes);
    assert_eq!(l[1], "MSA|AE|UNKNOWN");
    assert_eq!(l[2], "ERR||MSH^1^10|101^Required field missing^HL70357|E||||MSH-10 (message control id) is empty: MSA-2 cannot recall it");
    assert_eq!(l.len(), 3);

    // The validator's own finding for it is not doubled.
    let f = finding(Severity::Error, 101, erl("MSH", 1, 10), "MSH-10 missing");
    let ack = ack_of(&raw, &[f], Decision::Accept);
    let l = lines(&ack.bytes);
    assert_eq!(l[2..], ["ERR||MSH^1^10|101^Required field missing^HL70357|E||||MSH-10 missing"]);
}

#[test]
fn empty_receiving_fields_fall_back_to_the_receiver_identity() {
    let raw = msg(&[r"MSH|^~\&|StructureApp|StructureFacility|||20260106134418||ORM^O01^ORM_O01|12345|P|2.5.1|||||FRA|UNICODE UTF-8"]);
    let ack = ack_of(&raw, &[], Decision::Accept);
    assert!(ack.info.receiver_fallback);
    assert!(lines(&ack.bytes)[0].starts_with(r"MSH|^~\&|MyTLR|MyFacility|StructureApp|StructureFacility|"));
}

#[test]
fn finding_text_with_delimiters_is_escaped() {
    let raw = msg(&[FLOW1_MSH]);
    let findings = [finding(Severity::Error, 102, Erl::default(), "value 'a|b^c~d&e\\f' \r bad")];
    let ack = ack_of(&raw, &findings, Decision::Accept);
    let l = lines(&ack.bytes);
    assert_eq!(l.len(), 3);
    assert_eq!(l[2], r"ERR|||102^Data type error^HL70357|E||||value 'a\F\b\S\c\R\d\T\e\E\f' \X0D\ bad");
    let parsed = Message::parse(&ack.bytes).unwrap();
    assert_eq!(parsed.get("ERR-8").unwrap().as_deref(), Some("value 'a|b^c~d&e\\f' \r bad"));
}

#[test]
fn an_identity_the_charset_cannot_hold_is_an_error() {
    let header = FLOW1_MSH.replace("|TLRapp|TLRfacility|", "|||").replace("UNICODE UTF-8", "8859/15");
    let raw = msg(&[&header]);
    let inbound = Message::parse(&raw).unwrap();
    let o = AckOptions { receiver: Identity { application: "Łódź".into(), facility: "F".into() }, ..opts() };
    let e = ack::build(Some(&inbound), &raw, &[], Decision::Accept, &o).unwrap_err();
    // Located where the identity goes.
    assert!(e.to_string().contains("MSH-3"), "{e}");
}

#[test]
fn header_fields_of_separators_alone_are_empty_and_trailing_empty_parts_are_dropped() {
    let raw = msg(&[r"MSH|^~\&|A\T\B^^|Fac^^&~|^~&|&^~|20260106134418||ORM^O01^ORM_O01|12345|P|2.5.1|||||FRA|UNICODE UTF-8"]);
    let ack = ack_of(&raw, &[], Decision::Accept);
    // MSH-5/6 hold separators only: the receiver identity; the inbound MSH-3/4 lose their
    // trailing empty parts, and an escape is decoded and written again.
    assert!(ack.info.receiver_fallback);
    assert!(lines(&ack.bytes)[0].starts_with(r"MSH|^~\&|MyTLR|MyFacility|A\T\B|Fac|20260106134419|"), "{}", lines(&ack.bytes)[0]);
}
