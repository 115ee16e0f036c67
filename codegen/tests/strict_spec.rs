//! A spec typo fails the build: an unknown key, an expression that does not parse, a path
//! that names no element, a context that names no group and a `violations` address that is
//! not an ERL are spec errors of `Config::model()`, with the file and the JSON pointer.
//! Each test copies the project's spec, changes one thing in one file, and loads it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "hl7v2.5.1" || n == "telerad") {
                copy_dir(&path, &target);
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// A copy of spec/ with the first `from` of `file` replaced by `to`.
fn spec_with(file: &str, from: &str, to: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let dir = std::env::temp_dir().join(format!("hl7-codegen-strict-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root, &dir);
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    dir
}

/// The spec error report after one change; fails when the spec still loads.
fn report(file: &str, from: &str, to: &str) -> String {
    let dir = spec_with(file, from, to);
    let result = hl7_codegen::Config::new(dir.join("telerad")).model();
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(_) => panic!("the spec loaded although {file} has `{to}` for `{from}`"),
        Err(e) => e.to_string(),
    }
}

#[track_caller]
fn assert_reports(report: &str, at: &str, words: &str) {
    assert!(report.lines().any(|l| l.trim_start().starts_with(at) && l.contains(words)), "no `{at}` … `{words}` in:\n{report}");
}

#[test]
fn the_project_spec_loads() {
    let model = hl7_codegen::Config::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/telerad")).fixtures(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")).model().unwrap_or_else(|e| panic!("{e}"));
    assert!(model.profiles.iter().all(|p| !p.rules.is_empty()));
}

#[test]
fn a_misspelt_key_is_an_error_not_a_vanished_rule() {
    let r = report("telerad/common.hand.json", "\"predicates\": [", "\"predicat\": [");
    assert_reports(&r, "telerad/common.hand.json#/predicat:", "unknown field `predicat`");
    // In a predicate, in a conformance statement, in a tables file's element and in an erratum.
    let r = report("telerad/common.hand.json", "\"condition\":", "\"conditon\":");
    assert_reports(&r, "telerad/common.hand.json#/predicates/0/conditon:", "unknown field `conditon`");
    let r = report("telerad/flux1_orm_o01_nw.hand.json", "\"context\": \"ORDER\"", "\"contexte\": \"ORDER\"");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/contexte:", "unknown field `contexte`");
    let r = report("telerad/flux1_orm_o01_nw.tables.json", "\"fixed\":", "\"fixe\":");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.tables.json#/segments/", "unknown field `fixe`");
    let r = report("telerad/ack.hand.json", "\"choice\":", "\"choix\":");
    assert_reports(&r, "telerad/ack.hand.json#/errata/0/choix:", "unknown field `choix`");
}

#[test]
fn a_bad_expression_is_an_error() {
    let r = report("telerad/flux1_orm_o01_nw.hand.json", "\"assertion\": \"OBR-2 = ORC-2\"", "\"assertion\": \"OBR-2 == ORC-2\"");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/assertion:", "is not an expression of the assertion language");
    let r = report("telerad/common.hand.json", "\"condition\": \"PV1-2 IN ('E','I','O','R')\"", "\"condition\": \"PV1-2 IN ('E','I','O','R'\"");
    assert_reports(&r, "telerad/common.hand.json#/predicates/0/condition:", "is not an expression of the assertion language");
}

#[test]
fn a_bad_path_or_context_is_an_error() {
    // A field ORC does not have, inside an expression.
    let r = report("telerad/flux1_orm_o01_nw.hand.json", "\"assertion\": \"OBR-2 = ORC-2\"", "\"assertion\": \"OBR-2 = ORC-99\"");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/assertion:", "names field 99");
    // A component EI does not have.
    let r = report("telerad/flux1_orm_o01_nw.hand.json", "\"assertion\": \"OBR-2 = ORC-2\"", "\"assertion\": \"OBR-2.7 = ORC-2\"");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/assertion:", "names component 7");
    // A predicate's path, a context, a location.
    let r = report("telerad/common.hand.json", "\"path\": \"PV1-19\"", "\"path\": \"PV1-999\"");
    assert_reports(&r, "telerad/common.hand.json#/predicates/0/path:", "names field 999");
    let r = report("telerad/flux1_orm_o01_nw.hand.json", "\"context\": \"ORDER\"", "\"context\": \"ORDERS\"");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/context:", "no group path `ORDERS`");
    let r = report("telerad/common.hand.json", "\"context\": \"PID-3[*]\"", "\"context\": \"PID-3\"");
    assert_reports(&r, "telerad/common.hand.json#/conformance/0/context:", "is not `SEG-f[*]`");
    let r = report("telerad/common.hand.json", "\"location\": \"PID-3.4.2\"", "\"location\": \"PID-3.4.9\"");
    assert_reports(&r, "telerad/common.hand.json#/conformance/0/location:", "subcomponent 9");
}

/// A conformance statement put first in flow 1's hand file, with one violation.
const VIOLATION: &str = r#""conformance": [
    { "id": "F1-TEST-OBR2", "assertion": "OBR-2 = ORC-2", "context": "ORDER", "src": "st_flux1.md#t2.r4",
      "violations": [ { "fixture": "flux1_nw_minimal.hl7", "edits": [ EDIT ], "expect": { "code": CODE, "at": "AT", "severity": "error" } } ] },"#;

const CONFORMANCE: &str = "\"conformance\": [";

fn with_violation(edit: &str, code: &str, at: &str) -> String {
    let v = VIOLATION.replace("EDIT", edit).replace("CODE", code).replace("AT", at);
    report("telerad/flux1_orm_o01_nw.hand.json", CONFORMANCE, &v)
}

#[test]
fn a_bad_violation_address_is_an_error() {
    let r = with_violation(r#"{ "set": "OBR1-2", "to": "X" }"#, "207", "OBR[1]-2");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/violations/0/edits/0/set:", "is not an ERL address");
    let r = with_violation(r#"{ "delete": "OBR[1]-2" }"#, "207", "OBR[1]-2");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/violations/0/edits/0/delete:", "a segment occurrence `SEG[k]` is expected");
    let r = with_violation(r#"{ "insert_after": "PID[x]", "segment": "NTE|1" }"#, "207", "OBR[1]-2");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/violations/0/edits/0/insert_after:", "is not an ERL address");
    let r = with_violation(r#"{ "set": "OBR[1]-2", "with": "X" }"#, "207", "OBR[1]-2");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/violations/0/edits/0:", "an edit is one of");
    let r = with_violation(r##"{ "swap": "||", "with": "#" }"##, "207", "OBR[1]-2");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/violations/0/edits/0/swap:", "one character each");
    let r = with_violation(r#"{ "sett": "OBR[1]-2", "to": "X" }"#, "207", "OBR[1]-2");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/violations/0/edits/0/sett:", "unknown field `sett`");
    let r = with_violation(r#"{ "set": "OBR[1]-2", "to": "X" }"#, "999", "OBR[1]-2");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/violations/0/expect/code:", "999 is not a code of HL7 table 0357");
    let r = with_violation(r#"{ "set": "OBR[1]-2", "to": "X" }"#, "207", "OBR[1]-2..1");
    assert_reports(&r, "telerad/flux1_orm_o01_nw.hand.json#/conformance/0/violations/0/expect/at:", "is not an ERL address");
}

#[test]
fn a_well_formed_violation_is_kept_in_the_model() {
    let v = VIOLATION
        .replace("EDIT", r#"{ "set": "OBR[1]-2.1", "to": "AUTRE" }, { "delete": "NTE[1]" }, { "insert_after": "PID[1]", "segment": "NTE|1||x" }, { "replace": "ORC|NW|", "with": "ORC|NW|" }"#)
        .replace("CODE", "207")
        .replace("AT", "OBR[1]-2");
    let dir = spec_with("telerad/flux1_orm_o01_nw.hand.json", CONFORMANCE, &v);
    let model = hl7_codegen::Config::new(dir.join("telerad")).model();
    let _ = std::fs::remove_dir_all(&dir);
    let model = model.unwrap_or_else(|e| panic!("{e}"));
    let p = model.profiles.iter().find(|p| p.id == "flux1_orm_o01_nw").unwrap();
    let rule = p.rules.iter().find(|r| r.id == "F1-TEST-OBR2").unwrap();
    assert_eq!(rule.violations.len(), 1);
    let v = &rule.violations[0];
    assert_eq!((v.code, v.at.as_str(), v.severity.as_deref(), v.edits.len()), (207, "OBR[1]-2", Some("error"), 4));
    assert_eq!(v.edits[0], hl7_codegen::model::Edit::Set { at: "OBR[1]-2.1".into(), to: "AUTRE".into() });
}
