//! A broken spec yields every problem at once, each with file and JSON pointer. The expected
//! report is a snapshot: `BLESS=1 cargo test -p hl7-codegen` rewrites it after a deliberate change.

use std::path::Path;

#[test]
fn broken_spec_reports_every_problem_with_file_and_pointer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let errors = hl7_codegen::Config::new(dir.join("broken-spec/telerad")).model().expect_err("the broken spec must not load");
    let report = errors.to_string();
    let snapshot = dir.join("snapshots/broken-spec.txt");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&snapshot, &report).unwrap();
        eprintln!("BLESSED {}", snapshot.display());
    }
    let expected = std::fs::read_to_string(&snapshot).expect("snapshot missing: run with BLESS=1 once");
    assert_eq!(report, expected, "spec error report changed; rerun with BLESS=1 if intended");
    // Every line names a file and a pointer.
    for e in errors.iter() {
        assert!(e.file.ends_with(".json") || e.file == "telerad", "{e}");
    }
    assert!(errors.len() >= 15, "expected every problem, got {}", errors.len());
}
