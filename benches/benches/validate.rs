//! Full validation: `telerad::check` (strict parse, profile selection, every rule of the
//! profile), validation alone on an already placed message, and `er7`'s parse alone on the
//! same bytes, the reference of the "parse + validation ≥ 3× faster than er7's parse" target.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hl7_runtime::ParseOptions;

fn validate(c: &mut Criterion) {
    for name in benches::ALL {
        let bytes = benches::fixture(name);
        let mut group = c.benchmark_group(format!("validate/{}", benches::label(name)));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let opts = ParseOptions::default();
        assert!(telerad::check(&bytes, &opts, None).unwrap().is_valid(), "{name}");
        group.bench_function("check", |b| {
            b.iter(|| telerad::check(black_box(&bytes), &opts, None).map(|c| c.findings.len()))
        });
        let checked = telerad::check(&bytes, &opts, None).unwrap();
        let placed = checked.message.as_ref().unwrap().placed();
        group.bench_function("validate-only", |b| {
            b.iter(|| hl7_runtime::validate::validate(black_box(placed), &telerad::REGISTRY).len())
        });
        if let Ok(text) = std::str::from_utf8(&bytes) {
            group.bench_function("er7-parse", |b| b.iter(|| er7::parse(black_box(text)).map(|m| m.segments.len())));
        }
        group.finish();
    }
}

criterion_group!(benches, validate);
criterion_main!(benches);
