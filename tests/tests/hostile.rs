//! The hostile corpus (`tests/hostile/`, described in its README): inputs that are empty,
//! binary, truncated at every structural point, wrongly terminated, wrongly escaped, wrongly
//! encoded, with broken delimiters or segment ids, or well-formed but outside the guide. Each has
//! one exact outcome: the parse error kind and its location, or the finding the validator must
//! report; and for every case the ACK's MSA-1 and its first ERR-2/ERR-3. Parsable inputs must
//! re-encode byte for byte. The huge inputs are built here at run time rather than committed.

use hl7_runtime::validate::{Finding, Severity};
use hl7_runtime::{Limits, Message, ParseErrorKind as K, ParseOptions};

#[derive(Clone, Copy, Debug)]
enum Mode {
    Strict,
    Lenient,
    Both,
}
use Mode::*;

enum Outcome {
    /// Parsing fails with this kind at this location (`Location` display).
    Parse(K, &'static str),
    /// Parses; the validator reports an error with this code, ERL and rule prefix.
    Finding(u16, &'static str, &'static str),
    /// Parses and validates without any error.
    Valid,
}

/// What the ACK must say: MSA-1, and the first ERR's ERR-2 and ERR-3 ("" when no ERR).
struct Ack(&'static str, &'static str, &'static str);

struct Case {
    file: &'static str,
    mode: Mode,
    outcome: Outcome,
    ack: Ack,
}

fn esc(sequence: &str, reason: &'static str) -> K {
    K::InvalidEscape { sequence: sequence.to_owned(), reason }
}
fn seg_id(id: &str) -> K {
    K::InvalidSegmentId { id: id.to_owned() }
}
fn enc(charset: &'static str, byte: u8) -> K {
    K::InvalidEncoding { charset, byte }
}
fn delims(reason: &'static str) -> K {
    K::InvalidDelimiters { reason }
}

const SEQ: &str = "100^Segment sequence error^HL70357";
const DATA: &str = "102^Data type error^HL70357";
const TABLE: &str = "103^Table value not found^HL70357";
const TYPE: &str = "200^Unsupported message type^HL70357";
const EVENT: &str = "201^Unsupported event code^HL70357";
const REQ: &str = "101^Required field missing^HL70357";
const APP: &str = "207^Application internal error^HL70357";

fn c(file: &'static str, mode: Mode, outcome: Outcome, ack: Ack) -> Case {
    Case { file, mode, outcome, ack }
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Outcome::*;
    let not_hl7 = || Parse(K::NotHl7, "segment 1 (byte 0)");
    let ae_seq = || Ack("AE", "", SEQ);
    let obr13 = |k: K| Parse(k, "OBR-13 (byte 906)");
    let obr13_err = || Ack("AE", "OBR^^13", DATA);
    let aa = || Ack("AA", "", "");
    vec![
        // Empty and binary.
        c("empty.hl7", Both, Parse(K::Empty, "segment 1 (byte 0)"), ae_seq()),
        c("png_header.hl7", Both, not_hl7(), ae_seq()),
        c("zip_header.hl7", Both, not_hl7(), ae_seq()),
        c("pdf_header.hl7", Both, not_hl7(), ae_seq()),
        c("nul_bytes.hl7", Both, not_hl7(), ae_seq()),
        c("json_text.hl7", Both, not_hl7(), ae_seq()),
        c("utf8_bom.hl7", Both, not_hl7(), ae_seq()),
        c("whitespace_only.hl7", Both, not_hl7(), ae_seq()),
        c("cr_only.hl7", Both, not_hl7(), ae_seq()),
        c("nul_in_field.hl7", Both, Parse(K::ControlCharacter { byte: 0x00 }, "PID-5.1 (byte 218)"), Ack("AE", "PID^^5^^1", DATA)),
        c("control_char_soh.hl7", Both, Parse(K::ControlCharacter { byte: 0x01 }, "PID-5.1 (byte 218)"), Ack("AE", "PID^^5^^1", DATA)),
        c("control_char_esc.hl7", Both, Parse(K::ControlCharacter { byte: 0x1B }, "PID-5.1 (byte 218)"), Ack("AE", "PID^^5^^1", DATA)),
        c("tab_in_field.hl7", Both, Valid, aa()),
        c("del_char.hl7", Both, Valid, aa()),
        // Truncated at each structural point of flux1_nw_minimal.hl7.
        c("trunc_msh.hl7", Both, Parse(K::TruncatedHeader, "MSH (byte 0)"), Ack("AE", "MSH^1", SEQ)),
        c("trunc_msh_bar.hl7", Both, Parse(K::TruncatedHeader, "MSH (byte 0)"), Ack("AE", "MSH^1", SEQ)),
        c("trunc_in_msh2.hl7", Both, Parse(K::TruncatedHeader, "MSH (byte 0)"), Ack("AE", "MSH^1", SEQ)),
        c("trunc_after_msh2.hl7", Both, Finding(200, "MSH[1]-9.1", "profile"), Ack("AE", "MSH^1^9^^1", TYPE)),
        c("trunc_after_field_sep.hl7", Both, Finding(200, "MSH[1]-9.1", "profile"), Ack("AE", "MSH^1^9^^1", TYPE)),
        c("trunc_in_msh9.hl7", Both, Finding(201, "MSH[1]-9.2", "profile"), Ack("AE", "MSH^1^9^^2", EVENT)),
        c("trunc_in_segment_id.hl7", Both, Parse(seg_id("PI"), "segment 2 (byte 142)"), ae_seq()),
        c("trunc_in_component.hl7", Both, Finding(101, "PID[1]-32", "usage"), Ack("AE", "MSH^1", SEQ)),
        c("trunc_after_pid.hl7", Both, Finding(100, "PID[1]", "structure"), Ack("AE", "MSH^1", SEQ)),
        c("trunc_in_escape.hl7", Strict, obr13(esc("\\X4", "unterminated escape sequence")), obr13_err()),
        c("trunc_in_escape.hl7", Lenient, Finding(100, "OBR[1]", "structure"), Ack("AE", "OBR^1", SEQ)),
        c("trunc_mid_utf8.hl7", Strict, Parse(enc("UNICODE UTF-8", 0xC3), "OBR-13 (byte 921)"), obr13_err()),
        c("trunc_mid_utf8.hl7", Lenient, Finding(100, "OBR[1]", "structure"), Ack("AE", "OBR^1", SEQ)),
        // Segments and terminators.
        c("duplicate_msh.hl7", Both, Parse(K::DuplicateMsh, "MSH (byte 1350)"), Ack("AE", "MSH^1", SEQ)),
        c("lf_terminators.hl7", Strict, Parse(K::UnexpectedLineFeed, "MSH (byte 141)"), Ack("AE", "MSH^1", SEQ)),
        c("lf_terminators.hl7", Lenient, Valid, aa()),
        c("crlf_terminators.hl7", Strict, Parse(K::UnexpectedLineFeed, "MSH (byte 142)"), Ack("AE", "MSH^1", SEQ)),
        c("crlf_terminators.hl7", Lenient, Valid, aa()),
        c("trailing_lf.hl7", Strict, Parse(K::UnexpectedLineFeed, "OBX (byte 1350)"), Ack("AE", "OBX", SEQ)),
        c("trailing_lf.hl7", Lenient, Valid, aa()),
        c("empty_line.hl7", Strict, Parse(K::EmptySegment, "segment 3 (byte 343)"), ae_seq()),
        c("empty_line.hl7", Lenient, Valid, aa()),
        c("lowercase_segment_id.hl7", Both, Parse(seg_id("pv1"), "segment 3 (byte 343)"), ae_seq()),
        c("segment_id_2_chars.hl7", Both, Parse(seg_id("PV"), "segment 3 (byte 343)"), ae_seq()),
        c("segment_id_4_chars.hl7", Both, Parse(seg_id("PV11"), "segment 3 (byte 343)"), ae_seq()),
        c("segment_id_digit_first.hl7", Both, Parse(seg_id("1V1"), "segment 3 (byte 343)"), ae_seq()),
        c("first_segment_pid.hl7", Both, Parse(K::MissingMsh { found: "PID".into() }, "PID (byte 0)"), Ack("AE", "PID", SEQ)),
        c("batch_header_fhs.hl7", Both, Parse(K::MissingMsh { found: "FHS".into() }, "FHS (byte 0)"), Ack("AE", "FHS", SEQ)),
        c("msh_only.hl7", Both, Finding(100, "MSH[1]", "structure"), Ack("AE", "MSH^1", APP)),
        c("garbage_after_header.hl7", Both, Parse(seg_id("Hello, this is n"), "segment 2 (byte 142)"), ae_seq()),
        c("binary_after_header.hl7", Strict, Parse(K::UnexpectedLineFeed, "segment 2 (byte 147)"), ae_seq()),
        c("binary_after_header.hl7", Lenient, Parse(seg_id("\u{FFFD}PNG"), "segment 2 (byte 142)"), ae_seq()),
        c("field_sep_run.hl7", Both, Finding(200, "MSH[1]-9.1", "profile"), Ack("AE", "MSH^1^9^^1", TYPE)),
        // Escapes: strict rejects, lenient keeps the sequence raw.
        c("esc_xzz.hl7", Strict, obr13(esc("\\XZZ\\", "non-hexadecimal digit")), obr13_err()),
        c("esc_xzz.hl7", Lenient, Valid, aa()),
        c("esc_x_empty.hl7", Strict, obr13(esc("\\X\\", "empty hexadecimal escape")), obr13_err()),
        c("esc_x_empty.hl7", Lenient, Valid, aa()),
        c("esc_x_odd.hl7", Strict, obr13(esc("\\X414\\", "odd number of hexadecimal digits")), obr13_err()),
        c("esc_x_odd.hl7", Lenient, Valid, aa()),
        c("esc_unterminated_f.hl7", Strict, obr13(esc("\\F", "unterminated escape sequence")), obr13_err()),
        c("esc_unterminated_f.hl7", Lenient, Valid, aa()),
        c("esc_unknown_q.hl7", Strict, obr13(esc("\\Q\\", "unknown escape sequence")), obr13_err()),
        c("esc_unknown_q.hl7", Lenient, Valid, aa()),
        c("esc_unc_path.hl7", Strict, Parse(esc("\\\\", "empty escape sequence"), "OBR-13 (byte 898)"), obr13_err()),
        c("esc_unc_path.hl7", Lenient, Valid, aa()),
        c("esc_e_at_end.hl7", Both, Valid, aa()),
        c("esc_valid_all.hl7", Both, Valid, aa()),
        // Character sets.
        c("utf8_latin1_byte.hl7", Strict, Parse(enc("UNICODE UTF-8", 0xEB), "OBR-13 (byte 921)"), obr13_err()),
        c("utf8_latin1_byte.hl7", Lenient, Valid, aa()),
        c("utf8_surrogate.hl7", Strict, Parse(enc("UNICODE UTF-8", 0xED), "OBR-13 (byte 921)"), obr13_err()),
        c("utf8_surrogate.hl7", Lenient, Valid, aa()),
        c("utf8_overlong.hl7", Strict, Parse(enc("UNICODE UTF-8", 0xC0), "OBR-13 (byte 921)"), obr13_err()),
        c("utf8_overlong.hl7", Lenient, Valid, aa()),
        c("ascii_high_byte.hl7", Strict, Parse(enc("ASCII", 0xFB), "OBR-13 (byte 892)"), obr13_err()),
        c("ascii_high_byte.hl7", Lenient, Finding(103, "MSH[1]-18", "values"), Ack("AE", "MSH^1^18", TABLE)),
        c("utf8_no_charset.hl7", Strict, Parse(enc("ASCII", 0xC3), "OBR-13 (byte 908)"), obr13_err()),
        c("utf8_no_charset.hl7", Lenient, Finding(101, "MSH[1]-18", "usage"), Ack("AE", "MSH^1^18", REQ)),
        c("unknown_charset.hl7", Strict, Parse(K::UnsupportedCharset { value: "KOI8-R".into() }, "MSH-18 (byte 105)"), Ack("AE", "MSH^1^18", DATA)),
        c("unknown_charset.hl7", Lenient, Finding(103, "MSH[1]-18", "values"), Ack("AE", "MSH^1^18", TABLE)),
        c("latin9_euro.hl7", Both, Valid, aa()),
        c("latin1_currency.hl7", Both, Finding(103, "MSH[1]-18", "values"), Ack("AE", "MSH^1^18", TABLE)),
        // Delimiters.
        c("delim_collide.hl7", Both, Parse(delims("delimiters must be distinct"), "MSH-2 (byte 4)"), Ack("AE", "MSH^1^2", SEQ)),
        c("delim_field_sep_alnum.hl7", Both, Parse(delims("delimiters must not be letters or digits"), "MSH-1 (byte 3)"), Ack("AE", "MSH^1^1", SEQ)),
        c("delim_component_alnum.hl7", Both, Parse(delims("delimiters must not be letters or digits"), "MSH-2 (byte 4)"), Ack("AE", "MSH^1^2", SEQ)),
        c("delim_component_is_field_sep.hl7", Both, Parse(delims("MSH-2 must hold 3 to 5 encoding characters"), "MSH-2 (byte 4)"), Ack("AE", "MSH^1^2", SEQ)),
        c("delim_two_chars.hl7", Both, Parse(delims("MSH-2 must hold 3 to 5 encoding characters"), "MSH-2 (byte 4)"), Ack("AE", "MSH^1^2", SEQ)),
        c("delim_space.hl7", Both, Parse(delims("delimiters must be printable ASCII characters"), "MSH-2 (byte 4)"), Ack("AE", "MSH^1^2", SEQ)),
        c("delim_field_sep_cr.hl7", Both, Parse(K::TruncatedHeader, "MSH (byte 0)"), Ack("AE", "MSH^1", SEQ)),
        c("delim_five_chars.hl7", Both, Finding(103, "MSH[1]-2", "fixed"), Ack("AE", "MSH^1^2", TABLE)),
        c("delim_nonstandard.hl7", Both, Finding(103, "MSH[1]-1", "fixed"), Ack("AE", "MSH^1^1", TABLE)),
        // Well-formed but outside the guide.
        c("ed_base64_bad_padding.hl7", Both, Finding(102, "OBX[1]-5.5", "ED-BASE64"), Ack("AE", "OBX^1^5^^5", DATA)),
        c("ed_base64_extra_padding.hl7", Both, Finding(102, "OBX[1]-5.5", "ED-BASE64"), Ack("AE", "OBX^1^5^^5", DATA)),
        c("orc1_no_flow.hl7", Both, Finding(201, "ORC[1]-1", "profile"), Ack("AE", "ORC^1^1", EVENT)),
        c("unknown_message_type.hl7", Both, Finding(200, "MSH[1]-9.1", "profile"), Ack("AE", "MSH^1^9^^1", TYPE)),
        c("msh9_empty.hl7", Both, Finding(200, "MSH[1]-9.1", "profile"), Ack("AE", "MSH^1^9^^1", TYPE)),
    ]
}

fn hostile(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hostile").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn ack_for(bytes: &[u8], checked: &telerad::Checked<'_>) -> String {
    let clock = || "20260106134419".to_owned();
    let id = || "ACK1".to_owned();
    let opts = hl7_runtime::ack::AckOptions { receiver: hl7_runtime::ack::Identity::default(), clock: &clock, next_id: &id };
    let inbound = checked.message.as_ref().map(|m| &m.placed().message);
    let ack = hl7_runtime::ack::build(inbound, bytes, &checked.findings, hl7_runtime::ack::Decision::Accept, &opts).expect("an ACK");
    String::from_utf8(ack).expect("a UTF-8 ACK")
}

fn list(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("  {:?} {} {} {}: {}\n", f.severity, f.code, f.location, f.rule, f.message)).collect()
}

/// Runs one case in one mode; returns a description of the mismatch, if any.
fn run(case: &Case, options: &ParseOptions, label: &str) -> Option<String> {
    let bytes = hostile(case.file);
    let who = format!("{} ({label})", case.file);
    let parsed = Message::parse_with(&bytes, options);
    let checked = telerad::check(&bytes, options, None).expect("no usage error");
    let errors: Vec<Finding> = checked.findings.iter().filter(|f| f.severity == Severity::Error).cloned().collect();
    match (&case.outcome, &parsed) {
        (Outcome::Parse(kind, at), Err(e)) => {
            if e.kind() != kind || e.location().to_string() != *at {
                return Some(format!("{who}: expected {kind:?} at {at}, got {:?} at {}", e.kind(), e.location()));
            }
            if checked.findings.len() != 1 || checked.findings[0].rule != "parse" {
                return Some(format!("{who}: expected one parse finding, got\n{}", list(&checked.findings)));
            }
        }
        (Outcome::Parse(kind, at), Ok(_)) => return Some(format!("{who}: expected {kind:?} at {at}, it parsed")),
        (_, Err(e)) => return Some(format!("{who}: expected to parse, got {e}")),
        (outcome, Ok(m)) => {
            if m.encode() != bytes {
                return Some(format!("{who}: encode() does not return the input bytes"));
            }
            match outcome {
                Outcome::Valid if !errors.is_empty() => return Some(format!("{who}: expected no error, got\n{}", list(&errors))),
                Outcome::Finding(code, at, rule)
                    if !errors.iter().any(|f| f.code == *code && f.location.to_string() == *at && f.rule.starts_with(rule)) =>
                {
                    return Some(format!("{who}: expected error {code} at {at} ({rule}), got\n{}", list(&checked.findings)));
                }
                _ => {}
            }
        }
    }
    let ack = ack_for(&bytes, &checked);
    let segs: Vec<&str> = ack.split_terminator('\r').collect();
    let msa1 = segs.get(1).and_then(|s| s.split('|').nth(1)).unwrap_or("");
    let err = segs.iter().find(|s| s.starts_with("ERR|")).map(|s| s.split('|').collect::<Vec<_>>());
    let (err2, err3) = err.as_ref().map_or(("", ""), |f| (f.get(2).copied().unwrap_or(""), f.get(3).copied().unwrap_or("")));
    let Ack(want1, want2, want3) = &case.ack;
    if (msa1, err2, err3) != (*want1, *want2, *want3) {
        return Some(format!("{who}: expected ACK MSA-1 {want1}, ERR-2 {want2:?}, ERR-3 {want3:?}; got\n{}", ack.replace('\r', "\n")));
    }
    None
}

#[test]
fn every_hostile_input_gets_its_exact_outcome() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        if matches!(case.mode, Strict | Both) {
            failures.extend(run(case, &ParseOptions::default(), "strict"));
        }
        if matches!(case.mode, Lenient | Both) {
            failures.extend(run(case, &ParseOptions::lenient(), "lenient"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Every file of the folder has at least one row, and the README lists every file.
#[test]
fn the_table_and_the_readme_cover_every_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hostile");
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("tests/hostile/README.md");
    let cases = cases();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".hl7") {
            continue;
        }
        files += 1;
        assert!(cases.iter().any(|c| c.file == name), "{name} has no expected outcome");
        assert!(readme.contains(&format!("`{name}`")), "{name} is not in the README");
    }
    assert!(files >= 60, "{files} files");
}

/// Decoded values that show what the lenient modes and the character sets actually did.
#[test]
fn decoded_values() {
    let get = |file: &str, options: ParseOptions| {
        let bytes = hostile(file);
        let m = Message::parse_with(&bytes, &options).unwrap();
        m.get("OBR-13").unwrap().unwrap().into_owned()
    };
    let strict = ParseOptions::default();
    let lenient = ParseOptions::lenient();
    // 0xA4 is the euro sign in 8859/15 and the currency sign in 8859/1.
    assert_eq!(get("latin9_euro.hl7", strict), "Coût 30€");
    assert_eq!(get("latin1_currency.hl7", strict), "Coût 30¤");
    assert_eq!(get("esc_e_at_end.hl7", strict), "Douleur \\");
    assert_eq!(get("esc_valid_all.hl7", strict), "a|b^c&d~e\\fA");
    // Lenient escapes stay raw, lenient charsets decode lossily.
    assert_eq!(get("esc_unc_path.hl7", lenient), "\\\\server\\share");
    assert_eq!(get("esc_xzz.hl7", lenient), "Douleur \\XZZ\\ aigue");
    assert_eq!(get("utf8_latin1_byte.hl7", lenient), "Douleur abdominale aigu\u{FFFD} fébrile, suspicion de sigmoïdite");
}

fn minimal() -> String {
    String::from_utf8(telerad_tests::fixture("flux1_nw_minimal.hl7")).unwrap()
}

const PID3: &str = "288056912304561^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS";

fn with_pid3_repetitions(n: usize) -> String {
    let reps: Vec<String> = (0..n).map(|i| format!("{i}^^^X&1.2.3&ISO^PI")).collect();
    minimal().replacen(PID3, &reps.join("~"), 1)
}

/// 10,000 repetitions of PID-3 (the default limit) parse, re-encode and validate (linearly:
/// `linearity.rs` counts the work); one more is a located error.
#[test]
fn deep_repetition() {
    let text = with_pid3_repetitions(10_000);
    let m = Message::parse(text.as_bytes()).unwrap();
    assert_eq!(m.get("PID-3[10000].1").unwrap().as_deref(), Some("9999"));
    assert_eq!(m.get("PID-3[10001].1").unwrap(), None);
    assert_eq!(m.encode(), text.as_bytes());
    let over = with_pid3_repetitions(10_001);
    let e = Message::parse(over.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), &K::TooManyRepetitions { limit: 10_000 });
    assert_eq!(e.location().repetition, Some(10_001));
    assert!(e.location().to_string().starts_with("PID-3[10001] (byte "), "{e}");
    let checked = telerad::check(text.as_bytes(), &ParseOptions::default(), None).unwrap();
    assert!(checked.is_valid(), "{}", list(&checked.findings));
    let ack = ack_for(text.as_bytes(), &checked);
    assert!(ack.split('\r').nth(1).unwrap().starts_with("MSA|AA|"), "{ack}");
}

/// A 10 MiB OBR-13.
#[test]
fn ten_megabyte_field() {
    let info = "Douleur abdominale aiguë fébrile, suspicion de sigmoïdite";
    let text = minimal().replacen(info, &"A".repeat(10 << 20), 1);
    let m = Message::parse(text.as_bytes()).unwrap();
    assert_eq!(m.get("OBR-13").unwrap().unwrap().len(), 10 << 20);
    assert_eq!(m.encode(), text.as_bytes());
    let checked = telerad::check(text.as_bytes(), &ParseOptions::default(), None).unwrap();
    assert!(checked.is_valid(), "{}", list(&checked.findings));
    let w = checked.findings.iter().find(|f| f.rule == "base-length" && f.location.to_string() == "OBR[1]-13");
    assert!(w.is_some_and(|w| w.severity == Severity::Warning), "{}", list(&checked.findings));
}

/// A million NTE segments after a valid flow-1 message. Past the default limit of 100,000
/// segments it is a located error; with the segment limit lifted it parses, and since the guide
/// allows `[{NTE}]` after each OBX without bound, they are notes of the last OBSERVATION and
/// the message stays valid.
#[test]
fn a_million_segments() {
    let mut bytes = minimal().into_bytes();
    for _ in 0..1_000_000 {
        bytes.extend_from_slice(b"NTE|1||x\r");
    }
    let e = Message::parse(&bytes).unwrap_err();
    assert_eq!(e.kind(), &K::TooManySegments { limit: 100_000 });
    assert_eq!(e.location().segment_index, 100_000);
    assert_eq!(e.location().segment_id_str(), Some("NTE"));
    // About ten validation steps per segment: lift that bound too.
    let options = ParseOptions::default().with_limits(Limits { max_segments: usize::MAX, max_validation_steps: 100_000_000, ..Limits::DEFAULT });
    let m = Message::parse_with(&bytes, &options).unwrap();
    assert_eq!(m.segment_count(), 1_000_007);
    assert_eq!(m.encode(), bytes);
    let checked = telerad::check(&bytes, &options, None).unwrap();
    assert!(checked.is_valid(), "{}", list(&checked.findings[..checked.findings.len().min(10)]));
    let ack = ack_for(&bytes, &checked);
    assert!(ack.split('\r').nth(1).unwrap().starts_with("MSA|AA|"), "{ack}");
}

/// 10,000 PID segments after a valid flow-1 message: nowhere to place them.
#[test]
fn ten_thousand_unexpected_segments() {
    let mut bytes = minimal().into_bytes();
    for _ in 0..10_000 {
        bytes.extend_from_slice(b"PID|||1^^^X&1.2.3&ISO^PI||DOE^JOHN^^^^^L\r");
    }
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.segment_count(), 10_007);
    assert_eq!(m.encode(), bytes);
    let checked = telerad::check(&bytes, &ParseOptions::default(), None).unwrap();
    let errors: Vec<&Finding> = checked.findings.iter().filter(|f| f.severity == Severity::Error).collect();
    eprintln!("unexpected PIDs: {} errors, first {:?}", errors.len(), errors.first().map(|f| f.location.to_string()));
    assert!(errors.iter().any(|f| f.code == 100 && f.location.to_string() == "PID[2]" && f.rule == "structure"), "{}", list(&checked.findings[..checked.findings.len().min(10)]));
    let ack = ack_for(&bytes, &checked);
    assert!(ack.split('\r').nth(1).unwrap().starts_with("MSA|AE|"), "{ack}");
}

/// The largest field number a location holds: a control character in PID-65535.
#[test]
fn field_65535_is_located() {
    let base = minimal();
    let text = format!("{base}PID{}\x01\r", "|".repeat(65_535));
    let e = Message::parse(text.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), &K::ControlCharacter { byte: 1 });
    assert_eq!(e.location().to_string(), format!("PID-65535 (byte {})", base.len() + 3 + 65_535));
}

/// Validation stops at `max_validation_steps` with one Error finding saying so (table 0357 code
/// 207, no location, rule `validation-limit`): the findings before the stop are kept, the ACK
/// is AE with that ERR, and nothing past the stop is passed as checked.
#[test]
fn validation_step_limit_is_one_finding() {
    let text = with_pid3_repetitions(2_000);
    let full = telerad::check(text.as_bytes(), &ParseOptions::default(), None).unwrap();
    assert!(full.is_valid(), "{}", list(&full.findings));
    let options = ParseOptions::default().with_limits(Limits { max_validation_steps: 500, ..Limits::DEFAULT });
    let checked = telerad::check(text.as_bytes(), &options, None).unwrap();
    let stops: Vec<&Finding> = checked.findings.iter().filter(|f| f.rule == "validation-limit").collect();
    assert_eq!(stops.len(), 1, "{}", list(&checked.findings));
    let stop = stops[0];
    assert_eq!((stop.severity, stop.code), (Severity::Error, 207));
    assert_eq!(stop.location.to_string(), "message");
    assert!(stop.message.contains("validation stopped after 500 steps"), "{}", stop.message);
    assert!(!checked.is_valid());
    let ack = ack_for(text.as_bytes(), &checked);
    assert!(ack.split('\r').nth(1).unwrap().starts_with("MSA|AE|"), "{ack}");
    assert!(ack.contains("|207^Application internal error^HL70357|E"), "{ack}");
    // A message with findings keeps those found before the stop.
    let broken = text.replacen("|20260106134418|", "|2026XX06|", 1);
    let checked = telerad::check(broken.as_bytes(), &options, None).unwrap();
    assert!(checked.findings.iter().any(|f| f.code == 102 && f.location.to_string() == "MSH[1]-7.1" && f.rule == "format"), "{}", list(&checked.findings));
    assert!(checked.findings.iter().any(|f| f.rule == "validation-limit"), "{}", list(&checked.findings));
}
