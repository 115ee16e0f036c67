//! Every parse error kind, with its exact Display (location in HL7 terms).

use hl7_runtime::{Message, ParseErrorKind, ParseOptions};

const UTF8_MSH: &str = "MSH|^~\\&||||||||||||||||UNICODE UTF-8\r";

fn err(input: &[u8]) -> hl7_runtime::ParseError {
    match Message::parse(input) {
        Ok(_) => panic!("expected an error for {:?}", String::from_utf8_lossy(input)),
        Err(e) => e,
    }
}

fn display(input: &[u8]) -> String {
    err(input).to_string()
}

#[test]
fn empty() {
    let e = err(b"");
    assert_eq!(e.kind(), &ParseErrorKind::Empty);
    assert_eq!(e.to_string(), "segment 1 (byte 0): empty input");
}

#[test]
fn not_hl7() {
    let expected = "segment 1 (byte 0): not an HL7 v2 message: it must start with \"MSH\" and the field separator";
    assert_eq!(display(b"hello world"), expected);
    assert_eq!(display(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), expected);
    assert_eq!(display(b"{\"resourceType\":\"Bundle\"}"), expected);
    assert_eq!(display(b"msh|^~\\&|"), expected);
    assert_eq!(err(b"\0\0\0\0").kind(), &ParseErrorKind::NotHl7);
}

#[test]
fn missing_msh() {
    let e = err(b"PID|1||123\r");
    assert_eq!(e.kind(), &ParseErrorKind::MissingMsh { found: "PID".into() });
    assert_eq!(e.to_string(), "PID (byte 0): first segment is PID, an HL7 message must start with MSH");
    assert_eq!(e.location().segment_id_str(), Some("PID"));
}

#[test]
fn truncated_header() {
    let expected = "MSH (byte 0): MSH segment too short to hold the field separator and the encoding characters";
    for input in [&b"MSH"[..], b"MSH|", b"MSH|^", b"MSH|^~", b"MSH\r", b"MSH\rPID|1"] {
        let e = err(input);
        assert_eq!(e.kind(), &ParseErrorKind::TruncatedHeader, "{input:?}");
        assert_eq!(e.to_string(), expected);
    }
}

#[test]
fn invalid_delimiters() {
    assert_eq!(
        display(b"MSH|^~^&|A\r"),
        "MSH-2 (byte 4): invalid delimiters in MSH-1/MSH-2: delimiters must be distinct"
    );
    assert_eq!(
        display(b"MSHA^~\\&A\r"),
        "MSH-1 (byte 3): invalid delimiters in MSH-1/MSH-2: delimiters must not be letters or digits"
    );
    assert_eq!(
        display(b"MSH|^~|A\r"),
        "MSH-2 (byte 4): invalid delimiters in MSH-1/MSH-2: MSH-2 must hold 3 to 5 encoding characters"
    );
    assert_eq!(
        display(b"MSH|^~\\&#$|A\r"),
        "MSH-2 (byte 4): invalid delimiters in MSH-1/MSH-2: MSH-2 must hold 3 to 5 encoding characters"
    );
    assert_eq!(
        display(b"MSH|^~ &|A\r"),
        "MSH-2 (byte 4): invalid delimiters in MSH-1/MSH-2: delimiters must be printable ASCII characters"
    );
    assert!(matches!(err(b"MSH|^~\\\\|\r").kind(), ParseErrorKind::InvalidDelimiters { .. }));
}

#[test]
fn unexpected_line_feed_strict_only() {
    let lf = b"MSH|^~\\&|A\nPID|1\n";
    let e = err(lf);
    assert_eq!(e.kind(), &ParseErrorKind::UnexpectedLineFeed);
    assert_eq!(
        e.to_string(),
        "MSH (byte 10): line feed (LF) found; HL7 segments end with a carriage return (CR). \
         ParseOptions { lenient_terminators: true, .. } accepts LF and CRLF"
    );
    let crlf = b"MSH|^~\\&|A\r\nPID|1\r\n";
    assert_eq!(err(crlf).location().to_string(), "MSH (byte 11)");
    // An LF inside a later segment is located in that segment.
    let inner = b"MSH|^~\\&|A\rOBX|1|TX|line1\nline2\r";
    assert_eq!(err(inner).location().to_string(), "OBX (byte 25)");
    let lenient = ParseOptions { lenient_terminators: true, ..Default::default() };
    assert_eq!(Message::parse_with(lf, &lenient).unwrap().segment_count(), 2);
    assert_eq!(Message::parse_with(crlf, &lenient).unwrap().segment_count(), 2);
}

#[test]
fn empty_segment_strict_only() {
    let input = b"MSH|^~\\&|A\r\rPID|1\r";
    let e = err(input);
    assert_eq!(e.kind(), &ParseErrorKind::EmptySegment);
    assert_eq!(
        e.to_string(),
        "segment 2 (byte 11): empty segment (two segment terminators in a row); \
         ParseOptions { lenient_terminators: true, .. } skips empty lines"
    );
    let lenient = ParseOptions { lenient_terminators: true, ..Default::default() };
    let m = Message::parse_with(input, &lenient).unwrap();
    assert_eq!(m.segment_count(), 2);
    assert_eq!(m.encode(), input);
}

#[test]
fn invalid_segment_id() {
    assert_eq!(
        display(b"MSH|^~\\&|A\rPID|1\rPi1|x\r"),
        "segment 3 (byte 17): invalid segment id \"Pi1\": expected 3 uppercase letters or digits, the first a letter"
    );
    for bad in [&b"1AB|x"[..], b"PIDX|x", b"PI|x", b"P D|x", b"PID"[..2].as_ref(), b"|x"] {
        let mut input = b"MSH|^~\\&|A\r".to_vec();
        input.extend_from_slice(bad);
        assert!(matches!(err(&input).kind(), ParseErrorKind::InvalidSegmentId { .. }), "{bad:?}");
    }
    for good in ["ZDS|1", "NK1|1", "IN1|1", "PID"] {
        let input = format!("MSH|^~\\&|A\r{good}\r");
        assert!(Message::parse(input.as_bytes()).is_ok(), "{good}");
    }
}

#[test]
fn duplicate_msh() {
    let e = err(b"MSH|^~\\&|A\rMSH|^~\\&|B\r");
    assert_eq!(e.kind(), &ParseErrorKind::DuplicateMsh);
    assert_eq!(e.location().segment_index, 1);
    assert_eq!(e.to_string(), "MSH (byte 11): second MSH segment: this parser reads one message, split batches first");
}

#[test]
fn control_character() {
    let e = err(b"MSH|^~\\&|A\rPID|1|a\0b\r");
    assert_eq!(e.kind(), &ParseErrorKind::ControlCharacter { byte: 0 });
    assert_eq!(e.to_string(), "PID-2 (byte 18): control character 0x00 is not allowed in HL7 text");
    // Long segment: the 8-bytes-at-a-time scan must still find it at the right place.
    let mut input = b"MSH|^~\\&|A\rOBX|1|TX|".to_vec();
    input.extend(std::iter::repeat_n(b'x', 37));
    input.push(0x1B);
    input.extend_from_slice(b"tail\r");
    assert_eq!(display(&input), "OBX-3 (byte 57): control character 0x1B is not allowed in HL7 text");
    // TAB is text.
    assert!(Message::parse(b"MSH|^~\\&|A\rNTE|1||a\tb\r").is_ok());
}

#[test]
fn unsupported_charset() {
    let input = format!("MSH|^~\\&{}UTF-16\r", "|".repeat(16));
    let e = err(input.as_bytes());
    assert_eq!(e.kind(), &ParseErrorKind::UnsupportedCharset { value: "UTF-16".into() });
    assert_eq!(
        e.to_string(),
        "MSH-18 (byte 24): unsupported character set \"UTF-16\" in MSH-18 (supported: ASCII, 8859/1, 8859/15, UNICODE UTF-8)"
    );
    let lenient = ParseOptions { lenient_charset: true, ..Default::default() };
    let m = Message::parse_with(input.as_bytes(), &lenient).unwrap();
    assert_eq!(m.charset(), hl7_runtime::Charset::Latin1);
}

#[test]
fn invalid_encoding() {
    let mut input = UTF8_MSH.as_bytes().to_vec();
    let pid_at = input.len();
    input.extend_from_slice(b"PID|||||Ren\xE9^X\r");
    let e = err(&input);
    assert_eq!(e.kind(), &ParseErrorKind::InvalidEncoding { charset: "UNICODE UTF-8", byte: 0xE9 });
    assert_eq!(
        e.to_string(),
        format!("PID-5.1 (byte {}): byte 0xE9 is not valid in the declared character set UNICODE UTF-8", pid_at + 11)
    );
    // ASCII (MSH-18 empty) rejects any byte above 0x7F.
    let e = err(b"MSH|^~\\&|A\rPID|||\xC3\xA9\r");
    assert_eq!(e.to_string(), "PID-3 (byte 17): byte 0xC3 is not valid in the declared character set ASCII");
    // Lenient: accepted and decoded lossily rather than rejected.
    let lenient = ParseOptions { lenient_charset: true, ..Default::default() };
    let m = Message::parse_with(&input, &lenient).unwrap();
    assert_eq!(m.get("PID-5.1").unwrap().unwrap(), "Ren\u{FFFD}");
}

#[test]
fn invalid_escape_with_full_location() {
    let mut input = UTF8_MSH.as_bytes().to_vec();
    let pid_at = input.len();
    input.extend_from_slice(b"PID|||||A^B~\\XZZ\\^C\r");
    let e = err(&input);
    assert_eq!(
        e.kind(),
        &ParseErrorKind::InvalidEscape { sequence: "\\XZZ\\".into(), reason: "non-hexadecimal digit" }
    );
    assert_eq!(e.to_string(), format!("PID-5[2].1 (byte {}): invalid escape \\XZZ\\", pid_at + 12));
    let loc = e.location();
    assert_eq!((loc.field, loc.repetition, loc.component, loc.subcomponent), (Some(5), Some(2), Some(1), None));
}

/// A report of many lines: the parser checks the sequences at the escape characters its scan
/// listed (the first 128 of a segment), then searches for the rest. A bad sequence is found and
/// located wherever it is, before the list's end, across it or past it, and a long report
/// without one parses.
#[test]
fn invalid_escape_in_a_long_report_located_wherever_it_is() {
    let report = |bad_line: Option<usize>| {
        let mut text = format!("{UTF8_MSH}OBX|1|FT|||");
        for k in 0..150 {
            text.push_str(if Some(k) == bad_line { "\\Q\\" } else { "\\.br\\" });
            text.push_str(&format!("line {k}^"));
        }
        text.push_str("|F\r");
        text
    };
    assert!(Message::parse(report(None).as_bytes()).is_ok());
    // Line k's sequence starts at escape character 2k (each takes two).
    for bad in [0, 1, 63, 64, 65, 70, 149] {
        let input = report(Some(bad));
        let e = err(input.as_bytes());
        assert_eq!(e.kind(), &ParseErrorKind::InvalidEscape { sequence: "\\Q\\".into(), reason: "unknown escape sequence" }, "line {bad}");
        let byte = input.find("\\Q\\").unwrap();
        assert_eq!(e.to_string(), format!("OBX-5.{} (byte {byte}): invalid escape \\Q\\", bad + 1), "line {bad}");
    }
}

#[test]
fn invalid_escape_kinds() {
    let cases: &[(&str, &str, &str)] = &[
        ("a\\E\\b\\", "\\", "unterminated escape sequence"),
        ("\\\\server\\share", "\\\\", "empty escape sequence"),
        ("x\\Q\\", "\\Q\\", "unknown escape sequence"),
        ("\\X\\", "\\X\\", "empty hexadecimal escape"),
        ("\\X0\\", "\\X0\\", "odd number of hexadecimal digits"),
        ("\\XC3\\", "\\XC3\\", "hexadecimal bytes are not valid in the message character set"),
        ("\\F", "\\F", "unterminated escape sequence"),
        ("\\.zz\\", "\\.zz\\", "unknown escape sequence"),
        ("\\.in\\", "\\.in\\", "unknown escape sequence"),
        ("\\C12\\", "\\C12\\", "unknown escape sequence"),
    ];
    for (text, sequence, reason) in cases {
        let input = format!("{UTF8_MSH}NTE|1||{text}\r");
        let e = err(input.as_bytes());
        assert_eq!(
            e.kind(),
            &ParseErrorKind::InvalidEscape { sequence: (*sequence).into(), reason },
            "{text}"
        );
        assert!(e.to_string().starts_with("NTE-3 (byte "), "{e}");
    }
    // Unterminated at a component boundary: the sequence stops at the separator.
    let e = err(format!("{UTF8_MSH}NTE|1||a\\S^b\r").as_bytes());
    assert_eq!(e.kind(), &ParseErrorKind::InvalidEscape { sequence: "\\S".into(), reason: "unterminated escape sequence" });
    assert_eq!(e.location().component, Some(1));
}

#[test]
fn lenient_escapes_keep_malformed_raw() {
    let input = format!("{UTF8_MSH}NTE|1||\\\\server\\share\\E\\x~a\\E\\\r");
    assert!(Message::parse(input.as_bytes()).is_err());
    let lenient = ParseOptions { lenient_escapes: true, ..Default::default() };
    let m = Message::parse_with(input.as_bytes(), &lenient).unwrap();
    let f = m.segment(1).unwrap().field(3);
    assert_eq!(f.repetition(1).unwrap().text(), "\\\\server\\share\\x");
    assert_eq!(f.repetition(2).unwrap().text(), "a\\");
    assert_eq!(m.encode(), input.as_bytes());
}

#[test]
fn error_accessors() {
    let e = err(b"MSH|^~\\&|A\rMSH|^~\\&|B\r");
    let (kind, loc) = e.clone().into_parts();
    assert_eq!(&kind, e.kind());
    assert_eq!(&loc, e.location());
    let source: &dyn std::error::Error = &e;
    assert!(source.to_string().contains("second MSH"));
}
