//! The `telerad` binary against its contract (README, "Command line"): byte-identical `fmt`,
//! JSON that parses, exit codes 0 / 1 / 2 and located errors on bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn telerad(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_telerad"));
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("telerad runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn fmt_is_byte_identical_for_every_fixture() {
    let mut n = 0;
    for (name, bytes) in telerad_tests::all_fixtures() {
        let path = fixtures().join(&name);
        let out = telerad(&["fmt", path.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(out.stdout == bytes, "{name}: fmt output differs from the input");
        n += 1;
    }
    assert!(n >= 12, "at least 12 fixtures of our own, found {n}");
}

#[test]
fn fmt_is_byte_identical_for_the_guide_examples() {
    let Some(dir) = telerad_tests::guide_examples_dir() else { return };
    for (name, bytes) in telerad_tests::guide_examples() {
        let out = telerad(&["fmt", dir.join(&name).to_str().unwrap()], None);
        if name.starts_with("sub-id_exemple_OBX") {
            // A fragment without MSH: not a message.
            assert_eq!(out.status.code(), Some(1), "{name}");
            assert!(stderr(&out).contains("OBX (byte 0): first segment is OBX"), "{}", stderr(&out));
            assert!(out.stdout.is_empty());
        } else {
            assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
            assert!(out.stdout == bytes, "{name}: fmt output differs from the input");
        }
    }
}

#[test]
fn json_prints_the_typed_message() {
    let path = fixtures().join("flux1_nw_full.hl7");
    let out = telerad(&["json", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["profile"], "flux1_orm_o01_nw");
    assert_eq!(v["charset"], "UNICODE UTF-8");
    assert_eq!(v["MSH"]["message_type"]["message_code"], "ORM");
    let order = &v["ORDER"][0];
    assert_eq!(order["ORC"]["order_control"], "NW");
    let observations = order["ORDER_DETAIL"]["OBSERVATION"].as_array().unwrap();
    assert_eq!(observations[0]["slice"], "modality");
    assert_eq!(observations[0]["OBX"]["observation_value"][0]["identifier"], "MR");
    assert_eq!(observations[1]["slice"], "anatomical_region");
    // Keys follow HL7 positions, not the alphabet.
    let keys: Vec<&String> = v["MSH"].as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "field_separator");
    assert_eq!(keys[1], "encoding_characters");
}

#[test]
fn json_reads_standard_input_and_keeps_z_segments() {
    let bytes = std::fs::read(fixtures().join("flux1_nw_zsegment.hl7")).unwrap();
    let out = telerad(&["json", "-"], Some(&bytes));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let z = &v["ORDER"][0]["ORDER_DETAIL"]["unexpected"][0];
    assert_eq!(z["segment"], "ZTL");
    assert_eq!(z["fields"]["2"], "1.2.250.1.213.4.5.2.1.777");
}

/// Each bad input exits 1 with `telerad: <file>: <location>: <reason>` on stderr, and nothing
/// on stdout.
#[test]
fn bad_input_exits_1_with_a_located_error() {
    let msh = b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1|||||FRA|UNICODE UTF-8\r".to_vec();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "segment 1 (byte 0): empty input"),
        ("binary", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "segment 1 (byte 0): not an HL7 v2 message"),
        ("truncated header", b"MSH|^~".to_vec(), "MSH (byte 0): MSH segment too short"),
        ("non-HL7 text", b"hello world\r".to_vec(), "segment 1 (byte 0): not an HL7 v2 message"),
        ("bad escape", [msh.as_slice(), b"PID|||123||DOE\\XZZ\\^JOHN\r"].concat(), "PID-5.1 (byte 89): invalid escape \\XZZ\\"),
        ("escape at the end of a field", [msh.as_slice(), b"PID|||123\\E|DOE\r"].concat(), "PID-3"),
        ("LF terminators", b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1\nPID|||1\n".to_vec(), "MSH (byte 52): line feed (LF) found"),
        ("Latin-1 bytes labelled UTF-8", [msh.as_slice(), b"PID|||123||D\xe9\r"].concat(), "PID-5"),
        ("lowercase segment id", [msh.as_slice(), b"pid|||123\r"].concat(), "segment 2 (byte 75): invalid segment id \"pid\""),
        ("unknown message type", b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01^ADT_A01|1|P|2.5.1\r".to_vec(), "no profile for MSH-9 `ADT^A01^ADT_A01`"),
        ("ORC-1 of no flow", [msh.as_slice(), b"ORC|XO|1\r"].concat(), "no profile for MSH-9 `ORM^O01^ORM_O01` with ORC-1 `XO`"),
    ];
    for (what, input, expected) in cases {
        let out = telerad(&["fmt", "-"], Some(&input));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.starts_with("telerad: -: "), "{what}: {err}");
        assert!(err.contains(expected), "{what}: expected `{expected}` in `{err}`");
        assert!(out.stdout.is_empty(), "{what}: printed something");
    }
}

/// `fmt --lenient` reads LF and CRLF line ends (and empty lines) and writes the message as the
/// guide wants it: CR after every segment.
#[test]
fn lenient_accepts_lf_terminators_and_writes_cr() {
    let expected = b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1\rPID|||1\r";
    for input in [b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1\nPID|||1\n".as_slice(), b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1\r\n\r\nPID|||1"] {
        let out = telerad(&["fmt", "--lenient", "-"], Some(input));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(expected));
    }
}

#[test]
fn usage_and_io_errors_exit_2() {
    let out = telerad(&["fmt", "/nonexistent/message.hl7"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read /nonexistent/message.hl7"));
    assert_eq!(telerad(&["bogus"], None).status.code(), Some(2));
    assert_eq!(telerad(&[], None).status.code(), Some(2));
    // An address naming no receiver is refused at once (an empty one used to run forever).
    for to in ["", "no-port", "127.0.0.1:notaport"] {
        let out = telerad(&["load", "--to", to, "--messages", "1"], None);
        assert_eq!(out.status.code(), Some(2), "--to {to:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("not a HOST:PORT address"), "{}", stderr(&out));
    }
    let path = fixtures().join("flux1_nw_full.hl7");
    let out = telerad(&["json", "--profile", "nope", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown profile `nope`"));
}

#[test]
fn profile_can_be_forced() {
    let path = fixtures().join("flux1_nw_minimal.hl7");
    let out = telerad(&["json", "--profile", "flux2_orm_o01_ca", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["profile"], "flux2_orm_o01_ca");
}
