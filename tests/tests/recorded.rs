//! The validator's answers, recorded: for every input the project has (the fixtures, the
//! guide's examples, the hostile corpus, every case of the violation suite and the committed
//! fuzz corpora of the parser, the typed layer and validation), in strict and lenient mode, the
//! profile chosen, every finding (severity, code, location, rule, source, message, in order)
//! and the bytes of the ACK built from them. Any change to what the validator says about any of
//! them fails this test: the safety net of a change that must not change the answers (a new
//! engine, a faster one).
//!
//! The record is `tests/recorded/validation.jsonl`: one line per input, in full for the named
//! inputs (fixtures, guide examples, hostile corpus), and a 64-bit FNV-1a digest of the full
//! line for the machine-made ones (the violation suite's cases and the fuzz corpora: thousands
//! of inputs, which in full would weigh 9 MB; the test prints the full line of any that
//! differs). A change that is
//! meant to change the answers records them again:
//!
//! ```sh
//! RECORD=1 cargo test -p telerad-tests --test recorded
//! git diff tests/recorded/validation.jsonl   # review every changed line
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hl7_runtime::ack::{build, AckOptions, Decision, Identity};
use hl7_runtime::ParseOptions;
use hl7_spec_tools::coverage::{self, cases, statements};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn record_path() -> PathBuf {
    root().join("tests/recorded/validation.jsonl")
}

/// One input: its label, its bytes, the profile to force (violation cases) and the
/// acknowledged message (ACK cases).
struct Input {
    label: String,
    bytes: Vec<u8>,
    profile: Option<String>,
    original: Option<Vec<u8>>,
    /// Recorded as a digest.
    machine_made: bool,
}

fn named(label: String, bytes: Vec<u8>) -> Input {
    Input { label, bytes, profile: None, original: None, machine_made: false }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) && p.extension().is_none_or(|x| x == "hl7"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

fn inputs() -> Vec<Input> {
    let mut all = Vec::new();
    for (name, bytes) in telerad_tests::all_fixtures() {
        all.push(named(format!("fixtures/{name}"), bytes));
    }
    for (name, bytes) in telerad_tests::guide_examples() {
        all.push(named(format!("guide/{name}"), bytes));
    }
    for (name, bytes) in files(&root().join("tests/hostile")) {
        all.push(named(format!("hostile/{name}"), bytes));
    }
    // Every case of the violation suite, each validated in its statement's profile.
    let fixtures_dir = telerad_tests::fixtures_dir();
    let model = hl7_spec_tools::codegen_config(&root().join("spec")).model().expect("the spec reads");
    let fixtures = coverage::valid_fixtures(&fixtures_dir).expect("the fixtures read");
    for st in statements::collect(&model) {
        if st.not_failable.is_some() || st.unprovable.is_some() {
            continue;
        }
        let Ok((_, made)) = cases::make(&st, &fixtures, &fixtures_dir) else { continue };
        for (i, case) in made.into_iter().enumerate() {
            all.push(Input {
                label: format!("case/{}/{}#{i}", st.profile, st.what),
                bytes: case.bytes,
                profile: Some(st.profile.clone()),
                original: case.original.map(|(_, b)| b),
                machine_made: true,
            });
        }
    }
    for target in ["parse", "typed", "validate_ack"] {
        for (name, bytes) in files(&root().join("fuzz/corpus").join(target)) {
            all.push(Input { label: format!("fuzz/{target}/{name}"), bytes, profile: None, original: None, machine_made: true });
        }
    }
    all
}

/// What the validator says of one input, as one JSON line.
fn answer(input: &Input) -> String {
    let clock = || "20260106134419".to_owned();
    let id = || "ACK0001".to_owned();
    let opts = AckOptions { receiver: Identity { application: "PLAT".into(), facility: "TLR".into() }, clock: &clock, next_id: &id };
    let mut modes = serde_json::Map::new();
    for (mode, options) in [("strict", ParseOptions::default()), ("lenient", ParseOptions::lenient())] {
        let value = match telerad::check_with(&input.bytes, &options, input.profile.as_deref(), input.original.as_deref()) {
            Err(e) => serde_json::json!({ "usage": e.to_string() }),
            Ok(checked) => {
                let inbound = checked.message.as_ref().map(|m| &m.placed().message);
                let ack = build(inbound, &input.bytes, &checked.findings, Decision::Accept, &opts).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_else(|e| format!("no ACK: {e}"));
                serde_json::json!({
                    "profile": checked.message.as_ref().map(|m| m.profile().profile),
                    "findings": checked.findings,
                    "ack": ack,
                })
            }
        };
        modes.insert(mode.to_owned(), value);
    }
    serde_json::json!({ "input": input.label, "answers": modes }).to_string()
}

/// 64-bit FNV-1a, in hexadecimal: a digest to tell a changed answer, not a security measure.
fn fnv(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}

fn line(input: &Input) -> (String, String) {
    let full = answer(input);
    let recorded = if input.machine_made { serde_json::json!({ "input": input.label, "digest": fnv(&full) }).to_string() } else { full.clone() };
    (recorded, full)
}

#[test]
fn the_validator_answers_as_recorded() {
    let inputs = inputs();
    assert!(inputs.len() > 5_000, "every source was read: {} inputs", inputs.len());
    let unique: std::collections::BTreeSet<&str> = inputs.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(unique.len(), inputs.len(), "every input has its own label");
    let lines: Vec<(String, String, String)> = inputs.iter().map(|i| {
        let (recorded, full) = line(i);
        (i.label.clone(), recorded, full)
    }).collect();
    let path = record_path();
    if std::env::var("RECORD").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text: String = lines.iter().map(|(_, r, _)| format!("{r}\n")).collect();
        std::fs::write(&path, text).unwrap();
        eprintln!("recorded {} answers in {}", lines.len(), path.display());
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e} (RECORD=1 writes it)", path.display()));
    let recorded: BTreeMap<String, String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object per line");
            (v["input"].as_str().expect("input label").to_owned(), l.to_owned())
        })
        .collect();
    let skipped_guide = telerad_tests::guide_examples_dir().is_none();
    let mut differ = Vec::new();
    let mut missing = Vec::new();
    for (label, now, full) in &lines {
        match recorded.get(label) {
            None => missing.push(label.clone()),
            Some(before) if before != now => differ.push(format!("{label}\n  recorded: {before}\n  now:      {full}")),
            Some(_) => {}
        }
    }
    let labels: std::collections::BTreeSet<&str> = lines.iter().map(|(l, _, _)| l.as_str()).collect();
    // A recorded input is gone when nothing answers it now, unless it is a guide example and
    // the guide was not there to read.
    let accounted = |l: &str| labels.contains(l) || (skipped_guide && l.starts_with("guide/"));
    let gone: Vec<&String> = recorded.keys().filter(|l| !accounted(l.as_str())).collect();
    assert!(
        differ.is_empty() && missing.is_empty() && gone.is_empty(),
        "{} answers differ from the record, {} inputs are new, {} recorded inputs are gone (RECORD=1 records them again, after review):\n{}\nnew: {missing:?}\ngone: {gone:?}",
        differ.len(),
        missing.len(),
        gone.len(),
        differ.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}
