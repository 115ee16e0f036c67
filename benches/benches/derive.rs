//! Generated views against derived structs: why generated types stay lazy (see
//! `hl7_codegen::expand`). On the 1.4 KB flow-3 ORU, every OBX is read as the generated `Obx`
//! view and as the derived `DerivedObx` struct (`telerad_tests::derived`), and OBX-5 is read
//! from it: the view reads one field, the struct reads all 25 when it is built.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hl7_runtime::typed::SegmentType;
use telerad::segments::Obx;
use telerad_tests::derived::DerivedObx;

fn derive(c: &mut Criterion) {
    let bytes = benches::fixture(benches::ORU_FT);
    let message = hl7_runtime::Message::parse(&bytes).expect("the bench input parses");
    let mut group = c.benchmark_group("derive/obx-5");
    group.bench_function("generated-view", |b| {
        b.iter(|| {
            message.segments_by_id("OBX").map(|s| Obx::from_segment(black_box(s)).observation_value().next().map_or(0, |v| v.raw().len())).sum::<usize>()
        })
    });
    group.bench_function("derived-struct", |b| {
        b.iter(|| {
            message.segments_by_id("OBX").map(|s| DerivedObx::from_segment(black_box(s)).observation_value.next().map_or(0, |v| v.raw().len())).sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, derive);
criterion_main!(benches);
