//! Work grows linearly with the input, proven by counting, never by timing: for every shape of
//! hostile growth (`telerad_tests::growth`), the whole receiving path (parse, profile, validation,
//! ACK, JSON) is run at 1x, 2x, 4x and 8x and two counts are taken:
//!
//! - the bytes the engine scanned (`hl7_runtime::work`, feature `work-counter`, enabled by this
//!   crate): every split on a separator, count of parts, field lookup past the cached
//!   separators, text decoding, and each pass of the parser;
//! - the validator's steps (`Validation::steps`): elements, repetitions, components and values
//!   checked, rule occurrences evaluated, values and group items the rules read.
//!
//! The allocation count is proven the same way by `allocations.rs`, a separate test binary
//! because it installs a counting global allocator.

use hl7_runtime::work;
use telerad_tests::growth::{assert_linear, receive, shapes, SIZES};

/// Runs every shape at every size and checks that `count` grows linearly with the input.
fn check_every_shape(what: &str, count: impl Fn(&str) -> u64) {
    for (name, shape) in shapes() {
        let counts: Vec<(usize, u64)> = SIZES.iter().map(|&k| shape(k)).map(|input| (input.len(), count(&input))).collect();
        assert_linear(name, what, &counts);
    }
}

#[test]
fn bytes_scanned_grow_linearly() {
    check_every_shape("bytes scanned", |input| {
        work::reset();
        receive(input.as_bytes());
        work::bytes_scanned().expect("telerad-tests enables hl7-runtime's work-counter feature")
    });
}

#[test]
fn validation_steps_grow_linearly() {
    check_every_shape("validation steps", |input| {
        let validation = receive(input.as_bytes());
        assert!(!validation.findings.iter().any(|f| f.rule == "validation-limit"));
        validation.steps
    });
}

/// The typed accessors' repetition iterator (`Reps`, behind `pid.patient_identifier_list()`
/// and every repeating field of the generated and derived types) reads a field once: each
/// repetition used to be looked up by number, rescanning the field from its start.
#[test]
fn typed_repetitions_are_read_in_one_pass() {
    let counts = scanned_reading_pid3(|field, k| {
        let read = hl7_runtime::typed::Reps::<hl7_runtime::typed::Primitive>::new(field).filter(|p| p.raw() == b"id").count();
        assert_eq!(read, 200 * k);
    });
    assert_linear("PID-3 repetitions", "bytes scanned by the typed iterator", &counts);
}

/// The bytes scanned by `read` on a PID-3 of `200 * k` repetitions, for each size `k`, with the
/// message's length.
fn scanned_reading_pid3(read: impl Fn(hl7_runtime::Field<'_>, usize)) -> Vec<(usize, u64)> {
    SIZES
        .iter()
        .map(|&k| {
            let text = format!("MSH|^~\\&|A\rPID|||{}\r", "id~".repeat(200 * k));
            let m = hl7_runtime::Message::parse(text.as_bytes()).unwrap();
            let field = m.segment(1).unwrap().field(3);
            work::reset();
            read(field, k);
            (text.len(), work::bytes_scanned().unwrap())
        })
        .collect()
}

/// The counter sees a quadratic pattern: reading every repetition by number (each lookup
/// rescans the field, as validation used to) grows 4x for a doubled field.
#[test]
fn the_counter_sees_quadratic_work() {
    let counts = scanned_reading_pid3(|field, _| {
        for i in 1..=field.repetition_count() {
            assert!(field.repetition(i).is_some());
        }
    });
    let ratio = counts[3].1 as f64 / counts[2].1 as f64;
    assert!(ratio > 3.5, "{counts:?}");
}
