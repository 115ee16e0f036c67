//! `telerad validate`, `telerad ack` and `telerad profiles` against the CLI contract.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn telerad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_telerad")).args(args).output().expect("telerad runs")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name).display().to_string()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("telerad-cli-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn validate_json_one_object_per_file_and_exit_codes() {
    let good = fixture("flux4_sr.hl7");
    let text = std::fs::read_to_string(fixture("flux1_nw_minimal.hl7")).unwrap().replacen("|2.5.1|", "|2.3|", 1);
    let bad = temp_file("bad.hl7", text.as_bytes());
    let out = telerad(&["validate", "--format", "json", &good, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["profile"], "flux4_omi_o23");
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[1]["valid"], false);
    let f = lines[1]["findings"].as_array().unwrap().iter().find(|f| f["code"] == 203).expect("203");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["location"], serde_json::json!({"segment": "MSH", "sequence": 1, "field": 12, "repetition": null, "component": 1, "subcomponent": null}));
    assert_eq!(f["rule"], "fixed");
    assert!(f["message"].as_str().unwrap().contains("MSH-12.1 is '2.3'"));

    assert_eq!(telerad(&["validate", &good]).status.code(), Some(0));
    // A file that does not parse: invalid, one located error.
    let junk = temp_file("junk.hl7", b"hello\r");
    let out = telerad(&["validate", "--format", "json", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["profile"], serde_json::Value::Null);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    // 2 wins over 1: a missing file among invalid ones.
    let out = telerad(&["validate", bad.to_str().unwrap(), "/nonexistent.hl7"]);
    assert_eq!(out.status.code(), Some(2));
    // An unknown profile is a usage error.
    assert_eq!(telerad(&["validate", "--profile", "nope", &good]).status.code(), Some(2));
    for p in [bad, junk] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn validate_text_names_each_finding() {
    let out = telerad(&["validate", &fixture("flux1_nw_zsegment.hl7")]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("flux1_nw_zsegment.hl7: valid [flux1_orm_o01_nw]"), "{text}");
    assert!(text.contains("warning 100 ZTL[1]: ORDER[1]/ORDER_DETAIL[1]/ZTL[1] has no place"), "{text}");
}

fn ack(file: &str, extra: &[&str]) -> (Option<i32>, Vec<String>) {
    let mut args = vec!["ack", "--now", "20260106134419", "--control-id", "ACK1", "--application", "PLAT", "--facility", "TLR"];
    args.extend_from_slice(extra);
    args.push(file);
    let out = telerad(&args);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with('\r'), "every segment ends with CR: {text:?}");
    (out.status.code(), text.split_terminator('\r').map(str::to_owned).collect())
}

#[test]
fn ack_aa_for_valid_messages_of_every_flow() {
    for (name, event) in [("flux1_nw_full.hl7", "O01"), ("flux2_ca.hl7", "O01"), ("flux3_ok_ft.hl7", "R01"), ("flux4_sr.hl7", "O23")] {
        let (code, segs) = ack(&fixture(name), &[]);
        assert_eq!(code, Some(0));
        let inbound = std::fs::read_to_string(fixture(name)).unwrap();
        let msh: Vec<&str> = inbound.split('\r').next().unwrap().split('|').collect();
        let ack_msh: Vec<&str> = segs[0].split('|').collect();
        assert_eq!((ack_msh[2], ack_msh[3], ack_msh[4], ack_msh[5]), (msh[4], msh[5], msh[2], msh[3]), "{name}: MSH-3..6 swapped");
        assert_eq!(ack_msh[6], "20260106134419");
        assert_eq!(ack_msh[8], format!("ACK^{event}^ACK"));
        assert_eq!(ack_msh[9], "ACK1");
        assert_eq!(ack_msh[10], msh[10], "MSH-11 copied");
        assert_eq!(segs[1], format!("MSA|AA|{}", msh[9]), "{name}");
        assert_eq!(segs.len(), 2, "{name}: no ERR on an AA");
    }
}

#[test]
fn ack_ae_with_located_err_segments_and_ar_with_a_reason() {
    let text = std::fs::read_to_string(fixture("flux1_nw_minimal.hl7")).unwrap().replacen("|2.5.1|", "|2.3|", 1).replacen("|VALI", "|VALX", 1);
    let bad = temp_file("ae.hl7", text.as_bytes());
    let (code, segs) = ack(bad.to_str().unwrap(), &[]);
    assert_eq!(code, Some(0), "an AE is still an ACK built");
    assert!(segs[1].starts_with("MSA|AE|"), "{segs:?}");
    assert!(segs.iter().any(|s| s.starts_with("ERR||MSH^1^12^^1|203^Unsupported version id^HL70357|E|")), "{segs:?}");
    assert!(segs.iter().any(|s| s.starts_with("ERR||PID^1^32|103^Table value not found^HL70357|E|")), "{segs:?}");
    let (_, segs) = ack(&fixture("flux4_sr.hl7"), &["--reject", "base indisponible"]);
    assert!(segs[1].starts_with("MSA|AR|"), "{segs:?}");
    assert!(segs[2].starts_with("ERR|||207^Application internal error^HL70357|E|"), "{segs:?}");
    assert!(segs[2].ends_with("|base indisponible"), "{segs:?}");
    let _ = std::fs::remove_file(bad);
}

#[test]
fn profiles_lists_what_profile_accepts() {
    let out = telerad(&["profiles"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let ids: Vec<&str> = text.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(ids, ["ack", "flux1_orm_o01_nw", "flux2_orm_o01_ca", "flux3_oru_r01", "flux4_omi_o23"]);
}

/// The ACK telerad builds conforms to the guide's ACK profile, including the rules that compare
/// it with the message it acknowledges (`--original`).
#[test]
fn the_ack_validates_against_the_ack_profile_and_its_original() {
    let original = fixture("flux3_ok_ft.hl7");
    let out = telerad(&["ack", "--now", "20260106134419", "--control-id", "ACK2", &original]);
    let ack = temp_file("ack.hl7", &out.stdout);
    let out = telerad(&["validate", "--format", "json", "--original", &original, ack.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["profile"], "ack");
    assert_eq!(v["valid"], true, "{v}");
    let not_evaluated = v["findings"].as_array().unwrap().iter().filter(|f| f["message"].as_str().unwrap_or("").contains("not evaluated")).count();
    assert_eq!(not_evaluated, 0, "with the original every ACK rule is evaluated: {v}");
    // A wrong MSA-2 is caught by the rule that reads the original.
    let wrong = String::from_utf8(std::fs::read(&ack).unwrap()).unwrap().replacen("MSA|AA|", "MSA|AA|X", 1);
    let bad = temp_file("ack-bad.hl7", wrong.as_bytes());
    let out = telerad(&["validate", "--format", "json", "--original", &original, bad.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "ACK-MSA2-EQ-ORIG-MSH10"), "{v}");
    for p in [ack, bad] {
        let _ = std::fs::remove_file(p);
    }
}

/// Input that does not parse is still answered: AE, MSA-2 UNKNOWN (ACK erratum E6), one ERR
/// saying why; exit 0.
#[test]
fn ack_for_unparsable_input() {
    let junk = temp_file("junk-ack.hl7", b"\x89PNG\r\n\x1a\n");
    let (code, segs) = ack(junk.to_str().unwrap(), &[]);
    assert_eq!(code, Some(0));
    assert!(segs[0].starts_with("MSH|^~\\&|PLAT|TLR|"), "{segs:?}");
    assert_eq!(segs[1], "MSA|AE|UNKNOWN", "MSA-2 unknown");
    assert!(segs[2].starts_with("ERR|"), "{segs:?}");
    assert!(segs[2].contains("does not parse"), "{segs:?}");
    let _ = std::fs::remove_file(junk);
}
