//! Parsing: the generic ER7 parse, and the typed parse (parse + placement into the profile's
//! structure) of each flow's fixture. Run `cargo bench -p benches`; compare runs with
//! `--save-baseline NAME` and `--baseline NAME`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for name in ["flux1_nw_full.hl7", "flux2_ca.hl7", "flux3_ok_ft.hl7", "flux4_sr_three_orders.hl7"] {
        let bytes = benches::fixture(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("generic/{name}"), |b| {
            b.iter(|| hl7_runtime::Message::parse(black_box(&bytes)).map(|m| m.segment_count()))
        });
        group.bench_function(format!("typed/{name}"), |b| {
            b.iter(|| {
                let m = hl7_runtime::Message::parse(black_box(&bytes)).ok()?;
                telerad::AnyMessage::from_message(m).ok().map(|t| t.placed().tree.items.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
