//! The JUnit output of `telerad validate --format junit` read back by an independent consumer:
//! the Python package `junitparser` (pinned in `.ci/run`, in the venv that also holds
//! python-hl7). The interpreter comes from `TELERAD_JUNITPARSER_PYTHON`; without it the test
//! fails under `CI=true` and is skipped loudly elsewhere.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

fn python() -> Option<String> {
    match std::env::var("TELERAD_JUNITPARSER_PYTHON") {
        Ok(p) if std::path::Path::new(&p).exists() => Some(p),
        other => {
            let why = format!("TELERAD_JUNITPARSER_PYTHON is {other:?}: no Python with junitparser (.ci/run installs it)");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}");
            }
            // Straight to the process's standard error: libtest captures `eprintln!`.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
            None
        }
    }
}

/// Prints, as JSON, what junitparser reads: the totals, and each test case with its results.
const READ: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
cases = []
for suite in xml:
    for case in suite:
        results = [{"kind": type(r).__name__, "message": r.message, "type": r.type, "text": r.text} for r in case.result]
        cases.append({"suite": suite.name, "name": case.name, "classname": case.classname, "results": results, "out": case.system_out})
print(json.dumps({"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "skipped": xml.skipped, "cases": cases}))
"#;

#[test]
fn junitparser_reads_our_junit() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(std::fs::read(fixture("flux1_nw_minimal.hl7")).unwrap()).unwrap();
    // Two errors in one message (MSH-12 and a `<&>` in a name, escaped in the XML), one in the
    // second message of a batch.
    let two_errors = text.replacen("|2.5.1|", "|2.3|", 1).replacen("|P|", "|X<&>|", 1);
    let batch = format!("BHS|^~\\&\r{}{}BTS|2\r", text, text.replacen("|2.5.1|", "|2.3|", 1));
    std::fs::write(dir.path().join("two_errors.hl7"), &two_errors).unwrap();
    std::fs::write(dir.path().join("batch.hl7"), batch).unwrap();
    let inputs = [fixture("").to_str().unwrap().to_owned(), dir.path().to_str().unwrap().to_owned()];
    let junit = Command::new(bin()).args(["validate", "--format", "junit", &inputs[0], &inputs[1]]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(junit.status.code(), Some(1), "{}", stderr(&junit));
    let xml = dir.path().join("out.xml");
    std::fs::write(&xml, &junit.stdout).unwrap();
    let json = Command::new(bin()).args(["validate", "--format", "json", &inputs[0], &inputs[1]]).stdin(Stdio::null()).output().unwrap();
    let messages: Vec<serde_json::Value> = stdout(&json).lines().map(|l| serde_json::from_str(l).unwrap()).collect();

    let read = Command::new(&python).args(["-c", READ, xml.to_str().unwrap()]).output().expect("python runs");
    assert!(read.status.success(), "junitparser: {}", String::from_utf8_lossy(&read.stderr));
    let got: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    // A test per message, plus one skipped for the fixtures' README.
    assert_eq!(got["tests"].as_u64().unwrap() as usize, messages.len() + 1);
    assert_eq!(got["skipped"], 1);
    assert_eq!(got["errors"], 0);
    let invalid = messages.iter().filter(|m| m["valid"] == false).count();
    assert_eq!(invalid, 2);
    assert_eq!(got["failures"].as_u64().unwrap() as usize, invalid);
    let cases = got["cases"].as_array().unwrap();
    // One failure element per error finding, in each message's test case.
    let mut failures = 0;
    for (case, message) in cases.iter().filter(|c| c["classname"] != "file").zip(&messages) {
        let errors: Vec<&serde_json::Value> = message["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").collect();
        let results = case["results"].as_array().unwrap();
        assert_eq!(results.len(), errors.len(), "{case}");
        assert_eq!(case["classname"], message["profile"]);
        for (r, f) in results.iter().zip(&errors) {
            assert_eq!(r["kind"], "Failure");
            assert_eq!(r["type"].as_str().unwrap(), format!("{} {}", f["code"], f["rule"].as_str().unwrap()));
            let text = r["text"].as_str().unwrap();
            assert!(text.contains(f["message"].as_str().unwrap()) && text.contains(f["source"].as_str().unwrap()), "{text}");
            failures += 1;
        }
    }
    assert_eq!(failures, messages.iter().flat_map(|m| m["findings"].as_array().unwrap().iter()).filter(|f| f["severity"] == "error").count());
    assert!(failures >= 3, "{failures}");
    let two = cases.iter().find(|c| c["name"].as_str().unwrap().contains("two_errors.hl7")).unwrap();
    assert!(two["results"].as_array().unwrap().iter().any(|r| r["text"].as_str().unwrap().contains("X<&>")), "{two}");
    let second = cases.iter().find(|c| c["name"].as_str().unwrap().contains("batch.hl7#2")).expect("the batch's second message");
    assert_eq!(second["results"][0]["type"], "203 fixed");
    assert!(second["results"][0]["message"].as_str().unwrap().starts_with("MSH[1]-12.1: "));
    assert!(cases.iter().find(|c| c["name"].as_str().unwrap().contains("batch.hl7#1")).unwrap()["results"].as_array().unwrap().is_empty());
}
