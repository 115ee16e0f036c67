//! Every ACK the builder writes passes the project's own ACK profile (`spec/telerad/ack.*`):
//! for every fixture, every guide example, every hostile input, garbage and every truncation
//! of the fixtures, accepted and rejected, with and without a configured receiver identity.
//! Each ACK is checked alone (profile `ack`) and, when the acknowledged message parses, with
//! it (the `original.` rules): no error finding.

use hl7_runtime::ack::{self, AckOptions, Decision, Identity};
use hl7_runtime::validate::{Finding, Severity};
use hl7_runtime::ParseOptions;
use telerad_tests::{all_fixtures, fixture, guide_examples};

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut out = all_fixtures();
    out.extend(guide_examples());
    let hostile = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hostile");
    let mut names: Vec<_> = std::fs::read_dir(&hostile).expect("tests/hostile").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    for p in names {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.push((format!("hostile/{name}"), std::fs::read(&p).expect("readable")));
    }
    for (name, garbage) in [
        ("empty", &b""[..]),
        ("MSH", b"MSH"),
        ("MSH|", b"MSH|"),
        ("MSH|^~", b"MSH|^~"),
        ("MSH header only", b"MSH|^~\\&"),
        ("binary", b"\x00\xff\x10MSH|^~\\&|A|B|C|D"),
        ("text", b"hello, world\r"),
        ("bad escape in MSH-3", b"MSH|^~\\&|A\\Q\\|B|C|D|20260101||ORM^O01^ORM_O01|42|P|2.5.1\rPID|||1\r"),
        ("control char in MSH-10", b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|4\x012|P|2.5.1\rPID|||1\r"),
        ("unknown type", b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01^ADT_A01|1|P|2.5.1\r"),
        ("unknown event", b"MSH|^~\\&|A|B|C|D|20260101||ORM^O02^ORM_O01|1|P|2.5.1\r"),
        ("unknown processing id", b"MSH|^~\\&|A|B|C|D|20260101||ORU^R01^ORU_R01|1|X|2.5.1\r"),
        ("no sender", b"MSH|^~\\&||||20260101||OMI^O23^OMI_O23|1|T|2.5.1\r"),
        ("no control id", b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01||P|2.5.1\r"),
        ("latin1", b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1|||||FRA|8859/1\rPID|||1^^^X\r"),
    ] {
        out.push((name.to_owned(), garbage.to_vec()));
    }
    // Every fixture cut short at every 13th byte, at every segment end, and mid-MSH.
    for (name, bytes) in all_fixtures() {
        let cuts = (1..bytes.len()).step_by(13).chain(bytes.iter().enumerate().filter(|(_, b)| **b == b'\r').map(|(i, _)| i)).chain(1..40);
        for cut in cuts {
            if let Some(prefix) = bytes.get(..cut) {
                out.push((format!("{name}[..{cut}]"), prefix.to_vec()));
            }
        }
    }
    out
}

fn errors(findings: &[Finding]) -> Vec<String> {
    findings.iter().filter(|f| f.severity == Severity::Error).map(ToString::to_string).collect()
}

#[test]
fn every_ack_the_builder_writes_passes_the_ack_profile() {
    let clock = || "20260106134419".to_owned();
    let id = || "ACK1".to_owned();
    let identities = [Identity { application: "SI-TLR".into(), facility: "PLAT-TLR".into() }, Identity::default()];
    let inputs = inputs();
    assert!(inputs.len() > 1000, "{} inputs", inputs.len());
    let mut failures = Vec::new();
    let mut with_original = 0;
    for (name, bytes) in &inputs {
        for options in [ParseOptions::default(), ParseOptions::lenient()] {
            let checked = telerad::check(bytes, &options, None).expect("no usage error");
            let inbound = checked.message.as_ref().map(|m| &m.placed().message);
            for receiver in &identities {
                for decision in [Decision::Accept, Decision::Reject { reason: "busy".into() }] {
                    let opts = AckOptions { receiver: receiver.clone(), clock: &clock, next_id: &id };
                    let ack = match ack::build(inbound, bytes, &checked.findings, decision, &opts) {
                        Ok(a) => a,
                        Err(e) => {
                            failures.push(format!("{name}: no ACK: {e}"));
                            continue;
                        }
                    };
                    let alone = telerad::check(&ack, &ParseOptions::default(), Some("ack")).expect("the ack profile");
                    let mut errs = errors(&alone.findings);
                    if checked.message.is_some() {
                        let both = telerad::check_with(&ack, &options, Some("ack"), Some(bytes)).expect("the ack profile");
                        errs.extend(errors(&both.findings));
                        with_original += 1;
                    }
                    if !errs.is_empty() {
                        failures.push(format!("{name} (receiver {:?}):\n  {}\n  ACK: {}", receiver.application, errs.join("\n  "), String::from_utf8_lossy(&ack).replace('\r', "\n       ")));
                    }
                }
            }
        }
    }
    assert!(with_original > 100, "{with_original} ACKs checked with their original");
    failures.dedup();
    assert!(failures.is_empty(), "{} ACKs break the ACK profile, the first ones:\n{}", failures.len(), failures.iter().take(8).cloned().collect::<Vec<_>>().join("\n"));
}

fn ack_text(input: &[u8], receiver: Identity) -> String {
    let clock = || "20260106134419".to_owned();
    let id = || "ACK1".to_owned();
    let checked = telerad::check(input, &ParseOptions::default(), None).expect("no usage error");
    let inbound = checked.message.as_ref().map(|m| &m.placed().message);
    let opts = AckOptions { receiver, clock: &clock, next_id: &id };
    String::from_utf8(ack::build(inbound, input, &checked.findings, Decision::Accept, &opts).expect("an ACK")).expect("UTF-8")
}

fn msh_field(ack: &str, n: usize) -> String {
    ack.split('\r').next().and_then(|msh| msh.split('|').nth(n - 1)).unwrap_or("").to_owned()
}

fn msa2(ack: &str) -> String {
    ack.split('\r').find(|s| s.starts_with("MSA|")).and_then(|s| s.split('|').nth(2)).unwrap_or("").to_owned()
}

#[test]
fn msh_17_is_fra_even_when_the_inbound_lacks_it() {
    let bytes = fixture("flux1_nw_minimal.hl7");
    let text = String::from_utf8(bytes).expect("UTF-8");
    assert!(text.contains("|FRA|"));
    let without = text.replacen("|FRA|", "||", 1);
    let ack = ack_text(without.as_bytes(), Identity::default());
    assert_eq!(msh_field(&ack, 17), "FRA", "{ack}");
}

#[test]
fn unreadable_input_gets_the_documented_fallbacks() {
    // Nothing readable: placeholders, O01, P.
    let ack = ack_text(b"\x00garbage", Identity::default());
    assert_eq!((msh_field(&ack, 3), msh_field(&ack, 5), msh_field(&ack, 6)), ("UNKNOWN".into(), "UNKNOWN".into(), "UNKNOWN".into()), "{ack}");
    assert_eq!((msh_field(&ack, 9), msh_field(&ack, 11), msh_field(&ack, 17), msa2(&ack)), ("ACK^O01^ACK".into(), "P".into(), "FRA".into(), "UNKNOWN".into()), "{ack}");
    // A header the parser refuses (bad escape in MSH-3) is still read from the raw bytes.
    let ack = ack_text(b"MSH|^~\\&|RIS\\Q\\|CHU_X|SI|PLAT|20260101||ORU^R01^ORU_R01|CTRL-7|T|2.5.1\rPID|||1\r", Identity::default());
    assert_eq!((msh_field(&ack, 3), msh_field(&ack, 4), msh_field(&ack, 6)), ("SI".into(), "PLAT".into(), "CHU_X".into()), "{ack}");
    assert_eq!((msh_field(&ack, 9), msh_field(&ack, 11), msa2(&ack)), ("ACK^R01^ACK".into(), "T".into(), "CTRL-7".into()), "{ack}");
    // An event outside the guide's: the event of the guide's flow for that message type.
    let ack = ack_text(b"MSH|^~\\&|A|B|C|D|20260101||OMI^O99^OMI_O23|1|P|2.5.1\r", Identity::default());
    assert_eq!(msh_field(&ack, 9), "ACK^O23^ACK", "{ack}");
}

/// The guards of errata E5-E8 only skip what the original does not have: a value it has must
/// still be copied.
#[test]
fn the_copy_rules_still_hold_when_the_original_has_the_value() {
    let original = fixture("flux1_nw_minimal.hl7");
    let good = ack_text(&original, Identity::default());
    let checked = telerad::check_with(good.as_bytes(), &ParseOptions::default(), Some("ack"), Some(&original)).expect("the ack profile");
    assert!(errors(&checked.findings).is_empty(), "{:?}", checked.findings);
    let sender = msh_field(&good, 5);
    let wrong = good.replacen(&format!("|{sender}|"), "|SOMEONE-ELSE|", 1).replacen("ACK^O01^ACK", "ACK^R01^ACK", 1);
    let checked = telerad::check_with(wrong.as_bytes(), &ParseOptions::default(), Some("ack"), Some(&original)).expect("the ack profile");
    for (at, rule) in [("MSH[1]-5", "ACK-MSH5-EQ-ORIG-MSH3"), ("MSH[1]-9.2", "ACK-MSH92-EQ-ORIG-MSH92")] {
        let f = checked.findings.iter().find(|f| f.rule == rule).unwrap_or_else(|| panic!("no {rule}: {:?}", checked.findings));
        assert_eq!((f.severity, f.code, f.location.to_string()), (Severity::Error, 207, at.to_owned()));
    }
}
