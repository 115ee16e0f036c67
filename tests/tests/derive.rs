//! Derived types behave exactly like generated ones.
//!
//! OBX is re-declared with `#[derive(Segment)]` (`telerad_tests::derived`), field for field as
//! HL7 v2.5.1 defines it, and
//! held to the generated `Obx` on the project's flow-3 and flow-4 messages: the same definition,
//! the same values read, the same findings and JSON when the derived definition stands in for
//! the generated one, the same bytes encoded. EI is re-declared with `#[derive(DataType)]` the
//! same way. Then the ZTL extension of `telerad/examples/z_segment/` is exercised: selection,
//! the guide's rules through `extends`, the segment's own constraints and the message's rule.

use hl7_derive::DataType;
use hl7_runtime::json;
use hl7_runtime::meta::{FieldDef, Registry, SegmentDef};
use hl7_runtime::typed::{FromPart, Part, Placed, SegmentType, Varies};
use hl7_runtime::validate::{self, Finding, Severity};
use hl7_runtime::{select, Message as Er7};
use telerad::datatypes::{Ei, Id, Is, St};
use telerad::segments::{Obx, SEG_OBX};
use telerad::{AnyMessage, REGISTRY};
use telerad_tests::derived::DerivedObx;
use telerad_tests::fixture;

#[derive(DataType, Debug)]
#[hl7(id = "EI", name = "Entity Identifier")]
pub struct DerivedEi<'a> {
    #[hl7(component = 1, datatype = "ST", len = 199, name = "Entity Identifier")]
    pub entity_identifier: Option<St<'a>>,
    #[hl7(component = 2, datatype = "IS", len = 20, table = "0363", name = "Namespace ID")]
    pub namespace_id: Option<Is<'a>>,
    #[hl7(component = 3, datatype = "ST", usage = "C", len = 199, name = "Universal ID")]
    pub universal_id: Option<St<'a>>,
    #[hl7(component = 4, datatype = "ID", usage = "C", len = 6, table = "0301", name = "Universal ID Type")]
    pub universal_id_type: Option<Id<'a>>,
    #[hl7(part)]
    pub part: Part<'a>,
}

fn same_field(a: &FieldDef, b: &FieldDef) {
    let dt = |f: &FieldDef| f.datatype.map(|d| d.id);
    assert_eq!((a.pos, a.name, a.ident, dt(a), a.usage, a.min, a.max, a.len, a.table), (b.pos, b.name, b.ident, dt(b), b.usage, b.min, b.max, b.len, b.table), "OBX-{}", a.pos);
}

#[test]
fn a_derived_obx_has_the_generated_definition() {
    let derived: &SegmentDef = DerivedObx::DEF;
    assert_eq!((derived.id, derived.name, derived.fields.len()), (SEG_OBX.id, SEG_OBX.name, SEG_OBX.fields.len()));
    for (a, b) in derived.fields.iter().zip(SEG_OBX.fields) {
        same_field(a, b);
        // Composite datatypes are the very same statics, not copies.
        if let (Some(x), Some(y)) = (a.datatype, b.datatype) {
            assert!(std::ptr::eq(x, y), "OBX-{}: {} is not the generated definition", a.pos, x.id);
        }
    }
    assert!(derived.constraints.is_none() && SEG_OBX.constraints.is_none());
}

#[test]
fn a_derived_ei_has_the_generated_definition() {
    let derived = DerivedEi::DEF;
    let generated = <Ei<'_> as FromPart<'_>>::DEF.expect("EI is composite");
    assert_eq!((derived.id, derived.name, derived.components.len()), (generated.id, generated.name, generated.components.len()));
    for (a, b) in derived.components.iter().zip(generated.components) {
        assert_eq!((a.pos, a.name, a.datatype.id, a.usage, a.len, a.table), (b.pos, b.name, b.datatype.id, b.usage, b.len, b.table));
    }
}

/// The messages with OBX segments of every kind the guide uses (CE, FT, ED, NM, TX, XCN …).
const WITH_OBX: &[&str] = &["flux1_nw_full.hl7", "flux3_ok_ft.hl7", "flux3_ok_ed.hl7", "flux4_sr.hl7", "flux4_sr_three_orders.hl7", "flux1_nw_escapes.hl7"];

fn texts<'a, T>(values: impl IntoIterator<Item = T>, part: impl Fn(&T) -> Part<'a>) -> Vec<(String, Vec<u8>)> {
    values.into_iter().map(|v| (part(&v).text().into_owned(), part(&v).raw().to_vec())).collect()
}

#[test]
fn a_derived_obx_reads_every_value_the_generated_one_reads() {
    let mut compared = 0;
    for name in WITH_OBX {
        let bytes = fixture(name);
        let message = Er7::parse(&bytes).expect(name);
        for seg in message.segments_by_id("OBX") {
            let d = DerivedObx::from_segment(seg);
            let g = Obx::from_segment(seg);
            assert_eq!(d.set_id_obx.map(|v| v.raw()), g.set_id_obx().map(|v| v.raw()), "{name}");
            assert_eq!(d.value_type.map(|v| v.text()), g.value_type().map(|v| v.text()), "{name}");
            assert_eq!(d.observation_identifier.map(|v| v.part().raw()), g.observation_identifier().map(|v| v.part().raw()), "{name}");
            assert_eq!(texts(d.observation_value, Varies::part), texts(g.observation_value(), Varies::part), "{name}");
            assert_eq!(d.units.map(|v| v.part().text()), g.units().map(|v| v.part().text()), "{name}");
            assert_eq!(texts(d.abnormal_flags, |v| v.part()), texts(g.abnormal_flags(), |v| v.part()), "{name}");
            assert_eq!(d.observation_result_status.map(|v| v.text()), g.observation_result_status().map(|v| v.text()), "{name}");
            assert_eq!(texts(d.responsible_observer, |v| v.part()), texts(g.responsible_observer(), |v| v.part()), "{name}");
            assert_eq!(d.performing_organization_name.map(|v| v.part().text()), g.performing_organization_name().map(|v| v.part().text()), "{name}");
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} OBX segments compared");
}

#[test]
fn a_derived_ei_reads_like_the_generated_one() {
    let bytes = fixture("flux4_sr_three_orders.hl7");
    let message = Er7::parse(&bytes).expect("parses");
    let mut compared = 0;
    for seg in message.segments_by_id("ORC").chain(message.segments_by_id("IPC")) {
        let Some(rep) = seg.field(2).repetition(1) else { continue };
        let part = Part::Repetition(rep);
        let (d, g) = (DerivedEi::from_part(part), Ei::from_part(part));
        assert_eq!(d.entity_identifier.map(|v| v.text()), g.entity_identifier().map(|v| v.text()));
        assert_eq!(d.universal_id.map(|v| v.text()), g.universal_id().map(|v| v.text()));
        assert_eq!(d.universal_id_type.map(|v| v.text()), g.universal_id_type().map(|v| v.text()));
        assert_eq!(d.namespace_id.map(|v| v.text()), g.namespace_id().map(|v| v.text()));
        assert_eq!(d.part.raw(), g.part().raw());
        compared += 1;
    }
    assert!(compared >= 3);
}

/// The guide's registry with the derived OBX (and EI) standing in for the generated ones.
static WITH_DERIVED: Registry = Registry::extend(&REGISTRY, &[DerivedObx::DEF], &[DerivedEi::DEF], &[]);

#[test]
fn with_the_derived_obx_validation_json_and_encoding_are_unchanged() {
    for name in WITH_OBX {
        let bytes = fixture(name);
        let any = AnyMessage::from_message(Er7::parse(&bytes).expect(name)).expect(name);
        let placed = any.placed();
        assert!(std::ptr::eq(WITH_DERIVED.segment("OBX").expect("OBX"), DerivedObx::DEF), "the extension shadows the base");
        assert_eq!(validate::validate(placed, &WITH_DERIVED), validate::validate(placed, &REGISTRY), "{name}");
        assert_eq!(json::message(placed, &WITH_DERIVED), json::message(placed, &REGISTRY), "{name}");
        for seg in placed.message.segments_by_id("OBX") {
            assert_eq!(json::segment_value(seg, Some(DerivedObx::DEF), &REGISTRY), json::segment_value(seg, Some(&SEG_OBX), &REGISTRY), "{name}");
        }
        assert_eq!(placed.encode(), bytes, "{name}");
    }
}

// ------------------------------------------------------------------ the ZTL extension

// The example's own declarations, so that what it shows is what is tested.
#[path = "../../telerad/examples/z_segment/ztl.rs"]
mod ztl;
use ztl::{RequestWithZtl, Ztl};

static WITH_ZTL: Registry = Registry::extend(&REGISTRY, &[Ztl::DEF], &[], &[RequestWithZtl::DEF]);

fn errors(placed: &Placed<'_>) -> Vec<Finding> {
    validate::validate(placed, &WITH_ZTL).into_iter().filter(|f| f.severity == Severity::Error).collect()
}

fn with_ztl(ztl: &str) -> Vec<u8> {
    let bytes = fixture("flux1_nw_ztl.hl7");
    let at = bytes.windows(4).position(|w| w == b"ZTL|").expect("the fixture ends with a ZTL");
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(ztl.as_bytes());
    out.push(b'\r');
    out
}

#[test]
fn the_ztl_profile_is_selected_placed_and_read() {
    let bytes = fixture("flux1_nw_ztl.hl7");
    let message = Er7::parse(&bytes).expect("parses");
    let def = select::profile(&message, &WITH_ZTL).expect("a profile");
    assert_eq!(def.profile, "flux1_orm_o01_nw_ztl");
    // The guide alone still reads it as flow 1 (the ZTL an unexpected Z segment).
    assert_eq!(select::profile(&message, &REGISTRY).expect("flow 1").profile, "flux1_orm_o01_nw");
    let placed = Placed::new(message, def);
    assert!(placed.check_structure().is_empty(), "{:?}", placed.check_structure());
    let typed = RequestWithZtl::from_placed(&placed);
    assert_eq!(typed.msh.expect("MSH").message_control_id().expect("MSH-10").text(), "CHUXF1-20260106-0009");
    assert!(typed.nte.is_empty());
    assert!(typed.patient.expect("PATIENT").pid().is_ok());
    let ztl = typed.ztl.expect("ZTL");
    assert_eq!((ztl.segment.id(), ztl.segment.index()), ("ZTL", placed.message.segment_count() - 1));
    assert_eq!(ztl.study_instance_uid.expect("ZTL-1").text(), "1.2.250.1.213.4.5.2.1.778");
    assert_eq!(ztl.priority.expect("ZTL-2").text(), "U");
    assert_eq!(ztl.reason.count(), 1);
    assert_eq!(typed.order.len(), 1);
    assert_eq!(typed.order[0].orc().expect("ORC").order_control().expect("ORC-1").text(), "NW");
    assert!(errors(&placed).is_empty(), "{:?}", errors(&placed));
    assert_eq!(placed.encode(), bytes);
    let json = json::message(&placed, &WITH_ZTL);
    assert_eq!(json["ZTL"]["priority"], "U");
}

#[test]
fn the_ztl_own_constraints_and_rule_are_checked() {
    // ZTL-2 outside its values: the segment's own constraint.
    let bad_value = with_ztl("ZTL|1.2.3|X");
    let placed = RequestWithZtl::place(Er7::parse(&bad_value).expect("parses"));
    let found = errors(&placed);
    assert!(found.iter().any(|f| f.rule == "values:segment" && f.code == 103 && f.location.to_string().starts_with("ZTL[1]-2")), "{found:?}");
    // Urgent without a reason: the message's own rule.
    let urgent = with_ztl("ZTL|1.2.3|U");
    let placed = RequestWithZtl::place(Er7::parse(&urgent).expect("parses"));
    let found = errors(&placed);
    assert!(found.iter().any(|f| f.rule == "ZTL-URGENT" && f.code == 207), "{found:?}");
    // No ZTL at all: a structure error of the extended profile, not of the guide's.
    let bytes = fixture("flux1_nw_full.hl7");
    let placed = RequestWithZtl::place(Er7::parse(&bytes).expect("parses"));
    let found = errors(&placed);
    assert!(found.iter().any(|f| f.code == 100 && f.message.contains("ZTL")), "{found:?}");
    assert!(RequestWithZtl::from_placed(&placed).ztl.is_err());
}

#[test]
fn the_guide_rules_apply_through_extends() {
    // ORC-1 CA in a message of the NW profile breaks the guide's fixed ORC-1 value.
    let bytes = fixture("flux1_nw_ztl.hl7");
    let text = String::from_utf8(bytes).expect("UTF-8 fixture").replacen("ORC|NW|", "ORC|XX|", 1);
    let placed = RequestWithZtl::place(Er7::parse(text.as_bytes()).expect("parses"));
    let found = errors(&placed);
    assert!(found.iter().any(|f| f.location.to_string().starts_with("ORC[1]-1") && f.code == 103), "{found:?}");
}

#[test]
fn derived_types_report_absent_required_elements_like_generated_ones() {
    let bytes = b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1\rZTL||R\r";
    let message = Er7::parse(bytes).expect("parses");
    let seg = message.segments_by_id("ZTL").next().expect("ZTL");
    let ztl = Ztl::from_segment(seg);
    let missing = ztl.study_instance_uid.expect_err("ZTL-1 is empty");
    assert_eq!(missing.path, "ZTL-1");
    assert!(missing.location.is_some());
}
