//! ACK building: AA for a valid message, AE with one ERR per error for an invalid one, from
//! findings already computed (`ack::build` alone), and end to end (check + build).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hl7_runtime::ack::{build, AckOptions, Decision, Identity};
use hl7_runtime::ParseOptions;

fn invalid() -> Vec<u8> {
    // MSH-12 2.3 instead of 2.5.1, and no PID-3: errors of the guide, still a flow-3 ORU.
    let bytes = benches::fixture(benches::ORU_FT);
    let text = String::from_utf8(bytes).unwrap().replacen("|2.5.1|", "|2.3|", 1);
    let start = text.find("\rPID|||").unwrap() + 7;
    let end = start + text[start..].find('|').unwrap();
    format!("{}{}", &text[..start], &text[end..]).into_bytes()
}

fn ack(c: &mut Criterion) {
    let clock = || "20260106171300".to_owned();
    let next_id = || "ACK-000001".to_owned();
    let opts = AckOptions { receiver: Identity { application: "RIS".into(), facility: "CHU_X".into() }, clock: &clock, next_id: &next_id };
    let popts = ParseOptions::default();
    let mut group = c.benchmark_group("ack");
    for (label, bytes) in [("AA", benches::fixture(benches::ORU_FT)), ("AE", invalid())] {
        let checked = telerad::check(&bytes, &popts, None).unwrap();
        let errors = checked.findings.iter().filter(|f| f.severity == hl7_runtime::validate::Severity::Error).count();
        assert_eq!(errors == 0, label == "AA", "{label}: {:?}", checked.findings);
        let inbound = &checked.message.as_ref().unwrap().placed().message;
        group.bench_function(format!("build-{label}"), |b| {
            b.iter(|| build(Some(black_box(inbound)), &bytes, &checked.findings, Decision::Accept, &opts).map(|a| a.len()))
        });
        group.bench_function(format!("check+build-{label}"), |b| {
            b.iter(|| {
                let checked = telerad::check(black_box(&bytes), &popts, None).unwrap();
                let inbound = checked.message.as_ref().map(|m| &m.placed().message);
                build(inbound, &bytes, &checked.findings, Decision::Accept, &opts).map(|a| a.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ack);
criterion_main!(benches);
