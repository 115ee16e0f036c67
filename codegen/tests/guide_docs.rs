//! The generated documentation carries the guide: every element a profile constrains with the
//! guide's own words (its Description or Valeur cell) has them in the docs of the accessor that
//! reads its segment, with the constraint and the row they come from.

use std::path::Path;

use hl7_codegen::expand::doc_text;
use hl7_codegen::model::{ElementConstraint, Group, Profile, SegmentConstraints};

fn config() -> hl7_codegen::Config {
    hl7_codegen::Config::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/telerad"))
}

fn slices<'m>(g: &'m Group, out: &mut Vec<&'m SegmentConstraints>) {
    out.extend(g.slices.iter().flat_map(|s| &s.segments));
    for c in &g.children {
        if let hl7_codegen::model::Node::Group(inner) = c {
            slices(inner, out);
        }
    }
}

/// Every element constraint of the profile: its segments' (common ones included) and its slices'.
fn constraints(p: &Profile) -> Vec<&ElementConstraint> {
    let mut all: Vec<&SegmentConstraints> = p.segments.iter().collect();
    slices(&p.root, &mut all);
    all.into_iter().flat_map(|s| &s.elements).collect()
}

/// The doc comment lines of the item whose signature line starts with `signature`, for each
/// such item.
fn docs_before<'t>(text: &'t str, signature: &str) -> Vec<Vec<&'t str>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.trim_start().starts_with(signature) {
            // Attributes (`#[inline]`) may stand between the docs and the signature.
            let above = lines[..i].iter().rev().skip_while(|l| l.trim_start().starts_with("#["));
            let docs = above.take_while(|l| l.trim_start().starts_with("///")).map(|l| l.trim_start()).collect::<Vec<_>>();
            out.push(docs.into_iter().rev().collect());
        }
    }
    out
}

#[test]
fn every_element_with_the_guides_words_carries_them_in_the_generated_docs() {
    let model = config().model().unwrap_or_else(|e| panic!("{e}"));
    let files = config().generate().unwrap();
    let (mut checked, mut missing) = (0, Vec::new());
    for p in &model.profiles {
        let text = &files[&format!("{}.rs", p.id)];
        let doc_lines: Vec<&str> = text.lines().map(str::trim_start).filter(|l| l.starts_with("/// - `")).collect();
        for e in constraints(p) {
            let words: Vec<String> = [&e.description, &e.guide_value].into_iter().flatten().map(|w| doc_text(w)).collect();
            if words.is_empty() {
                continue;
            }
            checked += 1;
            let head = format!("/// - `{}` ", e.path.text);
            let found = doc_lines.iter().any(|l| l.starts_with(&head) && words.iter().all(|w| l.contains(w.as_str())) && l.ends_with(&e.src));
            if !found {
                missing.push(format!("{} {} ({})", p.id, e.path.text, e.src));
            }
        }
    }
    assert!(missing.is_empty(), "{} of {checked} elements lack the guide's words in the docs:\n{}", missing.len(), missing.join("\n"));
    // The extractor reads some 320 descriptions: the count guards against a filter that empties the check.
    assert!(checked > 300, "only {checked} elements with the guide's words");
}

#[test]
fn flow_3_order_control_and_observation_value_show_the_constraint_and_the_guides_words() {
    let files = config().generate().unwrap();
    let text = &files["flux3_oru_r01.rs"];
    let orc = docs_before(text, "pub fn orc(");
    assert_eq!(orc.len(), 1, "one ORC accessor in flow 3");
    let line = orc[0].iter().find(|l| l.starts_with("/// - `ORC-1` ")).expect("ORC-1 in the docs of orc()");
    assert!(line.starts_with("/// - `ORC-1` · R · OK | OC · table 0119 · Order control: Décision du médecin effecteur à distance"), "{line}");
    assert!(line.ends_with(" · st_flux3.md#t1.r4"), "{line}");
    let values = docs_before(text, "pub fn value(");
    let obx5: Vec<&&str> = values.iter().flatten().filter(|l| l.starts_with("/// - `OBX-5` ")).collect();
    assert!(obx5.iter().any(|l| **l == "/// - `OBX-5` · R · as FT · Observation Value: Protocole d'imagerie · st_flux3.md#t3.r10"), "{obx5:#?}");
    assert_eq!(obx5.len(), values.len(), "every OBX-5 accessor of flow 3 shows its constraint");
}

#[test]
fn shared_segment_accessors_list_what_each_profile_says_of_their_field() {
    // `order.orc()?.order_control()` returns the segment type every profile shares, so its
    // docs list each profile's constraint on ORC-1, flow 3's among them; OBX-5 lists each
    // slice's, with the slice named.
    let files = config().generate().unwrap();
    let text = &files["segments.rs"];
    let orc1 = docs_before(text, "pub fn order_control(");
    assert_eq!(orc1.len(), 1, "one ORC-1 accessor");
    let lines: Vec<&&str> = orc1[0].iter().filter(|l| l.starts_with("/// - ")).collect();
    assert_eq!(lines.len(), 4, "one line per profile that constrains ORC-1: {lines:#?}");
    let flux3 = lines.iter().find(|l| l.starts_with("/// - flux3_oru_r01: ")).expect("flow 3's line");
    assert!(flux3.starts_with("/// - flux3_oru_r01: `ORC-1` · R · OK | OC · table 0119 · Order control: Décision du médecin effecteur à distance"), "{flux3}");
    assert!(flux3.ends_with(" · st_flux3.md#t1.r4"), "{flux3}");
    assert!(lines.iter().any(|l| l.starts_with("/// - flux1_orm_o01_nw: `ORC-1` · R · = `NW` · table 0119")), "{lines:#?}");
    let obx5 = docs_before(text, "pub fn observation_value(");
    assert_eq!(obx5.len(), 1, "one OBX-5 accessor");
    assert!(
        obx5[0].contains(&"/// - flux3_oru_r01 (PATIENT_RESULT/ORDER_OBSERVATION/OBSERVATION:protocol_text): `OBX-5` · R · as FT · Observation Value: Protocole d'imagerie · st_flux3.md#t3.r10"),
        "{:#?}",
        obx5[0]
    );
    // A field no profile constrains keeps its base line only.
    let quantity = docs_before(text, "pub fn quantity_timing(");
    assert!(!quantity.is_empty(), "ORC-7 and OBR-27 have accessors");
    assert!(quantity.iter().flatten().all(|l| !l.starts_with("/// - ")), "{quantity:#?}");
}

#[test]
fn doc_text_escapes_what_rustdoc_would_read_as_markup() {
    assert_eq!(doc_text("<OBR | RQD>  [0..1]\n*"), "&lt;OBR | RQD&gt; \\[0..1\\] \\*");
    assert_eq!(doc_text("PLATEFORME_TLR"), "PLATEFORME\\_TLR");
}
