//! `hl7-codegen coverage`: every failable statement of the profiles, each shown failing.
//!
//! A statement is failable when some message can break it: an element the guide makes R or
//! X, a fixed value, a value list, a table or value set, a datatype with a format, a segment,
//! group or slice with a minimum or a bounded maximum, a predicate branch that makes an element
//! R or X, a conformance statement, a check the engine makes natively (`engine_rules.json`).
//! For each, a *case* is a valid fixture of the profile changed so that it breaks exactly that
//! statement, with the finding the validator must then report (severity, HL7 table 0357 code,
//! ERL location, rule id). Most cases are derived mechanically from the statement ([`cases`]);
//! rules that compare several elements carry a written counterexample next to them in their
//! hand file (`violations`, spec/HAND-FORMAT.md).
//!
//! A statement is *proven* when its case, validated by `telerad`, reports that finding and the
//! unchanged fixture does not. The validator is the one `telerad` was generated with from the
//! repository's `spec/`: the statements are read from `--spec`, so pointing it at another folder
//! lists that folder's statements against this build's validator.

pub mod cases;
pub mod edit;
pub mod statements;

use std::collections::BTreeMap;
use std::path::Path;

use hl7_runtime::validate::{Finding, Severity};
use hl7_runtime::ParseOptions;

pub use statements::{Expect, How, Statement};

/// One row of the report.
#[derive(Debug, Clone)]
pub struct Row {
    pub statement: Statement,
    pub outcome: Outcome,
}

/// What became of one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The case reported the expected finding.
    Proven { case: String },
    /// The case ran but the finding did not come: the validator (or the case) is wrong.
    Failed { case: String, why: String },
    /// No case could be made; the reason says why.
    NoCase { reason: String },
    /// No message can break it (not counted in N).
    NotFailable { reason: String },
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: Vec<Row>,
}

impl Report {
    pub fn proven(&self) -> usize {
        self.rows.iter().filter(|r| matches!(r.outcome, Outcome::Proven { .. })).count()
    }

    /// The failable statements (N).
    pub fn failable(&self) -> usize {
        self.rows.iter().filter(|r| !matches!(r.outcome, Outcome::NotFailable { .. })).count()
    }

    pub fn failed(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
    }

    /// One line per statement, tab-separated (provenance, statement, rule, case or reason,
    /// status), then `proven M/N`.
    pub fn render(&self, only_unproven: bool) -> String {
        let mut out = String::from("status\tprofile\tstatement\tsrc\trule\tcase or reason\n");
        for r in self.rows.iter().filter(|r| !only_unproven || !matches!(r.outcome, Outcome::Proven { .. })) {
            let s = &r.statement;
            let (status, text) = match &r.outcome {
                Outcome::Proven { case } => ("proven", case.clone()),
                Outcome::Failed { case, why } => ("FAILED", format!("{case} -> {why}")),
                Outcome::NoCase { reason } => ("no-case", reason.clone()),
                Outcome::NotFailable { reason } => ("not-failable", reason.clone()),
            };
            out.push_str(&format!("{status}\t{}\t{}\t{}\t{}\t{text}\n", s.profile, s.what, s.src, s.expect.rule));
        }
        let not_failable = self.rows.len() - self.failable();
        out.push_str(&format!("not failable (listed, not counted): {not_failable}\n"));
        out.push_str(&format!("proven {}/{}\n", self.proven(), self.failable()));
        out
    }
}

/// A valid fixture of a profile: its name and bytes.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Reads the statements of `spec_dir`, makes their cases on the valid fixtures of
/// `fixtures_dir` and runs them.
pub fn run(spec_dir: &Path, fixtures_dir: &Path) -> Result<Report, String> {
    let model = crate::codegen_config(spec_dir).model().map_err(|e| e.to_string())?;
    let statements = statements::collect(&model);
    let fixtures = valid_fixtures(fixtures_dir)?;
    let mut rows = Vec::new();
    let mut baselines = Baselines::new();
    for st in statements {
        let outcome = prove(&st, &fixtures, fixtures_dir, &mut baselines);
        rows.push(Row { statement: st, outcome });
    }
    Ok(Report { rows })
}

/// The fixtures that validate without error, by the profile they validate in.
pub fn valid_fixtures(dir: &Path) -> Result<BTreeMap<String, Vec<Fixture>>, String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "hl7"))
        .collect();
    names.sort();
    let mut out: BTreeMap<String, Vec<Fixture>> = BTreeMap::new();
    for p in names {
        let bytes = std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let Ok(checked) = telerad::check(&bytes, &ParseOptions::default(), None) else { continue };
        if !checked.is_valid() {
            continue;
        }
        let Some(profile) = checked.message.as_ref().map(|m| m.profile().profile.to_owned()) else { continue };
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.entry(profile).or_default().push(Fixture { name, bytes });
    }
    Ok(out)
}

fn findings(bytes: &[u8], profile: &str, original: Option<&[u8]>) -> Result<Vec<Finding>, String> {
    telerad::check_with(bytes, &ParseOptions::default(), Some(profile), original).map(|c| c.findings).map_err(|e| e.to_string())
}

/// Proves one statement on its own (the suite's tests use it on hand-made statements).
pub fn prove_one(st: &Statement, fixtures: &BTreeMap<String, Vec<Fixture>>, fixtures_dir: &Path) -> Outcome {
    prove(st, fixtures, fixtures_dir, &mut BTreeMap::new())
}

/// Findings of the unchanged fixtures, by (profile, fixture, acknowledged fixture).
type Baselines = BTreeMap<(String, String, Option<String>), Vec<Finding>>;

fn prove(st: &Statement, fixtures: &BTreeMap<String, Vec<Fixture>>, fixtures_dir: &Path, baselines: &mut Baselines) -> Outcome {
    if let Some(reason) = &st.not_failable {
        return Outcome::NotFailable { reason: reason.clone() };
    }
    if let Some(reason) = &st.unprovable {
        return Outcome::NoCase { reason: reason.clone() };
    }
    let (need, cases) = match cases::make(st, fixtures, fixtures_dir) {
        Ok(c) => c,
        Err(reason) => return Outcome::NoCase { reason },
    };
    let mut first_failure = None;
    let mut proven = None;
    for case in cases {
        match run_case(st, &case, fixtures, baselines) {
            Ok(()) => {
                proven.get_or_insert(case.describe());
                if need == cases::Need::Any {
                    break;
                }
            }
            Err(why) => {
                first_failure.get_or_insert(Outcome::Failed { case: case.describe(), why });
                if need == cases::Need::All {
                    break;
                }
            }
        }
    }
    match (need, first_failure, proven) {
        (cases::Need::All, Some(f), _) | (cases::Need::Any, Some(f), None) => f,
        (_, _, Some(case)) => Outcome::Proven { case },
        (_, None, None) => Outcome::NoCase { reason: "no case".into() },
    }
}

/// Runs one case: Ok when it reports its finding and the unchanged fixture has none like it.
fn run_case(st: &Statement, case: &cases::Case, fixtures: &BTreeMap<String, Vec<Fixture>>, baselines: &mut Baselines) -> Result<(), String> {
    let original = case.original.as_ref();
    let key = (st.profile.clone(), case.fixture.clone(), original.map(|(n, _)| n.clone()));
    if !baselines.contains_key(&key) {
        let fx = fixtures.get(&st.profile).and_then(|l| l.iter().find(|f| f.name == case.fixture)).ok_or_else(|| format!("{} is not a valid fixture of {}", case.fixture, st.profile))?;
        baselines.insert(key.clone(), findings(&fx.bytes, &st.profile, original.map(|(_, b)| b.as_slice()))?);
    }
    let baseline = baselines.get(&key).map(Vec::as_slice).unwrap_or_default();
    let got = findings(&case.bytes, &st.profile, original.map(|(_, b)| b.as_slice()))?;
    let expect = case.expect.as_ref().unwrap_or(&st.expect);
    // The unchanged fixture must not already have such a finding (whatever its message), or
    // the case would prove nothing.
    if baseline.iter().any(|f| expect.matches(f)) {
        return Err(format!("the unchanged {} already has {expect}", case.fixture));
    }
    if got.iter().any(|f| expect.matches(f)) {
        return Ok(());
    }
    let near: Vec<String> = got.iter().filter(|f| f.severity != Severity::Info && !baseline.contains(f)).take(4).map(|f| format!("{} {} {} {}", f.severity.word(), f.code, f.location, f.rule)).collect();
    Err(format!("expected {expect}; new findings: [{}]", near.join("; ")))
}
