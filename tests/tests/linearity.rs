//! Work grows linearly with the input, proven by counting, never by timing.
//!
//! Each shape of hostile growth (repetitions of one field, repetitions of two fields that rules
//! read against each other, segments, observation groups, fields in one segment, bytes in one
//! field) is built at 1x, 2x, 4x and 8x. For each size the whole receiving path runs (parse,
//! profile choice, validation, the ACK, the JSON view) and two counts are taken:
//!
//! - the bytes the engine scanned (`hl7_runtime::work`, feature `work-counter`): every split on
//!   a separator, count of parts, field lookup past the cached separators and text decoding;
//! - the validator's steps (`Validation::steps`): elements, repetitions, components and values
//!   checked, rule occurrences evaluated, values and group items rules read.
//!
//! Doubling the input must at most double each count (plus 5% for rounding in the shapes):
//! a quadratic term makes the ratio tend to 4. The allocation count is proven the same way by
//! `allocations.rs`, a separate test binary because it installs a counting global allocator.

use hl7_runtime::ack::{build, AckOptions, Decision, Identity};
use hl7_runtime::validate::validate_bounded;
use hl7_runtime::{work, Limits, Message, ParseOptions};

fn minimal() -> String {
    String::from_utf8(telerad_tests::fixture("flux1_nw_minimal.hl7")).unwrap()
}

const PID3: &str = "288056912304561^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS";
const PID5: &str = "LEFEBVRE^CAMILLE^CAMILLE ANNE^^^^L";

/// The counts for one input: (bytes scanned, validation steps).
fn counts(bytes: &[u8]) -> (u64, u64) {
    let options = ParseOptions::default().with_limits(Limits::UNBOUNDED);
    work::reset();
    let message = Message::parse_with(bytes, &options).expect("the shapes parse");
    let any = telerad::AnyMessage::from_message(message).expect("the shapes are flow 1");
    let validation = validate_bounded(any.placed(), &telerad::REGISTRY, None, &Limits::UNBOUNDED);
    assert!(!validation.findings.iter().any(|f| f.rule == "validation-limit"));
    let (clock, id) = (|| "20260106134419".to_owned(), || "ACK1".to_owned());
    let opts = AckOptions { receiver: Identity { application: "PLAT".into(), facility: "TLR".into() }, clock: &clock, next_id: &id };
    let ack = build(Some(&any.placed().message), bytes, &validation.findings, Decision::Accept, &opts).expect("the ACK builds");
    assert!(Message::parse(&ack).is_ok());
    let json = serde_json::to_string(&any).expect("JSON");
    assert!(!json.is_empty());
    let scanned = work::bytes_scanned().expect("telerad-tests enables hl7-runtime's work-counter feature");
    (scanned, validation.steps)
}

/// Builds the shape at 1x, 2x, 4x, 8x and checks that every doubling at most doubles the
/// counts. Returns the counts for the report in RELIABILITY.md (printed with --nocapture).
fn assert_linear(name: &str, shape: impl Fn(usize) -> String) {
    let sizes = [1, 2, 4, 8];
    let measured: Vec<(usize, u64, u64)> = sizes
        .iter()
        .map(|&k| {
            let input = shape(k);
            let (scanned, steps) = counts(input.as_bytes());
            (input.len(), scanned, steps)
        })
        .collect();
    println!("{name}: (input bytes, bytes scanned, validation steps) at 1x 2x 4x 8x = {measured:?}");
    for pair in measured.windows(2) {
        let [(len_a, scanned_a, steps_a), (len_b, scanned_b, steps_b)] = pair else { unreachable!() };
        let input_ratio = *len_b as f64 / *len_a as f64;
        assert!(input_ratio <= 2.05, "{name}: the shape must grow the input at most twofold, got {input_ratio:.2}");
        let scanned_ratio = *scanned_b as f64 / *scanned_a as f64;
        let steps_ratio = *steps_b as f64 / *steps_a as f64;
        assert!(scanned_ratio <= 2.05, "{name}: bytes scanned grew {scanned_ratio:.2}x for a doubled input ({measured:?})");
        assert!(steps_ratio <= 2.05, "{name}: validation steps grew {steps_ratio:.2}x for a doubled input ({measured:?})");
    }
    let (first, last) = (measured[0], measured[3]);
    assert!(last.1 as f64 / first.1 as f64 <= 8.4, "{name}: bytes scanned 1x→8x {measured:?}");
    assert!(last.2 as f64 / first.2 as f64 <= 8.4, "{name}: steps 1x→8x {measured:?}");
}

fn pid3_reps(n: usize) -> String {
    (0..n).map(|i| format!("{i:015}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS")).collect::<Vec<_>>().join("~")
}

/// PID-3 repeated: the `PID-3[*]` rules evaluate once per repetition and `ANY(PID-3.5)` reads
/// them all (this was quadratic: every occurrence rescanned the field for its repetition).
#[test]
fn pid3_repetitions_are_linear() {
    let base = minimal();
    assert_linear("PID-3 repetitions", |k| base.replacen(PID3, &pid3_reps(250 * k), 1));
}

/// PID-3 and PID-5 repeated together: each `PID-5[*]` occurrence reads `ANY(PID-3.5)`, which
/// is the product of the two sizes unless read once for the segment.
#[test]
fn two_repeating_fields_read_against_each_other_are_linear() {
    let base = minimal();
    let names = |n: usize| (0..n).map(|i| format!("NAME{i}^GIVEN^^^^^L")).collect::<Vec<_>>().join("~");
    assert_linear("PID-3 × PID-5 repetitions", |k| base.replacen(PID3, &pid3_reps(150 * k), 1).replacen(PID5, &names(150 * k), 1));
}

/// NTE segments after the last observation: structure placement and per-segment checks.
#[test]
fn segments_are_linear() {
    let base = minimal();
    assert_linear("NTE segments", |k| base.clone() + &"NTE|1||a note\r".repeat(1000 * k));
}

/// OBSERVATION groups: group contexts, slices and OBX-4 sub-ids over many groups.
#[test]
fn observation_groups_are_linear() {
    let base = minimal();
    let obx = |i: usize| format!("OBX|{i}|CE|REGION_ANATOMIQUE^Localisation^TLR_OBSERVATION|{i}.1|63337009^segment^SCT||||||O\r");
    assert_linear("OBSERVATION groups", |k| base.clone() + &(3..3 + 150 * k).map(obx).collect::<String>());
}

/// One segment with many fields: field access by number past the view's cached separators
/// (the JSON view read every field by number, which was quadratic; found by fuzzing).
#[test]
fn fields_in_one_segment_are_linear() {
    let base = minimal();
    assert_linear("fields of one NTE", |k| format!("{base}NTE|1||{}\r", "x|".repeat(1500 * k)));
}

/// One large field: decoding, length and format checks see its bytes a bounded number of times.
#[test]
fn bytes_in_one_field_are_linear() {
    let base = minimal();
    let info = "Douleur abdominale aiguë fébrile, suspicion de sigmoïdite";
    assert_linear("bytes of OBR-13", |k| base.replacen(info, &"d\\E\\é".repeat(20_000 * k), 1));
}
