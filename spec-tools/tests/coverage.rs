//! The violation suite: every failable statement of the profiles broken by a case derived from
//! a valid fixture (or written next to its rule), with the finding the validator must report.
//! `hl7-codegen coverage --spec spec` prints the same report.

use std::path::{Path, PathBuf};

use hl7_spec_tools::coverage::{self, Outcome};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn report() -> coverage::Report {
    coverage::run(&root().join("spec"), &root().join("tests/fixtures")).expect("the spec and the fixtures load")
}

#[test]
fn every_case_reports_its_finding() {
    let r = report();
    let failed: Vec<String> = r.failed().map(|row| match &row.outcome {
        Outcome::Failed { case, why } => format!("{} {} [{}]: {case} -> {why}", row.statement.profile, row.statement.what, row.statement.src),
        _ => unreachable!(),
    }).collect();
    assert!(failed.is_empty(), "{} statement(s) not reported by the validator when broken:\n{}", failed.len(), failed.join("\n"));
}

#[test]
fn at_least_95_percent_of_the_failable_statements_are_proven() {
    let r = report();
    let (m, n) = (r.proven(), r.failable());
    // Several hundred statements: a smaller N means statements stopped being read.
    assert!(n >= 550, "only {n} failable statements were found in spec/");
    assert!(m * 100 >= n * 95, "proven {m}/{n} is under 95 %:\n{}", r.render(true));
    let text = r.render(false);
    assert_eq!(text.lines().last(), Some(format!("proven {m}/{n}").as_str()));
    // Every statement that is not proven says why.
    for row in &r.rows {
        if let Outcome::NoCase { reason } | Outcome::NotFailable { reason } = &row.outcome {
            assert!(!reason.trim().is_empty(), "{} has no reason", row.statement.what);
        }
    }
}

#[test]
fn a_case_that_changes_nothing_proves_nothing() {
    // The harness itself: a finding the unchanged fixture already has is not a proof, and a
    // case that breaks nothing fails.
    let r = report();
    let st = r.rows.iter().find(|row| row.statement.expect.rule == "fixed" && matches!(row.outcome, Outcome::Proven { .. })).expect("a proven fixed value").statement.clone();
    let fixtures = coverage::valid_fixtures(&root().join("tests/fixtures")).unwrap();
    let fixture = fixtures[&st.profile][0].name.clone();
    let mut unchanged = st.clone();
    unchanged.how = coverage::How::Written {
        violations: vec![hl7_codegen::model::Violation { fixture, original: None, edits: vec![], code: st.expect.code, at: "MSH[1]".into(), severity: None, comment: None }],
    };
    match coverage::prove_one(&unchanged, &fixtures, &root().join("tests/fixtures")) {
        Outcome::Failed { .. } => {}
        other => panic!("an unchanged fixture proved {}: {other:?}", st.what),
    }
}
