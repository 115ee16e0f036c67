//! Building messages with the owned model, encoding them and parsing them back.

use hl7_runtime::error::EncodeError;
use hl7_runtime::owned::{CompBuf, FieldBuf, MessageBuf, RepBuf, SegmentBuf};
use hl7_runtime::{Charset, Delimiters, Message};

fn build(charset: Charset, label: &str) -> MessageBuf {
    let mut m = MessageBuf::new(Delimiters::STANDARD, charset);
    m.add_segment("MSH")
        .set_field(3, "TLRapp")
        .set_component(9, 1, 1, "ORU")
        .set_component(9, 1, 2, "R01")
        .set_component(9, 1, 3, "ORU_R01")
        .set_field(10, "42")
        .set_field(12, "2.5.1")
        .set_field(18, label);
    m.add_segment("PID")
        .set_subcomponent(3, 1, 1, 1, "279035121518989")
        .set_subcomponent(3, 1, 4, 1, "ASIP-SANTE-INS-NIR")
        .set_subcomponent(3, 1, 4, 2, "1.2.250.1.213.1.4.10")
        .set_subcomponent(3, 1, 4, 3, "ISO")
        .set_component(3, 2, 1, "456")
        .set_component(5, 1, 1, "Dupont^Durand|x")
        .set_component(5, 1, 2, "Amélie Œ")
        .set_field(8, "F");
    m.add_segment("OBX")
        .set_field(1, "1")
        .set_field(2, "FT")
        .set_field(5, "ligne 1\\.br\\ligne 2 & \\ ~\r\nfin");
    m
}

#[test]
fn build_encode_parse_back_equal() {
    for (cs, label) in [(Charset::Utf8, "UNICODE UTF-8"), (Charset::Latin9, "8859/15")] {
        let mut built = build(cs, label);
        let bytes = built.encode().unwrap();
        let parsed = Message::parse(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(parsed.charset(), cs);
        built.normalize();
        assert_eq!(parsed.to_owned_buf(), built, "{label}");
        assert_eq!(parsed.get("PID-5.1").unwrap().unwrap(), "Dupont^Durand|x");
        assert_eq!(parsed.get("PID-5.2").unwrap().unwrap(), "Amélie Œ");
        assert_eq!(parsed.get("OBX-5").unwrap().unwrap(), "ligne 1\\.br\\ligne 2 & \\ ~\r\nfin");
        assert_eq!(parsed.get("PID-3[1].4.2").unwrap().unwrap(), "1.2.250.1.213.1.4.10");
        // And the re-encoding of the parsed model is stable.
        assert_eq!(parsed.to_owned_buf().encode().unwrap(), bytes);
    }
}

#[test]
fn exact_er7_output() {
    let built = build(Charset::Utf8, "UNICODE UTF-8");
    let bytes = built.encode().unwrap();
    let expected = concat!(
        "MSH|^~\\&|TLRapp||||||ORU^R01^ORU_R01|42||2.5.1||||||UNICODE UTF-8\r",
        "PID|||279035121518989^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO~456||Dupont\\S\\Durand\\F\\x^Amélie Œ|||F\r",
        "OBX|1|FT|||ligne 1\\.br\\ligne 2 \\T\\ \\E\\ \\R\\\\X0D0A\\fin\r",
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
}

#[test]
fn trailing_empty_elements_are_trimmed() {
    let mut m = MessageBuf::new(Delimiters::STANDARD, Charset::Ascii);
    m.add_segment("MSH");
    let seg = m.add_segment("ZDS");
    seg.set_component(2, 1, 1, "a").set_component(2, 1, 4, "").set_field(7, "");
    seg.field_mut(2).rep_mut(3);
    seg.set((3, 1, 2, 3), "").set_field(1, "x");
    assert_eq!(m.encode().unwrap(), b"MSH|^~\\&\rZDS|x|a\r");
    // Middle empties are kept.
    let mut s = SegmentBuf::new("NK1");
    s.set_component(3, 2, 3, "z");
    let mut m = MessageBuf::new(Delimiters::STANDARD, Charset::Ascii);
    m.segments.push(s.clone());
    assert_eq!(m.encode().unwrap(), b"NK1|||~^^z\r");
    assert_eq!(s.get(3, 2, 3, 1), Some("z"));
    assert_eq!(s.get(3, 1, 1, 1), None);
    assert_eq!(s.get(9, 1, 1, 1), None);
}

#[test]
fn null_and_empty_round_trip() {
    let mut m = MessageBuf::new(Delimiters::STANDARD, Charset::Ascii);
    m.add_segment("MSH").set_field(3, "A");
    m.add_segment("PID").set_field(2, "\"\"").set_field(4, "b");
    let bytes = m.encode().unwrap();
    assert_eq!(bytes, b"MSH|^~\\&|A\rPID||\"\"||b\r");
    let parsed = Message::parse(&bytes).unwrap();
    assert!(parsed.segment(1).unwrap().field(2).is_null());
    assert_eq!(parsed.to_owned_buf(), m);
}

#[test]
fn to_owned_buf_is_canonical() {
    let input = b"MSH|^~\\&|A|||||||||||||||\rPID|1||a^^&&~||x^\r";
    let m = Message::parse(input).unwrap();
    let buf = m.to_owned_buf();
    let pid = &buf.segments[1];
    assert_eq!(pid.fields.len(), 5, "trailing fields trimmed: {pid:?}");
    assert_eq!(
        pid.fields[2],
        FieldBuf { reps: vec![RepBuf { comps: vec![CompBuf { subs: vec!["a".into()] }] }] }
    );
    assert_eq!(pid.fields[4], FieldBuf::text("x"));
    assert!(buf.segments[0].fields.len() == 3 && buf.segments[0].fields[..2].iter().all(FieldBuf::is_empty));
    assert_eq!(buf.encode().unwrap(), b"MSH|^~\\&|A\rPID|1||a||x\r");
    let json = serde_json::to_value(&buf).unwrap();
    assert_eq!(json["segments"][1]["id"], "PID");
    assert_eq!(json["segments"][1]["fields"][4]["reps"][0]["comps"][0]["subs"][0], "x");
}

#[test]
fn encode_errors_name_the_position() {
    let mut m = MessageBuf::new(Delimiters::STANDARD, Charset::Latin1);
    m.add_segment("MSH").set_field(18, "8859/1");
    m.add_segment("PID").set_component(5, 1, 2, "Œuvre");
    let e = m.encode().unwrap_err();
    assert_eq!(
        e.to_string(),
        "PID-5[1].2.1: character 'Œ' (U+0152) at char index 0 cannot be represented in 8859/1"
    );
    m.charset = Charset::Latin9;
    assert!(m.encode().is_ok());

    let mut bad = MessageBuf::new(Delimiters::STANDARD, Charset::Ascii);
    bad.add_segment("pid");
    assert_eq!(bad.encode().unwrap_err(), EncodeError::InvalidSegmentId { id: "pid".into() });

    let dup = Delimiters { component: b'|', ..Delimiters::STANDARD };
    let m = MessageBuf::new(dup, Charset::Ascii);
    assert_eq!(m.encode().unwrap_err(), EncodeError::InvalidDelimiters { reason: "delimiters must be distinct" });

    let no_sub = Delimiters { subcomponent: None, ..Delimiters::STANDARD };
    let mut m = MessageBuf::new(no_sub, Charset::Ascii);
    m.add_segment("MSH");
    m.add_segment("PID").set((3, 1, 1, 2), "x");
    assert_eq!(m.encode().unwrap_err().to_string(), "PID-3[1].1.2: several subcomponents but the delimiters define no subcomponent separator");
}

#[test]
#[should_panic(expected = "HL7 positions start at 1")]
fn position_zero_is_a_programming_error() {
    SegmentBuf::new("PID").set_field(0, "x");
}
