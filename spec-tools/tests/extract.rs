//! The extractor against the guide: the current revision reproduces the committed tables files
//! byte for byte; the two earlier revisions extract, with their unreadable cells reported.

mod common;
use common::{guide, repo};



use hl7_spec_tools::extract;

#[test]
fn current_revision_reproduces_committed_tables() {
    let Some(ig) = guide("") else { return };
    let out = std::env::temp_dir().join(format!("hl7-extract-{}-{:?}", std::process::id(), std::thread::current().id()));
    let _ = std::fs::remove_dir_all(&out);
    let code = extract::run(&ig, &out, false);
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let names = [
        "flux1_orm_o01_nw",
        "flux2_orm_o01_ca",
        "flux3_oru_r01",
        "flux4_omi_o23",
        "ack",
        "common",
        "code_tables",
    ];
    for n in names {
        let file = format!("{n}.tables.json");
        let got = std::fs::read_to_string(out.join("telerad").join(&file)).unwrap();
        let want = std::fs::read_to_string(repo().join("spec/telerad").join(&file)).unwrap();
        assert!(got == want, "{file} differs from the committed file");
    }
    let _ = std::fs::remove_dir_all(&out);

    let (files, report) = extract::extract(&ig).unwrap();
    assert_eq!(files.len(), 7);
    assert_eq!(
        report.lines(),
        vec![
            "st-contraintes.md#t1.r15: MSH-21.1: value '(1.0)' is not a code",
            "st-profils.md#t1.r32: usage '1' is not a usage code",
            "st-profils.md#t4.r9: cardinality '[R..1]' is not [min..max]",
        ]
    );
}

fn json(files: &std::collections::BTreeMap<String, String>, name: &str) -> serde_json::Value {
    serde_json::from_str(&files[name]).unwrap()
}

fn slice_element<'a>(f: &'a serde_json::Value, slice: &str, path: &str) -> Option<&'a serde_json::Value> {
    let s = f["slices"].as_array()?.iter().find(|s| s["name"] == slice)?;
    s["segments"][0]["elements"].as_array()?.iter().find(|e| e["path"] == path)
}

#[test]
fn earlier_revisions_extract_and_report() {
    for rev in ["history/0469084", "history/5fbc622"] {
        let Some(ig) = guide(rev) else { return };
        let (files, report) = extract::extract(&ig).unwrap_or_else(|e| panic!("{rev}: {e}"));
        assert_eq!(files.len(), 7, "{rev}");
        let lines = report.lines();
        // Every finding names page, table and row.
        for f in &report.findings {
            assert!(f.src.contains(".md#t") && f.src.contains(".r"), "{rev}: {f:?}");
        }
        // The structure tables did not change: their two unreadable cells are reported.
        assert!(lines.iter().any(|l| l == "st-profils.md#t1.r32: usage '1' is not a usage code"), "{rev}");
        assert!(lines.iter().any(|l| l == "st-profils.md#t4.r9: cardinality '[R..1]' is not [min..max]"), "{rev}");
        // The history table writes OBX-3.3 under OBX-8: reported, not taken.
        assert!(lines.iter().any(|l| l == "st_flux1.md#t8.r13: OBX-3.3 is not a part of OBX-8, the row above"), "{rev}: {lines:?}");
        let f1 = json(&files, "flux1_orm_o01_nw.tables.json");
        let history_33: Vec<_> = f1["slices"].as_array().unwrap().iter().filter(|s| s["name"] == "history").flat_map(|s| s["segments"][0]["elements"].as_array().unwrap().iter().filter(|e| e["path"] == "OBX-3.3")).collect();
        assert_eq!(history_33.len(), 1, "{rev}");
        let orc = f1["segments"].as_array().unwrap().iter().find(|s| s["segment"] == "ORC").unwrap();
        let orc_elems = orc["elements"].as_array().unwrap();
        // Components are read with or without the '>' marker.
        assert!(orc_elems.iter().any(|e| e["path"] == "ORC-12.9.2" && e["fixed"] == "1.2.250.1.71.4.2.1"), "{rev}");
        let f4 = json(&files, "flux4_omi_o23.tables.json");
        let viewer_obx2 = slice_element(&f4, "viewer_url", "OBX-2").map(|e| e["fixed"].clone());
        let region_system = slice_element(&f1, "anatomical_region", "OBX-5.3").map(|e| e["fixed"].clone());
        let has_orc2_parts = orc_elems.iter().any(|e| e["path"].as_str().unwrap_or("").starts_with("ORC-2."));
        if rev.ends_with("0469084") {
            // No '>' markers, SNT rather than SCT, no ORC-2 components, viewer URL sent as TX.
            assert_eq!(region_system, Some("SNT".into()));
            assert!(!has_orc2_parts);
            assert_eq!(viewer_obx2, Some("TX".into()));
        } else {
            assert_eq!(region_system, Some("SCT".into()));
            assert!(has_orc2_parts);
            assert_eq!(viewer_obx2, Some("ED".into()));
        }
    }
}
