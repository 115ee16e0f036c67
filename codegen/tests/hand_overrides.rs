//! Hand choices the tables cannot carry (structure, slice and reuse overrides of
//! spec/HAND-FORMAT.md) change the model as documented.

use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn spec_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hl7-codegen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec"), &dir);
    dir
}

fn edit_hand(dir: &Path, profile: &str, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let path = dir.join(format!("telerad/{profile}.hand.json"));
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(v.as_object_mut().unwrap());
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

fn find_group<'m>(g: &'m hl7_codegen::model::Group, path: &str) -> Option<&'m hl7_codegen::model::Group> {
    if g.path == path {
        return Some(g);
    }
    g.children.iter().find_map(|c| match c {
        hl7_codegen::model::Node::Group(inner) => find_group(inner, path),
        _ => None,
    })
}

#[test]
fn structure_slice_and_reuse_overrides() {
    let dir = spec_copy("overrides");
    edit_hand(&dir, "flux2_orm_o01_ca", |h| {
        h.insert("structure_overrides".into(), serde_json::json!([
            { "path": "ORDER/ORDER_DETAIL/OBSERVATION", "usage": "R", "min": 1, "max": 3, "src": "test" },
            { "path": "PATIENT/PD1", "usage": "X", "max": 0, "src": "test" }
        ]));
        h.insert("slices".into(), serde_json::json!([
            { "group": "ORDER/ORDER_DETAIL/OBSERVATION", "name": "modality", "usage": "O", "min": 0, "max": 1, "src": "test",
              "reuse": { "profile": "flux1_orm_o01_nw", "slice": "modality" },
              "overrides": [ { "path": "OBX-11", "fixed": "X", "src": "test" } ] }
        ]));
    });
    edit_hand(&dir, "flux1_orm_o01_nw", |h| {
        h.insert("slice_overrides".into(), serde_json::json!([ { "slice": "history", "max": "*", "src": "test" } ]));
    });
    let model = hl7_codegen::Config::new(dir.join("telerad")).model().unwrap_or_else(|e| panic!("{e}"));
    let f2 = model.profiles.iter().find(|p| p.id == "flux2_orm_o01_ca").unwrap();
    let obs = find_group(&f2.root, "ORDER/ORDER_DETAIL/OBSERVATION").unwrap();
    assert_eq!((obs.min, obs.max), (1, 3));
    let modality = obs.slices.iter().find(|s| s.name == "modality").expect("reused slice");
    assert_eq!(modality.value_type.as_deref(), Some("CE"));
    let obx11 = modality.segments.iter().flat_map(|s| &s.elements).find(|e| e.path.text == "OBX-11").unwrap();
    assert_eq!(obx11.fixed.as_deref(), Some("X"));
    let f1 = model.profiles.iter().find(|p| p.id == "flux1_orm_o01_nw").unwrap();
    let history = find_group(&f1.root, "ORDER/ORDER_DETAIL/OBSERVATION").unwrap().slices.iter().find(|s| s.name == "history").unwrap();
    assert_eq!(history.max, hl7_codegen::model::UNBOUNDED);
    let _ = std::fs::remove_dir_all(&dir);
}
