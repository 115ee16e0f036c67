//! The shared workloads (see `common/workloads.rs`), ours beside each peer and the SIMD
//! floor, on the same bytes in the same run: `read/<input>/<implementation>` and
//! `visit/<input>/<implementation>`.

mod common;

use common::workloads::*;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const INPUTS: &[&str] = &[benches::ORU_FT, benches::ORU_ED_64K, benches::OMI_10_ORDERS];

fn read(c: &mut Criterion) {
    let esc = rust_hl7_decoder();
    for name in INPUTS {
        let bytes = benches::fixture(name);
        let mut group = c.benchmark_group(format!("read/{}", benches::label(name)));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut positions = Vec::with_capacity(bytes.len());
        group.bench_function("floor", |b| b.iter(|| floor(black_box(&bytes), &mut positions)));
        macro_rules! run {
            ($label:literal, $f:expr) => {
                group.bench_function($label, |b| {
                    b.iter(|| {
                        let mut sink = Checksum::default();
                        let ok = $f(black_box(&bytes[..]), &mut sink);
                        (ok, sink.0)
                    })
                });
            };
        }
        // The flow's own typed parse, chosen here rather than by looking at the bytes.
        if *name == benches::OMI_10_ORDERS {
            run!("ours-typed", ours_typed_omi);
        } else {
            run!("ours-typed", ours_typed_oru);
        }
        run!("ours-generic", ours_generic);
        run!("er7", er7_read);
        run!("hl7-2", hl7_2_read);
        run!("hl7-parser", hl7_parser_read);
        run!("rust-hl7", |b, s| rust_hl7_read(b, &esc, s));
        run!("hl7-v2", hl7_v2_read);
        group.finish();
    }
}

fn visit(c: &mut Criterion) {
    for name in INPUTS {
        let bytes = benches::fixture(name);
        let mut group = c.benchmark_group(format!("visit/{}", benches::label(name)));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut positions = Vec::with_capacity(bytes.len());
        group.bench_function("floor", |b| b.iter(|| floor(black_box(&bytes), &mut positions)));
        group.bench_function("ours", |b| b.iter(|| ours_visit(black_box(&bytes))));
        group.bench_function("er7", |b| b.iter(|| er7_visit(black_box(&bytes))));
        group.bench_function("hl7-2", |b| b.iter(|| hl7_2_visit(black_box(&bytes))));
        group.bench_function("hl7-parser", |b| b.iter(|| hl7_parser_visit(black_box(&bytes))));
        group.bench_function("rust-hl7", |b| b.iter(|| rust_hl7_visit(black_box(&bytes))));
        group.bench_function("hl7-v2", |b| b.iter(|| hl7_v2_visit(black_box(&bytes))));
        group.finish();
    }
}

criterion_group!(benches, read, visit);
criterion_main!(benches);
