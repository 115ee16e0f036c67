//! Parsing: the generic ER7 parse, the typed parse of each flow (parse + placement into the
//! profile's structure, `telerad::<flow>::Message::parse`) and the typed parse through profile
//! selection (`AnyMessage::from_message`), on every bench input. Run `cargo bench -p benches`;
//! compare runs with `--save-baseline NAME` and `--baseline NAME`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

/// The flow's own typed parse; the number of placed items keeps the result alive.
fn typed(name: &str, bytes: &[u8]) -> Option<usize> {
    let n = if name.starts_with("flux1") {
        telerad::flux1_orm_o01_nw::Message::parse(bytes).ok()?.0.tree.items.len()
    } else if name.starts_with("flux2") {
        telerad::flux2_orm_o01_ca::Message::parse(bytes).ok()?.0.tree.items.len()
    } else if name.contains("flux3") {
        telerad::flux3_oru_r01::Message::parse(bytes).ok()?.0.tree.items.len()
    } else {
        telerad::flux4_omi_o23::Message::parse(bytes).ok()?.0.tree.items.len()
    };
    Some(n)
}

fn parse(c: &mut Criterion) {
    for name in benches::ALL {
        let bytes = benches::fixture(name);
        assert!(typed(name, &bytes).is_some(), "{name}");
        let mut group = c.benchmark_group(format!("parse/{}", benches::label(name)));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("generic", |b| {
            b.iter(|| hl7_runtime::Message::parse(black_box(&bytes)).map(|m| m.segment_count()))
        });
        group.bench_function("typed", |b| b.iter(|| typed(name, black_box(&bytes))));
        group.bench_function("typed-any", |b| {
            b.iter(|| {
                let m = hl7_runtime::Message::parse(black_box(&bytes)).ok()?;
                telerad::AnyMessage::from_message(m).ok().map(|t| t.placed().tree.items.len())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
