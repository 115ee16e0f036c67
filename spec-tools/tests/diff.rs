//! `hl7-codegen diff`: edits of a copy of spec/ and the report they give.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};

use hl7_spec_tools::diff::{diff, run, Change, Kind, Report};

mod common;
use common::copy_dir;
use serde_json::{json, Value};

/// spec/, or the folder in `HL7_DIFF_TEST_SPEC` (to check these tests against another revision
/// while spec/ is being edited).
fn spec_dir() -> PathBuf {
    match std::env::var_os("HL7_DIFF_TEST_SPEC") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec"),
    }
}

/// A fresh copy of spec/ under the temp dir, removed on drop.
struct Copy(PathBuf);

impl Copy {
    fn new(tag: &str) -> Copy {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!("hl7-diff-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&spec_dir(), &dir);
        Copy(dir)
    }

    fn edit(&self, rel: &str, f: impl FnOnce(&mut Value)) {
        let path = self.0.join(rel);
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const FLUX1: &str = "telerad/flux1_orm_o01_nw.tables.json";

/// The element of a structure list at a group path (`ORDER/ORDER_DETAIL`).
fn structure_element<'v>(v: &'v mut Value, path: &str) -> &'v mut Value {
    let mut list = &mut v["structure"];
    let mut parts = path.split('/').peekable();
    loop {
        let name = parts.next().unwrap();
        let arr = list.as_array_mut().unwrap();
        let el = arr.iter_mut().find(|e| e["group"] == name || e["segment"] == name).unwrap();
        if parts.peek().is_none() {
            return el;
        }
        list = &mut el["children"];
    }
}

fn usage_r_to_re(c: &Copy) {
    c.edit(FLUX1, |v| {
        let el = structure_element(v, "ORDER/ORDER_DETAIL");
        el["usage"] = json!("RE");
        el["min"] = json!(0);
    });
}

fn remove_rqd(c: &Copy) {
    c.edit(FLUX1, |v| {
        let od = structure_element(v, "ORDER/ORDER_DETAIL");
        od["children"].as_array_mut().unwrap().retain(|e| e["segment"] != "RQD");
    });
}

fn add_code(c: &Copy) {
    c.edit("telerad/code_tables.tables.json", |v| {
        v["tables"]["TLR_OBSERVATION"]["values"].as_array_mut().unwrap().push(json!({ "code": "TEMPERATURE", "description": "Température corporelle" }));
    });
}

fn drop_fixed(c: &Copy) {
    c.edit(FLUX1, |v| {
        let orc = v["segments"].as_array_mut().unwrap().iter_mut().find(|s| s["segment"] == "ORC").unwrap();
        let el = orc["elements"].as_array_mut().unwrap().iter_mut().find(|e| e["path"] == "ORC-12.9.3").unwrap();
        el.as_object_mut().unwrap().remove("fixed");
    });
}

fn add_slice(c: &Copy) {
    c.edit(FLUX1, |v| {
        let slices = v["slices"].as_array_mut().unwrap();
        let mut s = slices.iter().find(|s| s["name"] == "body_weight").unwrap().clone();
        s["name"] = json!("body_temperature");
        s["title"] = json!("Température corporelle");
        s["discriminator"] = json!([{ "path": "OBX-3.1", "value": "8310-5" }]);
        for e in s["segments"][0]["elements"].as_array_mut().unwrap() {
            if e["path"] == "OBX-3.1" {
                e["fixed"] = json!("8310-5");
            }
        }
        slices.push(s);
    });
}

fn model(dir: &Path) -> hl7_codegen::model::Model {
    hl7_spec_tools::codegen_config(dir).model().unwrap_or_else(|e| panic!("{e}"))
}

fn report(c: &Copy) -> Report {
    diff(&model(&spec_dir()), &model(&c.0))
}

fn change(kind: Kind, profile: Option<&str>, path: &str, old: Option<&str>, new: Option<&str>, api: &[&str]) -> Change {
    Change {
        kind,
        profile: profile.map(str::to_owned),
        path: path.to_owned(),
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
        breaking: api.iter().any(|a| a.ends_with(" (breaking)")),
        api: api.iter().map(|a| (*a).to_owned()).collect(),
    }
}

const F1: Option<&str> = Some("flux1_orm_o01_nw");

fn usage_entries() -> Vec<Change> {
    vec![
        change(
            Kind::UsageChanged,
            F1,
            "ORDER/ORDER_DETAIL",
            Some("R"),
            Some("RE"),
            &[
                "flux1_orm_o01_nw::OrderBuilder::new(order_detail): OrderDetailBuilder → (none) (breaking)",
                "flux1_orm_o01_nw::Order::order_detail(): Result<OrderDetail, Missing> → Option<OrderDetail> (breaking)",
                "flux1_orm_o01_nw::OrderBuilder.order_detail: OrderDetailBuilder → Option<OrderDetailBuilder> (breaking)",
            ],
        ),
        change(Kind::CardinalityChanged, F1, "ORDER/ORDER_DETAIL", Some("1..1"), Some("0..1"), &[]),
    ]
}

fn removal_entries() -> Vec<Change> {
    vec![change(
        Kind::SegmentRemoved,
        F1,
        "ORDER/ORDER_DETAIL/RQD",
        Some("segment O 0..1"),
        None,
        &["flux1_orm_o01_nw::OrderDetail::rqd(): Option<Rqd> → (none) (breaking)", "flux1_orm_o01_nw::OrderDetailBuilder.rqd: Option<RqdBuilder> → (none) (breaking)"],
    )]
}

fn code_entries() -> Vec<Change> {
    vec![change(Kind::CodeAdded, None, "TLR_OBSERVATION", None, Some("TEMPERATURE"), &[])]
}

fn fixed_entries() -> Vec<Change> {
    vec![change(Kind::FixedChanged, F1, "ORC-12.9.3", Some("ISO"), None, &[])]
}

fn slice_entries() -> Vec<Change> {
    vec![change(
        Kind::SliceAdded,
        F1,
        "ORDER/ORDER_DETAIL/OBSERVATION:body_temperature",
        None,
        Some("slice O 0..1 where OBX-3.1 = 8310-5, OBX-5 NM"),
        &[
            "flux1_orm_o01_nw::OrderDetail::body_temperature(): (none) → Option<BodyTemperature>",
            "flux1_orm_o01_nw::BodyTemperature: (none) → struct",
            "flux1_orm_o01_nw::BodyTemperature::value(): (none) → Option<Nm>",
        ],
    )]
}

#[test]
fn spec_against_itself_is_empty() {
    let r = diff(&model(&spec_dir()), &model(&spec_dir()));
    assert!(r.is_empty());
    assert!(!r.has_breaking());
    assert_eq!(r.to_string(), "no changes\n");
    assert_eq!(serde_json::to_value(&r).unwrap(), json!({ "summary": { "changes": 0, "breaking": 0 }, "changes": [] }));
    assert_eq!(r.exit_code(true), 0);
    assert_eq!(run(&spec_dir(), &spec_dir(), false, true), ExitCode::from(0));
    // An untouched copy is the same spec too: nothing depends on where the folder is.
    let c = Copy::new("same");
    assert_eq!(run(&spec_dir(), &c.0, true, true), ExitCode::from(0));
}

#[test]
fn usage_r_to_re_turns_result_into_option_and_breaks() {
    let c = Copy::new("usage");
    usage_r_to_re(&c);
    let r = report(&c);
    assert_eq!(r.changes, usage_entries());
    assert!(r.has_breaking());
    assert_eq!(r.exit_code(false), 1);
    assert_eq!(r.exit_code(true), 3);
}

#[test]
fn removing_a_segment_from_a_group_breaks() {
    let c = Copy::new("remove");
    remove_rqd(&c);
    let r = report(&c);
    assert_eq!(r.changes, removal_entries());
    assert!(r.has_breaking());
}

#[test]
fn a_new_code_is_reported_and_not_breaking() {
    let c = Copy::new("code");
    add_code(&c);
    let r = report(&c);
    assert_eq!(r.changes, code_entries());
    assert!(!r.has_breaking());
    assert_eq!(r.to_string(), "base TLR_OBSERVATION + TEMPERATURE\n1 change(s), 0 breaking\n");
    assert_eq!(r.exit_code(true), 1);
}

#[test]
fn a_fixed_value_change_is_reported_and_not_breaking() {
    let c = Copy::new("fixed");
    drop_fixed(&c);
    let r = report(&c);
    assert_eq!(r.changes, fixed_entries());
    assert_eq!(r.to_string(), "flux1_orm_o01_nw ORC-12.9.3 fixed ISO → (none)\n1 change(s), 0 breaking\n");
    // A changed (not removed) value reads the same way.
    let c = Copy::new("fixed2");
    c.edit(FLUX1, |v| {
        let orc = v["segments"].as_array_mut().unwrap().iter_mut().find(|s| s["segment"] == "ORC").unwrap();
        let el = orc["elements"].as_array_mut().unwrap().iter_mut().find(|e| e["path"] == "ORC-12.9.3").unwrap();
        el["fixed"] = json!("DNS");
    });
    assert_eq!(report(&c).changes, vec![change(Kind::FixedChanged, F1, "ORC-12.9.3", Some("ISO"), Some("DNS"), &[])]);
}

#[test]
fn a_new_slice_adds_api_without_breaking() {
    let c = Copy::new("slice");
    add_slice(&c);
    let r = report(&c);
    assert_eq!(r.changes, slice_entries());
    assert!(!r.has_breaking());
}

const ALL_TEXT: &str = "\
base TLR_OBSERVATION + TEMPERATURE
flux1_orm_o01_nw ORDER/ORDER_DETAIL usage R → RE (breaking)
    flux1_orm_o01_nw::OrderBuilder::new(order_detail): OrderDetailBuilder → (none) (breaking)
    flux1_orm_o01_nw::Order::order_detail(): Result<OrderDetail, Missing> → Option<OrderDetail> (breaking)
    flux1_orm_o01_nw::OrderBuilder.order_detail: OrderDetailBuilder → Option<OrderDetailBuilder> (breaking)
flux1_orm_o01_nw ORDER/ORDER_DETAIL cardinality 1..1 → 0..1
flux1_orm_o01_nw ORDER/ORDER_DETAIL/RQD - segment O 0..1 (breaking)
    flux1_orm_o01_nw::OrderDetail::rqd(): Option<Rqd> → (none) (breaking)
    flux1_orm_o01_nw::OrderDetailBuilder.rqd: Option<RqdBuilder> → (none) (breaking)
flux1_orm_o01_nw ORDER/ORDER_DETAIL/OBSERVATION:body_temperature + slice O 0..1 where OBX-3.1 = 8310-5, OBX-5 NM
    flux1_orm_o01_nw::OrderDetail::body_temperature(): (none) → Option<BodyTemperature>
    flux1_orm_o01_nw::BodyTemperature: (none) → struct
    flux1_orm_o01_nw::BodyTemperature::value(): (none) → Option<Nm>
flux1_orm_o01_nw ORC-12.9.3 fixed ISO → (none)
6 change(s), 2 breaking
";

#[test]
fn all_edits_together_text_json_and_exit_codes() {
    let c = Copy::new("all");
    usage_r_to_re(&c);
    remove_rqd(&c);
    add_code(&c);
    drop_fixed(&c);
    add_slice(&c);
    let r = report(&c);
    // Base first, then the profile in structure order (usage, removal, slice), then constraints.
    let expected: Vec<Change> = [code_entries(), usage_entries(), removal_entries(), slice_entries(), fixed_entries()].concat();
    assert_eq!(r.changes, expected);
    assert_eq!(r.to_string(), ALL_TEXT);

    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["summary"], json!({ "changes": 6, "breaking": 2 }));
    assert_eq!(v["changes"].as_array().unwrap().len(), 6);
    assert_eq!(
        v["changes"][0],
        json!({ "kind": "code_added", "profile": null, "path": "TLR_OBSERVATION", "old": null, "new": "TEMPERATURE", "breaking": false, "api": [] })
    );
    assert_eq!(
        v["changes"][3],
        json!({
            "kind": "segment_removed", "profile": "flux1_orm_o01_nw", "path": "ORDER/ORDER_DETAIL/RQD",
            "old": "segment O 0..1", "new": null, "breaking": true,
            "api": [
                "flux1_orm_o01_nw::OrderDetail::rqd(): Option<Rqd> → (none) (breaking)",
                "flux1_orm_o01_nw::OrderDetailBuilder.rqd: Option<RqdBuilder> → (none) (breaking)"
            ]
        })
    );
    assert_eq!(
        v["changes"][5],
        json!({ "kind": "fixed_changed", "profile": "flux1_orm_o01_nw", "path": "ORC-12.9.3", "old": "ISO", "new": null, "breaking": false, "api": [] })
    );
    // Every entry has the same keys in the same order: the format is flat and stable.
    for e in v["changes"].as_array().unwrap() {
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["kind", "profile", "path", "old", "new", "breaking", "api"]);
    }

    assert_eq!(run(&spec_dir(), &c.0, false, false), ExitCode::from(1));
    assert_eq!(run(&spec_dir(), &c.0, true, false), ExitCode::from(1));
    assert_eq!(run(&spec_dir(), &c.0, false, true), ExitCode::from(3));
    // Backwards, the removals become additions: the usage change still breaks (a new required
    // `new` parameter), the slice's removal breaks too.
    assert_eq!(run(&c.0, &spec_dir(), false, true), ExitCode::from(3));
}

#[test]
fn non_breaking_edits_pass_fail_on_breaking() {
    let c = Copy::new("nonbreaking");
    add_code(&c);
    drop_fixed(&c);
    add_slice(&c);
    let r = report(&c);
    assert_eq!(r.changes, [code_entries(), slice_entries(), fixed_entries()].concat());
    assert!(!r.has_breaking());
    assert_eq!(run(&spec_dir(), &c.0, false, true), ExitCode::from(1));
}

#[test]
fn unreadable_or_broken_spec_is_exit_2() {
    let missing = std::env::temp_dir().join(format!("hl7-diff-missing-{}", std::process::id()));
    assert_eq!(run(&spec_dir(), &missing, false, false), ExitCode::from(2));
    let c = Copy::new("broken");
    c.edit(FLUX1, |v| structure_element(v, "ORDER")["usage"] = json!("Z"));
    assert_eq!(run(&c.0, &spec_dir(), true, true), ExitCode::from(2));
}

#[test]
fn backwards_a_required_child_is_a_new_new_parameter() {
    let c = Copy::new("back");
    usage_r_to_re(&c);
    let r = diff(&model(&c.0), &model(&spec_dir()));
    assert_eq!(
        r.changes[0],
        change(
            Kind::UsageChanged,
            F1,
            "ORDER/ORDER_DETAIL",
            Some("RE"),
            Some("R"),
            &[
                "flux1_orm_o01_nw::Order::order_detail(): Option<OrderDetail> → Result<OrderDetail, Missing> (breaking)",
                "flux1_orm_o01_nw::OrderBuilder.order_detail: Option<OrderDetailBuilder> → OrderDetailBuilder (breaking)",
                "flux1_orm_o01_nw::OrderBuilder::new(order_detail): (none) → OrderDetailBuilder (breaking)",
            ],
        )
    );
}

#[test]
fn base_field_usage_change_reaches_segment_accessors_and_builders() {
    let c = Copy::new("base");
    c.edit("hl7v2.5.1/segments.json", |v| {
        let f = &mut v["segments"]["ORC"]["fields"][1];
        assert_eq!(f["pos"], json!(2));
        f["usage"] = json!("R");
        f["min"] = json!(1);
    });
    let r = report(&c);
    assert_eq!(
        r.changes,
        vec![
            change(
                Kind::UsageChanged,
                None,
                "ORC-2",
                Some("O"),
                Some("R"),
                &[
                    "segments::Orc::placer_order_number(): Option<Ei> → Result<Ei, Missing> (breaking)",
                    "segments::Orc::orc_2(): Option<Ei> → Result<Ei, Missing> (breaking)",
                    "segments::OrcBuilder::new(placer_order_number): (none) → impl Into<EiValue> (breaking)",
                ],
            ),
            change(Kind::CardinalityChanged, None, "ORC-2", Some("0..1"), Some("1..1"), &[]),
        ]
    );
}
