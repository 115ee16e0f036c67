//! The second guide end to end: parse into its generated types, validate against its own
//! profiles (a message that passes, one that fails with the finding located), and
//! acknowledge, the ACK itself checked against the guide's ACK profile.

use adt_test_guide::{adt_a01, adt_a04, AnyMessage, REGISTRY};
use hl7_runtime::ack::{build, AckOptions, Decision, Identity};
use hl7_runtime::validate::{validate, Finding, Severity};
use hl7_runtime::Message;

const A01: &[u8] = b"MSH|^~\\&|ADT_APP|HOSP|RECV|HOSP|20260106101500||ADT^A01^ADT_A01|MSG0001|P|2.5.1\r\
EVN||20260106101500\r\
PID|||123456^^^HOSP^PI||DUPONT^JEAN||19800101|M\r\
PV1||I\r\
ZXX|Chest pain|U\r";

fn checked(bytes: &[u8]) -> (AnyMessage<'_>, Vec<Finding>) {
    let any = AnyMessage::from_message(Message::parse(bytes).expect("parses")).expect("a profile fits");
    let findings = validate(any.placed(), &REGISTRY);
    (any, findings)
}

fn errors(findings: &[Finding]) -> Vec<String> {
    findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.to_string()).collect()
}

fn ack_of(bytes: &[u8], findings: &[Finding]) -> Vec<u8> {
    let inbound = Message::parse(bytes).ok();
    let (clock, id) = (|| "20260106101501".to_owned(), || "ACK0001".to_owned());
    let opts = AckOptions { receiver: Identity { application: "RECV".into(), facility: "HOSP".into() }, clock: &clock, next_id: &id };
    build(inbound.as_ref(), bytes, findings, Decision::Accept, &opts).expect("the ACK builds")
}

#[test]
fn an_admission_parses_into_the_guides_own_types() {
    let msg = adt_a01::Message::parse(A01).unwrap();
    assert_eq!(msg.msh().unwrap().message_control_id().unwrap().text(), "MSG0001");
    assert_eq!(msg.evn().unwrap().recorded_date_time().unwrap().time().unwrap().text(), "20260106101500");
    let name = msg.pid().unwrap().patient_name().get(1).unwrap();
    assert_eq!(name.family_name().and_then(|f| f.surname()).unwrap().text(), "DUPONT");
    assert_eq!(msg.pv1().unwrap().patient_class().unwrap().text(), "I");
    // The guide's own Z segment, generated like a standard one.
    let zxx = msg.zxx().unwrap();
    assert_eq!(zxx.admission_reason_text().unwrap().text(), "Chest pain");
    assert_eq!(zxx.zxx_2().unwrap().text(), "U");
    assert_eq!(msg.encode(), A01, "an unmodified message re-encodes byte for byte");
}

#[test]
fn the_profile_is_chosen_from_msh_9() {
    let (any, _) = checked(A01);
    assert_eq!(any.profile().profile, "adt_a01");
    let a04 = String::from_utf8(A01.to_vec()).unwrap().replace("ADT^A01^", "ADT^A04^");
    let (any, _) = checked(a04.as_bytes());
    assert_eq!(any.profile().profile, "adt_a04");
    assert!(matches!(any, AnyMessage::AdtA04(_)));
}

#[test]
fn a_conforming_admission_passes_and_is_acknowledged_aa() {
    let (_, findings) = checked(A01);
    assert_eq!(errors(&findings), Vec::<String>::new());
    let ack = ack_of(A01, &findings);
    let text = String::from_utf8(ack.clone()).unwrap();
    assert!(text.contains("\rMSA|AA|MSG0001"), "{text}");
    // The ACK conforms to the guide's own ACK profile.
    let (any, ack_findings) = checked(&ack);
    assert_eq!(any.profile().profile, "ack");
    assert_eq!(errors(&ack_findings), Vec::<String>::new());
}

#[test]
fn a_patient_class_outside_the_guides_list_is_located_and_acknowledged_ae() {
    // B (obstetrics) is in HL7 table 0004, but the guide allows E, I and O only.
    let bad = String::from_utf8(A01.to_vec()).unwrap().replace("PV1||I", "PV1||B");
    let (_, findings) = checked(bad.as_bytes());
    let errors: Vec<&Finding> = findings.iter().filter(|f| f.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{findings:#?}");
    let f = errors[0];
    assert_eq!((f.code, f.location.to_string().as_str()), (103, "PV1[1]-2"));
    assert_eq!(f.source, "README.md#h:Common constraints");
    let ack = String::from_utf8(ack_of(bad.as_bytes(), &findings)).unwrap();
    assert!(ack.contains("\rMSA|AE|MSG0001"), "{ack}");
    assert!(ack.contains("\rERR||PV1^1^2|103"), "{ack}");
    let (_, ack_findings) = checked(ack.as_bytes());
    assert_eq!(self::errors(&ack_findings), Vec::<String>::new());
}

#[test]
fn a01_requires_the_z_segment_and_a04_does_not() {
    let without = String::from_utf8(A01.to_vec()).unwrap().replace("ZXX|Chest pain|U\r", "");
    let (_, findings) = checked(without.as_bytes());
    let missing: Vec<&Finding> = findings.iter().filter(|f| f.severity == Severity::Error).collect();
    assert_eq!(missing.len(), 1, "{findings:#?}");
    // A missing segment is reported at its group (here the message, at MSH).
    assert_eq!((missing[0].code, missing[0].location.to_string().as_str()), (100, "MSH[1]"));
    assert!(missing[0].message.starts_with("ZXX: 0 found, at least 1 required"), "{}", missing[0]);
    let a04 = without.replace("ADT^A01^", "ADT^A04^");
    let (_, findings) = checked(a04.as_bytes());
    assert_eq!(errors(&findings), Vec::<String>::new());
    assert!(adt_a04::Message::parse(a04.as_bytes()).unwrap().zxx().is_none());
}
