//! Encoding. `encode/built/*`: a flow-3 response built with the builders (the content of the
//! 1.4 KB FT fixture: patient, order, the long FT protocol with characters to escape),
//! encoded by us from the builders and from the owned model, and by `er7` (its tree of the
//! same message, rendered with `to_er7`). `encode/parsed/*`: a received message re-encoded.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use telerad::flux3_oru_r01 as f3;

fn encode(c: &mut Criterion) {
    let msg = benches::built::flow3_response();
    let bytes = msg.encode().unwrap();
    let buf = msg.to_buf().unwrap();
    let er7_msg = er7::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
    // Every segment ended by CR, as we write it (er7's default leaves the last one bare).
    let er7_opts = er7::RenderOptions { trailing_terminator: true, ..Default::default() };
    assert_eq!(er7_msg.to_er7_with(er7_opts).as_bytes(), &bytes[..]);
    assert!(telerad::check(&bytes, &Default::default(), None).unwrap().message.is_some());

    let mut group = c.benchmark_group("encode/built");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("ours-builder", |b| b.iter(|| black_box(&msg).encode().map(|v| v.len())));
    group.bench_function("ours-owned", |b| b.iter(|| black_box(&buf).encode().map(|v| v.len())));
    group.bench_function("er7", |b| b.iter(|| black_box(&er7_msg).to_er7_with(er7_opts).len()));
    group.finish();

    let fixture = benches::fixture(benches::ORU_FT);
    let parsed = f3::Message::parse(&fixture).unwrap();
    let er7_parsed = er7::parse(std::str::from_utf8(&fixture).unwrap()).unwrap();
    let mut group = c.benchmark_group("encode/parsed");
    group.throughput(Throughput::Bytes(fixture.len() as u64));
    group.bench_function("ours-placed", |b| b.iter(|| black_box(&parsed).encode().len()));
    group.bench_function("er7", |b| b.iter(|| black_box(&er7_parsed).to_er7_with(er7_opts).len()));
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
