//! Resource limits (`hl7_runtime::Limits`): the parser stops at each bound with a located
//! error, and locations past 65,535 fields or repetitions are exact (positions are `u32`).

use hl7_runtime::{Limits, Message, ParseErrorKind, ParseOptions};

const MSH: &str = "MSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.5.1\r";

fn with(limits: Limits) -> ParseOptions {
    ParseOptions::default().with_limits(limits)
}

fn err(input: &[u8], options: &ParseOptions) -> hl7_runtime::ParseError {
    match Message::parse_with(input, options) {
        Ok(_) => panic!("expected an error for {} bytes", input.len()),
        Err(e) => e,
    }
}

#[test]
fn defaults_are_documented_values() {
    let d = Limits::default();
    assert_eq!(d, Limits::DEFAULT);
    assert_eq!(d.max_message_bytes, 64 << 20);
    assert_eq!(d.max_segments, 100_000);
    assert_eq!(d.max_repetitions, 10_000);
    assert_eq!(d.max_validation_steps, 10_000_000);
    assert_eq!(ParseOptions::default().limits, Limits::DEFAULT);
    assert_eq!(ParseOptions::lenient().limits, Limits::DEFAULT);
}

#[test]
fn message_size_limit_is_located_in_the_segment_that_crosses_it() {
    let text = format!("{MSH}PID|||12345\rPV1||O\r");
    let limit = MSH.len() + 8; // inside PID-3
    let options = with(Limits { max_message_bytes: limit, ..Limits::DEFAULT });
    let e = err(text.as_bytes(), &options);
    assert_eq!(e.kind(), &ParseErrorKind::TooLarge { len: text.len(), limit });
    assert_eq!(e.to_string(), format!("PID (byte {limit}): message of {} bytes exceeds the limit of {limit} bytes", text.len()));
    assert_eq!(e.location().segment_index, 1);
    // Exactly at the limit is accepted (the final CR is not counted past the limit).
    let exact = with(Limits { max_message_bytes: text.len(), ..Limits::DEFAULT });
    assert!(Message::parse_with(text.as_bytes(), &exact).is_ok());
}

/// Every limit from 0 to past the input: the parse fails exactly when a segment ends past the
/// limit, at the first such segment, located at the limit (or at the segment's start when the
/// limit falls in the terminator before it). The parser finds a segment's end and its
/// separators in one scan that reads no further than the limit, so this walks the limit over
/// every byte, terminators and a segment longer than a vector block included.
#[test]
fn every_limit_is_located_in_the_segment_that_crosses_it() {
    let long = "x".repeat(70);
    let text = format!("{MSH}PID|||12345^^^H~678\rOBX|1|TX|{long}|a|b\rNTE|1");
    let bytes = text.as_bytes();
    // Segment bounds (start, end), found a byte at a time.
    let mut bounds = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\r' {
            bounds.push((start, i));
            start = i + 1;
        }
    }
    bounds.push((start, bytes.len()));
    for limit in 0..=bytes.len() + 1 {
        let options = with(Limits { max_message_bytes: limit, ..Limits::DEFAULT });
        let crossing = bounds.iter().position(|&(_, end)| end > limit);
        match (Message::parse_with(bytes, &options), crossing) {
            (Ok(m), None) => assert_eq!(m.segment_count(), bounds.len(), "limit {limit}"),
            (Err(e), Some(k)) => {
                assert_eq!(e.kind(), &ParseErrorKind::TooLarge { len: bytes.len(), limit }, "limit {limit}");
                assert_eq!(e.location().segment_index, k, "limit {limit}");
                assert_eq!(e.location().byte, limit.max(bounds[k].0), "limit {limit}");
            }
            (got, expected) => panic!("limit {limit}: {got:?}, expected the segment crossing it: {expected:?}"),
        }
    }
}

#[test]
fn an_error_before_the_size_limit_wins() {
    // A broken segment id comes before the byte where the limit is crossed.
    let text = format!("{MSH}pid|||1\rPV1||O\r");
    let options = with(Limits { max_message_bytes: text.len() - 2, ..Limits::DEFAULT });
    assert!(matches!(err(text.as_bytes(), &options).kind(), ParseErrorKind::InvalidSegmentId { .. }));
}

#[test]
fn segment_limit_is_located_at_the_first_segment_past_it() {
    let mut text = MSH.to_owned();
    for _ in 0..10 {
        text.push_str("NTE|1||x\r");
    }
    let options = with(Limits { max_segments: 5, ..Limits::DEFAULT });
    let e = err(text.as_bytes(), &options);
    assert_eq!(e.kind(), &ParseErrorKind::TooManySegments { limit: 5 });
    let byte = MSH.len() + 4 * "NTE|1||x\r".len();
    assert_eq!(e.to_string(), format!("NTE (byte {byte}): more than 5 segments"));
    assert_eq!(e.location().segment_index, 5);
    let exact = with(Limits { max_segments: 11, ..Limits::DEFAULT });
    assert_eq!(Message::parse_with(text.as_bytes(), &exact).map(|m| m.segment_count()).ok(), Some(11));
}

#[test]
fn repetition_limit_is_located_at_the_first_repetition_past_it() {
    let reps: Vec<String> = (1..=6).map(|i| format!("ID{i}^^^X")).collect();
    let text = format!("{MSH}PID|1||{}|x\r", reps.join("~"));
    let options = with(Limits { max_repetitions: 4, ..Limits::DEFAULT });
    let e = err(text.as_bytes(), &options);
    assert_eq!(e.kind(), &ParseErrorKind::TooManyRepetitions { limit: 4 });
    let byte = text.find("ID5").unwrap();
    assert_eq!(e.to_string(), format!("PID-3[5] (byte {byte}): more than 4 repetitions in one field"));
    // Exactly at the limit is accepted; MSH-2's own `~` is not a repetition.
    let exact = with(Limits { max_repetitions: 6, ..Limits::DEFAULT });
    assert!(Message::parse_with(text.as_bytes(), &exact).is_ok());
    let one = with(Limits { max_repetitions: 1, ..Limits::DEFAULT });
    assert!(Message::parse_with(MSH.as_bytes(), &one).is_ok());
}

#[test]
fn an_empty_repetition_past_the_limit_is_located_too() {
    let text = format!("{MSH}PID|1||a~b~\r");
    let options = with(Limits { max_repetitions: 2, ..Limits::DEFAULT });
    let e = err(text.as_bytes(), &options);
    assert_eq!(e.to_string(), format!("PID-3[3] (byte {}): more than 2 repetitions in one field", text.len() - 1));
}

#[test]
fn repetitions_spread_over_fields_are_not_a_field_over_the_limit() {
    let text = format!("{MSH}PID|a~b~c|a~b~c|a~b~c\r");
    let options = with(Limits { max_repetitions: 3, ..Limits::DEFAULT });
    assert!(Message::parse_with(text.as_bytes(), &options).is_ok());
}

#[test]
fn default_limits_reject_what_exceeds_them() {
    let mut text = MSH.to_owned();
    text.push_str("PID|||");
    text.push_str(&"x~".repeat(10_000));
    text.push_str("x\r");
    let e = err(text.as_bytes(), &ParseOptions::default());
    assert_eq!(e.kind(), &ParseErrorKind::TooManyRepetitions { limit: 10_000 });
    assert_eq!(e.location().repetition, Some(10_001));
    assert!(Message::parse_with(text.as_bytes(), &ParseOptions::default().with_limits(Limits::UNBOUNDED)).is_ok());
}

/// Positions past 65,535 are exact: a field, a repetition and a segment index that a 16-bit
/// position would have wrapped or capped.
#[test]
fn locations_past_u16_are_exact() {
    let unbounded = ParseOptions::default().with_limits(Limits::UNBOUNDED);
    // A control character in field 70,000.
    let text = format!("{MSH}PID{}\x01\r", "|".repeat(70_000));
    let e = err(text.as_bytes(), &unbounded);
    assert_eq!(e.to_string(), format!("PID-70000 (byte {}): control character 0x01 is not allowed in HL7 text", text.len() - 2));
    // An invalid escape in repetition 70,001 of PID-3.
    let text = format!("{MSH}PID|||{}\\Q\\\r", "a~".repeat(70_000));
    let e = err(text.as_bytes(), &unbounded);
    assert_eq!(e.location().field, Some(3));
    assert_eq!(e.location().repetition, Some(70_001));
    // The view of the same repetition reports the same position.
    let ok = format!("{MSH}PID|||{}z\r", "a~".repeat(70_000));
    let m = Message::parse_with(ok.as_bytes(), &unbounded).unwrap();
    let pid3 = m.segment(1).unwrap().field(3);
    let last = pid3.repetitions().last().unwrap();
    assert_eq!(last.text(), "z");
    assert_eq!(last.location().repetition, Some(70_001));
    assert_eq!(last.location().to_string(), format!("PID-3[70001] (byte {})", ok.len() - 2));
    assert_eq!(pid3.repetition(70_001).map(|r| r.location().repetition), Some(Some(70_001)));
    // Segment 70,002 of a message with an error at its end.
    let mut text = MSH.to_owned();
    text.push_str(&"NTE|1||x\r".repeat(70_000));
    text.push_str("NTE|1||\x02\r");
    let e = err(text.as_bytes(), &unbounded);
    assert_eq!(e.location().segment_index, 70_001);
    assert_eq!(e.location().field, Some(3));
}
