//! JSON serialisation of a typed message (the `telerad json` shape): the `serde_json::Value`
//! tree of `hl7_runtime::json::message`, and straight to bytes through the generated
//! `Serialize` implementation.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn json(c: &mut Criterion) {
    for name in benches::ALL {
        let bytes = benches::fixture(name);
        let any = telerad::AnyMessage::from_message(hl7_runtime::Message::parse(&bytes).unwrap()).unwrap();
        let placed = any.placed();
        let mut group = c.benchmark_group(format!("json/{}", benches::label(name)));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("value", |b| b.iter(|| hl7_runtime::json::message(black_box(placed), &telerad::REGISTRY)));
        group.bench_function("value-to-bytes", |b| {
            b.iter(|| serde_json::to_vec(&hl7_runtime::json::message(black_box(placed), &telerad::REGISTRY)).map(|v| v.len()))
        });
        group.bench_function("serialize-to-bytes", |b| b.iter(|| serde_json::to_vec(black_box(&any)).map(|v| v.len())));
        group.finish();
    }
}

criterion_group!(benches, json);
criterion_main!(benches);
