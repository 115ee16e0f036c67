//! Round trip: bytes → typed message → bytes, through the placed tree (zero-copy, byte for
//! byte) and through the owned, decoded model (`to_owned_buf` + `encode`); `er7`'s parse +
//! `to_er7` beside them.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn typed(bytes: &[u8]) -> telerad::AnyMessage<'_> {
    telerad::AnyMessage::from_message(hl7_runtime::Message::parse(bytes).unwrap()).unwrap()
}

fn round_trip(c: &mut Criterion) {
    for name in benches::ALL {
        let bytes = benches::fixture(name);
        let mut group = c.benchmark_group(format!("round_trip/{}", benches::label(name)));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        assert_eq!(typed(&bytes).placed().encode(), bytes);
        group.bench_function("placed", |b| b.iter(|| typed(black_box(&bytes)).placed().encode().len()));
        group.bench_function("owned", |b| {
            b.iter(|| typed(black_box(&bytes)).placed().message.to_owned_buf().encode().map(|v| v.len()))
        });
        if let Ok(text) = std::str::from_utf8(&bytes) {
            group.bench_function("er7", |b| b.iter(|| er7::parse(black_box(text)).map(|m| m.to_er7().len())));
        }
        group.finish();
    }
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
