//! Every implementation of the shared workloads reads the same PID-5.1 and ORC-2.1 on the
//! same bytes, and our OBX-5 values are what the typed API says they are.

#[path = "../benches/common/workloads.rs"]
mod workloads;

use workloads::*;

fn run(name: &str) -> Vec<(&'static str, Record)> {
    let bytes = benches::fixture(name);
    let esc = rust_hl7_decoder();
    let mut out = Vec::new();
    let mut rec = |label: &'static str, f: &dyn Fn(&mut Record) -> Option<()>| {
        let mut r = Record::default();
        assert!(f(&mut r).is_some(), "{label} cannot parse {name}");
        out.push((label, r));
    };
    rec("ours (typed)", &|r| ours_typed(&bytes, r));
    rec("ours (generic)", &|r| ours_generic(&bytes, r));
    rec("er7", &|r| er7_read(&bytes, r));
    rec("hl7-2", &|r| hl7_2_read(&bytes, r));
    rec("hl7-parser", &|r| hl7_parser_read(&bytes, r));
    rec("rust-hl7", &|r| rust_hl7_read(&bytes, &esc, r));
    rec("hl7-v2", &|r| hl7_v2_read(&bytes, r));
    out
}

#[test]
fn every_implementation_reads_the_same_pid_5_1_and_orc_2_1() {
    for (name, pid, orc) in [
        (benches::ORU_FT, "LEFEBVRE", "CMD-2026-000421"),
        (benches::ORU_ED_64K, "LEFEBVRE", "CMD-2026-000418"),
        (benches::OMI_10_ORDERS, "LEFEBVRE", "CMD-2026-000480"),
    ] {
        for (label, r) in run(name) {
            assert_eq!(r.pid5_1, [pid], "{label} on {name}");
            assert_eq!(r.orc2_1, [orc], "{label} on {name}");
            println!("{name}: {label}: {} OBX-5 values, {} bytes", r.obx5.len(), r.obx5.iter().map(String::len).sum::<usize>());
        }
    }
}

#[test]
fn obx_5_values_agree_where_the_implementations_decode_alike() {
    let results = run(benches::ORU_FT);
    let ours = &results[0].1.obx5;
    assert_eq!(ours, &results[1].1.obx5, "typed and generic");
    // The FT protocol: formatting commands kept, `\E\` decoded to the escape character.
    assert_eq!(ours.len(), 1);
    assert!(ours[0].starts_with("\\H\\Protocole IRM genou gauche\\N\\\\.br\\"), "{}", ours[0]);
    assert!(ours[0].contains("\\\\pacs-tlr\\entrant"), "{}", ours[0]);
    // er7 (and hl7-2 over it) decode the same way.
    assert_eq!(&results[2].1.obx5, ours, "er7");
    assert_eq!(&results[3].1.obx5, ours, "hl7-2");
    // hl7-v2 does not decode escapes: it hands back the raw text.
    assert!(results[6].1.obx5[0].contains("\\E\\\\E\\pacs-tlr"));

    // On the OMI, every implementation sees the same number of OBX-5 subcomponents.
    let results = run(benches::OMI_10_ORDERS);
    for (label, r) in &results {
        assert_eq!(r.obx5.len(), results[0].1.obx5.len(), "{label}");
    }
}

#[test]
fn the_visit_workload_sees_every_component() {
    for name in [benches::ORU_FT, benches::ORU_ED_64K, benches::OMI_10_ORDERS] {
        let bytes = benches::fixture(name);
        let counts = [
            ("ours", ours_visit(&bytes)),
            ("er7", er7_visit(&bytes)),
            ("hl7-2", hl7_2_visit(&bytes)),
            ("hl7-parser", hl7_parser_visit(&bytes)),
            ("rust-hl7", rust_hl7_visit(&bytes)),
            ("hl7-v2", hl7_v2_visit(&bytes)),
        ];
        for (label, n) in counts {
            let n = n.unwrap_or_else(|| panic!("{label} cannot parse {name}"));
            println!("{name}: {label}: visit checksum {n}");
            // Raw bytes of every component plus one per component: close to the message size
            // for everyone (they differ on MSH-1/MSH-2 and empty fields).
            assert!(n > bytes.len() / 2 && n < bytes.len() * 2, "{label} on {name}: {n} vs {}", bytes.len());
        }
    }
}
