//! Inputs that grow one dimension of a valid flow-1 message, and the check that a count grows
//! at most linearly with them: shared by `tests/linearity.rs` (bytes scanned, validation
//! steps) and `tests/allocations.rs` (allocations, bytes allocated).
//!
//! Each shape is built at 1x, 2x, 4x and 8x. Doubling the input must at most double a count
//! (plus 5% for rounding in the shapes): a quadratic term makes the ratio tend to 4.

use hl7_runtime::ack::{build, AckOptions, Decision, Identity};
use hl7_runtime::validate::{validate_bounded, Validation};
use hl7_runtime::{Limits, Message, ParseOptions};

/// The multiples each shape is built at.
pub const SIZES: [usize; 4] = [1, 2, 4, 8];

/// A shape: its name and the input at a multiple.
pub type Shape = (&'static str, Box<dyn Fn(usize) -> String>);

const PID3: &str = "288056912304561^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS";
const PID5: &str = "LEFEBVRE^CAMILLE^CAMILLE ANNE^^^^L";
const OBR13: &str = "Douleur abdominale aiguë fébrile, suspicion de sigmoïdite";

fn minimal() -> String {
    String::from_utf8(crate::fixture("flux1_nw_minimal.hl7")).unwrap_or_default()
}

fn pid3_reps(n: usize) -> String {
    (0..n).map(|i| format!("{i:015}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS")).collect::<Vec<_>>().join("~")
}

fn pid5_reps(n: usize) -> String {
    (0..n).map(|i| format!("NAME{i}^GIVEN^^^^^L")).collect::<Vec<_>>().join("~")
}

fn obx(i: usize) -> String {
    format!("OBX|{i}|CE|REGION_ANATOMIQUE^Localisation^TLR_OBSERVATION|{i}.1|63337009^segment^SCT||||||O\r")
}

/// Every shape of hostile growth:
/// - PID-3 repetitions: the `PID-3[*]` rules evaluate once per repetition and `ANY(PID-3.5)`
///   reads them all (this was quadratic: every occurrence rescanned the field);
/// - PID-3 and PID-5 repetitions together: each `PID-5[*]` occurrence reads `ANY(PID-3.5)`;
/// - NTE segments: structure placement and per-segment checks;
/// - OBSERVATION groups: group contexts, slices and OBX-4 sub-ids;
/// - fields of one segment, placed (NTE) or unexpected (ZZZ, its own JSON path): access by
///   number past the view's cached separators (the JSON view was quadratic here; found by
///   fuzzing);
/// - bytes of one field, with escapes: decoding, length and format checks.
pub fn shapes() -> Vec<Shape> {
    let base = minimal();
    let b = base.clone();
    let pid3: Box<dyn Fn(usize) -> String> = Box::new(move |k| b.replacen(PID3, &pid3_reps(250 * k), 1));
    let b = base.clone();
    let both: Box<dyn Fn(usize) -> String> =
        Box::new(move |k| b.replacen(PID3, &pid3_reps(150 * k), 1).replacen(PID5, &pid5_reps(150 * k), 1));
    let b = base.clone();
    let ntes: Box<dyn Fn(usize) -> String> = Box::new(move |k| b.clone() + &"NTE|1||a note\r".repeat(1000 * k));
    let b = base.clone();
    let groups: Box<dyn Fn(usize) -> String> = Box::new(move |k| b.clone() + &(3..3 + 150 * k).map(obx).collect::<String>());
    let b = base.clone();
    let fields: Box<dyn Fn(usize) -> String> = Box::new(move |k| format!("{b}NTE|1||{}\r", "x|".repeat(1500 * k)));
    let b = base.clone();
    let z: Box<dyn Fn(usize) -> String> = Box::new(move |k| format!("{b}ZZZ|{}\r", "x|".repeat(1500 * k)));
    let bytes: Box<dyn Fn(usize) -> String> = Box::new(move |k| base.replacen(OBR13, &"d\\E\\é".repeat(20_000 * k), 1));
    vec![
        ("PID-3 repetitions", pid3),
        ("PID-3 × PID-5 repetitions", both),
        ("NTE segments", ntes),
        ("OBSERVATION groups", groups),
        ("fields of one NTE", fields),
        ("fields of an unexpected ZZZ", z),
        ("bytes of OBR-13", bytes),
    ]
}

/// The whole receiving path on one input, without limits: parse, profile choice, validation,
/// the ACK (which must parse) and the JSON view. Returns the validation.
pub fn receive(bytes: &[u8]) -> Validation {
    let options = ParseOptions::default().with_limits(Limits::UNBOUNDED);
    let message = Message::parse_with(bytes, &options).expect("the shapes parse");
    let any = telerad::AnyMessage::from_message(message).expect("the shapes are flow 1");
    let validation = validate_bounded(any.placed(), &telerad::REGISTRY, None, &Limits::UNBOUNDED);
    let (clock, id) = (|| "20260106134419".to_owned(), || "ACK1".to_owned());
    let opts = AckOptions { receiver: Identity { application: "PLAT".into(), facility: "TLR".into() }, clock: &clock, next_id: &id };
    let ack = build(Some(&any.placed().message), bytes, &validation.findings, Decision::Accept, &opts).expect("the ACK builds");
    assert!(Message::parse(&ack).is_ok());
    let json = serde_json::to_string(&any).expect("JSON");
    assert!(!json.is_empty());
    validation
}

/// Checks that `counts` (one per size of [`SIZES`], with the input length) grow at most
/// linearly with the input.
pub fn assert_linear(shape: &str, what: &str, counts: &[(usize, u64)]) {
    println!("{shape}: (input bytes, {what}) at 1x 2x 4x 8x = {counts:?}");
    for pair in counts.windows(2) {
        let [(len_a, count_a), (len_b, count_b)] = pair else { continue };
        let input = *len_b as f64 / *len_a as f64;
        assert!(input <= 2.05, "{shape}: the shape must grow the input at most twofold, got {input:.2}");
        let ratio = *count_b as f64 / (*count_a).max(1) as f64;
        assert!(ratio <= 2.05, "{shape}: {what} grew {ratio:.2}x for a doubled input ({counts:?})");
    }
    if let (Some(first), Some(last)) = (counts.first(), counts.last()) {
        let ratio = last.1 as f64 / first.1.max(1) as f64;
        assert!(ratio <= 8.4, "{shape}: {what} grew {ratio:.2}x from 1x to 8x ({counts:?})");
    }
}
