//! Character sets and escape sequences.

use std::borrow::Cow;

use hl7_runtime::charset::CharsetError;
use hl7_runtime::error::EncodeError;
use hl7_runtime::escape::{decode, encode_text};
use hl7_runtime::{Charset, Delimiters, Message, ParseErrorKind, ParseOptions};

fn msh(charset: &str) -> String {
    format!("MSH|^~\\&{}{charset}\r", "|".repeat(16))
}

#[test]
fn msh18_labels() {
    assert_eq!(Charset::from_msh18(b"UNICODE UTF-8"), Ok(Charset::Utf8));
    assert_eq!(Charset::from_msh18(b" 8859/15 "), Ok(Charset::Latin9));
    assert_eq!(Charset::from_msh18(b"8859/1"), Ok(Charset::Latin1));
    assert_eq!(Charset::from_msh18(b""), Ok(Charset::Ascii));
    assert_eq!(Charset::from_msh18(b"ASCII"), Ok(Charset::Ascii));
    assert_eq!(
        Charset::from_msh18(b"ISO IR100"),
        Err(CharsetError::Unsupported { label: "ISO IR100".into() })
    );
    for cs in [Charset::Ascii, Charset::Latin1, Charset::Latin9, Charset::Utf8] {
        assert_eq!(Charset::from_msh18(cs.label().as_bytes()), Ok(cs));
    }
}

#[test]
fn charset_is_read_from_first_repetition_and_component() {
    let input = format!("MSH|^~\\&{}8859/15^x~UNICODE UTF-8\r", "|".repeat(16));
    assert_eq!(Message::parse(input.as_bytes()).unwrap().charset(), Charset::Latin9);
    assert_eq!(Message::parse(b"MSH|^~\\&|A\r").unwrap().charset(), Charset::Ascii);
}

/// And from the first subcomponent: an empty trailing subcomponent (which the owned model
/// does not write again) must not turn a known label into an unknown one; the round-trip
/// property found `UNICODE UTF-8&` read as unknown (Latin-1 when lenient) by the parser, but
/// as UTF-8 once the model was encoded and parsed again.
#[test]
fn charset_is_read_from_first_subcomponent() {
    let input = format!("MSH|^~\\&{}UNICODE UTF-8&\r", "|".repeat(16));
    for options in [ParseOptions::default(), ParseOptions::lenient()] {
        let m = Message::parse_with(input.as_bytes(), &options).unwrap();
        assert_eq!(m.charset(), Charset::Utf8);
        let again = m.to_owned_buf().encode().unwrap();
        assert_eq!(Message::parse_with(&again, &options).unwrap().charset(), Charset::Utf8);
    }
}

#[test]
fn decode_each_set() {
    // é
    assert_eq!(Charset::Latin1.decode(b"\xE9").unwrap(), "é");
    assert_eq!(Charset::Latin9.decode(b"\xE9").unwrap(), "é");
    assert_eq!(Charset::Utf8.decode("é".as_bytes()).unwrap(), "é");
    // 0xA4 is ¤ in Latin-1 and € in Latin-9; 0xA6 is ¦ / Š.
    assert_eq!(Charset::Latin1.decode(b"\xA4\xA6").unwrap(), "¤¦");
    assert_eq!(Charset::Latin9.decode(b"\xA4\xA6").unwrap(), "€Š");
    // True Latin-1, not windows-1252: 0x80 is U+0080, not €.
    assert_eq!(Charset::Latin1.decode(b"\x80\x9F").unwrap(), "\u{80}\u{9F}");
    // Borrowed when nothing changes.
    assert!(matches!(Charset::Latin9.decode(b"abc").unwrap(), Cow::Borrowed("abc")));
    assert!(matches!(Charset::Utf8.decode("é".as_bytes()).unwrap(), Cow::Borrowed(_)));
    assert!(matches!(Charset::Latin1.decode(b"\xE9").unwrap(), Cow::Owned(_)));
    // Invalid bytes.
    assert_eq!(
        Charset::Ascii.decode(b"ab\xE9").unwrap_err(),
        CharsetError::InvalidByte { byte: 0xE9, offset: 2, charset: "ASCII" }
    );
    assert_eq!(
        Charset::Utf8.decode(b"a\xC3(").unwrap_err(),
        CharsetError::InvalidByte { byte: 0xC3, offset: 1, charset: "UNICODE UTF-8" }
    );
}

#[test]
fn encode_never_substitutes() {
    assert_eq!(Charset::Latin1.encode("é").unwrap().as_ref(), b"\xE9");
    assert_eq!(Charset::Latin9.encode("é€Š").unwrap().as_ref(), b"\xE9\xA4\xA6");
    assert_eq!(Charset::Latin1.encode("¤").unwrap().as_ref(), b"\xA4");
    assert_eq!(Charset::Utf8.encode("€").unwrap().as_ref(), "€".as_bytes());
    assert!(matches!(Charset::Ascii.encode("plain").unwrap(), Cow::Borrowed(b"plain")));
    // Š is in 8859-15 only, ¤ in 8859-1 only.
    let e = Charset::Latin1.encode("abŠ").unwrap_err();
    assert_eq!(e, CharsetError::Unrepresentable { ch: 'Š', index: 2, charset: "8859/1" });
    assert_eq!(e.to_string(), "character 'Š' (U+0160) at char index 2 cannot be represented in 8859/1");
    assert_eq!(
        Charset::Latin9.encode("é€¤").unwrap_err(),
        CharsetError::Unrepresentable { ch: '¤', index: 2, charset: "8859/15" }
    );
    assert_eq!(
        Charset::Latin9.encode("€uro ✓").unwrap_err(),
        CharsetError::Unrepresentable { ch: '✓', index: 5, charset: "8859/15" }
    );
    assert_eq!(
        Charset::Ascii.encode("Amélie").unwrap_err(),
        CharsetError::Unrepresentable { ch: 'é', index: 2, charset: "ASCII" }
    );
    // Round trip of every Latin-9 byte.
    let all: Vec<u8> = (0x20..=0xFF).filter(|&b| b != 0x7F).collect();
    for cs in [Charset::Latin1, Charset::Latin9] {
        let text = cs.decode(&all).unwrap();
        assert_eq!(cs.encode(&text).unwrap().as_ref(), &all[..], "{cs}");
    }
}

#[test]
fn latin9_message_round_trip() {
    let mut input = msh("8859/15").into_bytes();
    input.extend_from_slice(b"PID|||||Ren\xE9^\xA4uro^\xA6\r");
    let m = Message::parse(&input).unwrap();
    assert_eq!(m.charset(), Charset::Latin9);
    assert_eq!(m.get("PID-5.1").unwrap().unwrap(), "René");
    assert_eq!(m.get("PID-5.2").unwrap().unwrap(), "€uro");
    assert_eq!(m.get("PID-5.3").unwrap().unwrap(), "Š");
    assert_eq!(m.encode(), input);
    let rebuilt = m.to_owned_buf().encode().unwrap();
    assert_eq!(rebuilt, input);
}

#[test]
fn every_escape_kind_decodes() {
    let input = format!(
        "{}NTE|1||\\F\\|\\S\\|\\T\\|\\R\\|\\E\\|\\X41\\|\\X0D0A\\|\\XC3A9\\|end\\E\\\r",
        msh("UNICODE UTF-8")
    );
    let m = Message::parse(input.as_bytes()).unwrap();
    let seg = m.segment(1).unwrap();
    let texts: Vec<String> = (3..=12).map(|n| seg.field(n).text().into_owned()).collect();
    assert_eq!(texts, ["|", "^", "&", "~", "\\", "A", "\r\n", "é", "end\\", ""]);
    // A decoded delimiter is text: it does not split the element.
    assert_eq!(seg.field(4).first().component_count(), 1);
}

#[test]
fn hex_escape_is_bytes_in_the_message_charset() {
    for cs in ["8859/1", "8859/15"] {
        let input = format!("{}NTE|1||caf\\XE9\\\r", msh(cs));
        let m = Message::parse(input.as_bytes()).unwrap();
        assert_eq!(m.get("NTE-3").unwrap().unwrap(), "café", "{cs}");
    }
    let input = format!("{}NTE|1||caf\\XE9\\\r", msh("UNICODE UTF-8"));
    let e = Message::parse(input.as_bytes()).unwrap_err();
    assert!(matches!(e.kind(), ParseErrorKind::InvalidEscape { sequence, .. } if sequence == "\\XE9\\"));
    assert_eq!(e.location().to_string(), format!("NTE-3 (byte {})", msh("UNICODE UTF-8").len() + 10));
    let input = format!("{}NTE|1||caf\\XC3A9\\\r", msh("UNICODE UTF-8"));
    assert_eq!(Message::parse(input.as_bytes()).unwrap().get("NTE-3").unwrap().unwrap(), "café");
    // ASCII: only 00-7F.
    assert!(Message::parse(b"MSH|^~\\&|A\rNTE|1||\\XE9\\\r").is_err());
    assert!(Message::parse(b"MSH|^~\\&|A\rNTE|1||\\X7E\\\r").is_ok());
}

#[test]
fn formatting_commands_are_kept_verbatim() {
    let commands = [
        ".br", ".sp", ".sp5", ".sp 2", ".in+4", ".in-2", ".in 3", ".ti-4", ".ti+2", ".sk", ".sk3", ".ce", ".fi",
        ".nf", "H", "N", "C2842", "M2442", "M244241", "Zlocal",
    ];
    let d = Delimiters::STANDARD;
    for cmd in commands {
        let raw = format!("a\\{cmd}\\b");
        let input = format!("{}NTE|1||{raw}\r", msh("UNICODE UTF-8"));
        let m = Message::parse(input.as_bytes()).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        let text = m.get("NTE-3").unwrap().unwrap();
        assert_eq!(text, raw, "{cmd} kept");
        assert_eq!(encode_text(&text, &d, Charset::Utf8).unwrap(), raw.as_bytes(), "{cmd} re-encoded");
    }
}

#[test]
fn decode_function_directly() {
    let d = Delimiters::STANDARD;
    assert!(matches!(decode(b"plain", &d, Charset::Utf8), Cow::Borrowed("plain")));
    assert_eq!(decode(b"a\\S\\b", &d, Charset::Utf8), "a^b");
    // Malformed sequences stay raw (classic crashers).
    assert_eq!(decode(b"\\E\\", &d, Charset::Utf8), "\\");
    assert_eq!(decode(b"\\\\", &d, Charset::Utf8), "\\\\");
    assert_eq!(decode(b"\\\\server\\share", &d, Charset::Utf8), "\\\\server\\share");
    assert_eq!(decode(b"\\", &d, Charset::Utf8), "\\");
    assert_eq!(decode(b"x\\X\\y", &d, Charset::Utf8), "x\\X\\y");
    assert_eq!(decode(b"x\\XC3\\", &d, Charset::Utf8), "x\\XC3\\");
    // No escape character: nothing is an escape.
    let no_esc = Delimiters { escape: None, subcomponent: None, ..d };
    assert_eq!(decode(b"a\\S\\b", &no_esc, Charset::Utf8), "a\\S\\b");
}

#[test]
fn encode_text_escapes_and_converts() {
    let d = Delimiters::STANDARD;
    assert_eq!(
        encode_text("a|b^c&d~e\\f", &d, Charset::Ascii).unwrap(),
        b"a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f"
    );
    assert_eq!(encode_text("l1\r\nl2\tx", &d, Charset::Ascii).unwrap(), b"l1\\X0D0A\\l2\tx");
    assert_eq!(encode_text("René €", &d, Charset::Latin9).unwrap(), b"Ren\xE9 \xA4");
    assert_eq!(encode_text("\\\\server\\share", &d, Charset::Ascii).unwrap(), b"\\E\\\\E\\server\\E\\share");
    assert_eq!(encode_text("x\\", &d, Charset::Ascii).unwrap(), b"x\\E\\");
    assert_eq!(
        encode_text("a|€", &d, Charset::Latin1).unwrap_err(),
        EncodeError::Charset(CharsetError::Unrepresentable { ch: '€', index: 2, charset: "8859/1" })
    );
    let no_esc = Delimiters { escape: None, subcomponent: None, ..d };
    assert_eq!(encode_text("a&b", &no_esc, Charset::Ascii).unwrap(), b"a&b");
    assert_eq!(
        encode_text("a^b", &no_esc, Charset::Ascii).unwrap_err(),
        EncodeError::Unescapable { ch: '^', index: 1 }
    );
    // decode(encode(x)) == x for awkward text.
    for text in ["", "\\", "\\\\", "\\E\\", "a\\F\\b", "|^~&\\", "\\X41\\", "x\r\ny", "\\.br\\", "\\.xx\\", "é€"] {
        let enc = encode_text(text, &d, Charset::Utf8).unwrap();
        assert_eq!(decode(&enc, &d, Charset::Utf8), text, "{text:?} -> {:?}", String::from_utf8_lossy(&enc));
    }
}

/// With `/` as the repetition separator, `8859/15` in MSH-18 is written escaped: the label is
/// read after unescaping (found by the owned-model round-trip property).
#[test]
fn msh18_label_is_unescaped_before_it_is_read() {
    let bytes = b"MSH|^/\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1|||||FRA|8859\\R\\15\rPID|||1||D\xe9\r";
    let m = hl7_runtime::Message::parse(bytes).expect("parses");
    assert_eq!(m.charset(), hl7_runtime::Charset::Latin9);
    assert_eq!(m.segment(1).unwrap().field(5).text(), "Dé");
}

/// Issue 15, item 8: a Windows-1252 file labelled 8859/15 (`CŒUR`, Œ = 0x8C in Windows-1252,
/// a C1 control code in ISO 8859) does not parse, in lenient mode either; the error is at the
/// field, with its segment's occurrence (PID[1]-5), and names Windows-1252.
#[test]
fn c1_bytes_in_an_iso_8859_message_are_a_located_error() {
    for label in ["8859/15", "8859/1"] {
        let mut input = msh(label).into_bytes();
        input.extend_from_slice(b"PID|1\rPID|||||C\x8CUR^CAMILLE\r");
        for options in [ParseOptions::default(), ParseOptions::lenient()] {
            let e = Message::parse_with(&input, &options).unwrap_err();
            assert_eq!(e.kind(), &ParseErrorKind::InvalidEncoding { charset: if label == "8859/1" { "8859/1" } else { "8859/15" }, byte: 0x8C });
            assert_eq!((e.location().segment_id_str(), e.location().field, e.location().component), (Some("PID"), Some(5), None));
            assert_eq!(e.segment_sequence(), Some(2), "the second PID");
            let text = e.to_string();
            assert!(text.contains("probably Windows-1252 (where 0x8C is `Œ`)"), "{text}");
            let finding = hl7_runtime::validate::parse_error_finding(&e);
            assert_eq!(finding.location.to_string(), "PID[2]-5");
        }
    }
    // Bytes 0xA0–0xFF stay valid, and a C1 byte is fine where the label allows any byte.
    let mut ok = msh("8859/15").into_bytes();
    ok.extend_from_slice(b"PID|||||C\xBCUR\r");
    assert_eq!(Message::parse(&ok).unwrap().get("PID-5").unwrap().unwrap(), "CŒUR");
    let mut utf8 = msh("UNICODE UTF-8").into_bytes();
    utf8.extend_from_slice("PID|||||C\u{8C}UR\r".as_bytes());
    assert!(Message::parse(&utf8).is_ok());
}

/// The fallback, when asked: read as Windows-1252, shown as such, and written back the same.
#[test]
fn windows_1252_fallback_when_asked() {
    let mut input = msh("8859/15").into_bytes();
    input.extend_from_slice(b"PID|||||C\x8CUR^\x80uro^Ren\xE9\r");
    for base in [ParseOptions::default(), ParseOptions::lenient()] {
        let options = ParseOptions { windows_1252_fallback: true, ..base };
        let m = Message::parse_with(&input, &options).unwrap();
        assert_eq!(m.charset(), Charset::Windows1252);
        assert_eq!(m.get("PID-5.1").unwrap().unwrap(), "CŒUR");
        assert_eq!(m.get("PID-5.2").unwrap().unwrap(), "€uro");
        assert_eq!(m.get("PID-5.3").unwrap().unwrap(), "René");
        assert_eq!(m.to_owned_buf().encode().unwrap(), input, "written back in the set it was read in");
        let notice = hl7_runtime::charset::windows_1252_notice(&m).expect("a warning");
        assert_eq!((notice.severity, notice.location.to_string()), (hl7_runtime::validate::Severity::Warning, "MSH[1]-18".to_owned()));
    }
    // Without C1 bytes the fallback changes nothing.
    let mut plain = msh("8859/15").into_bytes();
    plain.extend_from_slice(b"PID|||||C\xBCUR\r");
    let m = Message::parse_with(&plain, &ParseOptions { windows_1252_fallback: true, ..ParseOptions::default() }).unwrap();
    assert_eq!(m.charset(), Charset::Latin9);
    assert!(hl7_runtime::charset::windows_1252_notice(&m).is_none());
}

/// The writer never produces what the parser refuses: a C1 control character in an ISO 8859
/// message is written as a hexadecimal escape, and reads back the same.
#[test]
fn c1_characters_are_escaped_in_iso_8859() {
    let d = Delimiters::default();
    for cs in [Charset::Latin1, Charset::Latin9] {
        assert_eq!(encode_text("a\u{8C}b\u{9F}", &d, cs).unwrap(), b"a\\X8C\\b\\X9F\\");
        let mut input = msh(cs.label()).into_bytes();
        input.extend_from_slice(b"PID|||||a\\X8C\\b\r");
        let m = Message::parse(&input).unwrap();
        assert_eq!(m.get("PID-5").unwrap().unwrap(), "a\u{8C}b");
    }
}
