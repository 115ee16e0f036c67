//! Every rule family of the validator, each with a message that passes and one that fails it,
//! asserting the finding's HL7 code (table 0357) and its ERR-2 location. The passing message is
//! the fixture itself: every fixture of every flow validates with no error.

use hl7_runtime::validate::{Finding, Severity};
use hl7_runtime::ParseOptions;
use telerad_tests::{all_fixtures, fixture};

fn check(bytes: &[u8]) -> Vec<Finding> {
    telerad::check(bytes, &ParseOptions::default(), None).expect("no usage error").findings
}

fn errors(bytes: &[u8]) -> Vec<Finding> {
    check(bytes).into_iter().filter(|f| f.severity == Severity::Error).collect()
}

/// The fixture with the first occurrence of `from` replaced by `to` (which must exist).
fn edited(name: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture(name)).expect("a UTF-8 fixture");
    assert!(text.contains(from), "{name} has no `{from}`");
    text.replacen(from, to, 1).into_bytes()
}

/// Asserts one finding with this code at this location (ERL display) whose rule starts with
/// `rule`; returns it.
#[track_caller]
fn expect(findings: &[Finding], code: u16, location: &str, rule: &str) -> Finding {
    findings
        .iter()
        .find(|f| f.code == code && f.location.to_string() == location && f.rule.starts_with(rule))
        .cloned()
        .unwrap_or_else(|| panic!("no finding {code} at {location} (rule {rule}) in:\n{}", findings.iter().map(|f| format!("  {f}\n")).collect::<String>()))
}

#[test]
fn every_fixture_of_every_flow_validates_without_error() {
    let mut flows = std::collections::BTreeSet::new();
    for (name, bytes) in all_fixtures() {
        let c = telerad::check(&bytes, &ParseOptions::default(), None).unwrap();
        assert!(c.is_valid(), "{name}: {:?}", c.findings.iter().filter(|f| f.severity == Severity::Error).collect::<Vec<_>>());
        flows.insert(c.message.expect("placed").profile().profile);
    }
    assert_eq!(flows.len(), 5, "fixtures of every profile: {flows:?}");
}

#[test]
fn structure_missing_extra_and_unexpected_segments() {
    // PV1 removed: PATIENT_VISIT is required in flow 1.
    let text = String::from_utf8(fixture("flux1_nw_minimal.hl7")).unwrap();
    let pv1_start = text.find("\rPV1|").unwrap();
    let pv1_end = text[pv1_start + 1..].find('\r').unwrap() + pv1_start + 1;
    let no_pv1 = format!("{}{}", &text[..pv1_start], &text[pv1_end..]);
    let f = expect(&errors(no_pv1.as_bytes()), 100, "PID[1]", "structure");
    assert!(f.message.contains("PATIENT[1]/PATIENT_VISIT: 0 found, at least 1 required"), "{}", f.message);
    // A second PID after the ORDER: no place for it.
    let extra = format!("{}PID|||1^^^X&1.2.3&ISO^PI||DOE^JOHN^^^^^L\r", text);
    expect(&errors(extra.as_bytes()), 100, "PID[2]", "structure");
    // A Z segment: a warning only.
    let z = check(&fixture("flux1_nw_zsegment.hl7"));
    let w = expect(&z, 100, "ZTL[1]", "structure");
    assert_eq!(w.severity, Severity::Warning);
}

#[test]
fn slice_cardinality() {
    // The modality OBSERVATION (OBX-3.1 MODALITE_IMAGERIE) is required in flow 1.
    let b = edited("flux1_nw_minimal.hl7", "MODALITE_IMAGERIE^", "AUTRE_CODE^");
    let e = errors(&b);
    let f = expect(&e, 100, "OBR[1]", "structure");
    assert!(e.iter().any(|f| f.message.contains("OBSERVATION:modality: 0 found, at least 1 required")), "{f}");
    // The OBSERVATION with the unknown code is none of the guide's kinds: a warning.
    let w = expect(&check(&b), 100, "OBX[1]", "slice");
    assert_eq!(w.severity, Severity::Warning);
}

#[test]
fn base_required_fields_repetitions_lengths_and_formats() {
    let pass = check(&fixture("flux2_ca.hl7"));
    assert!(!pass.iter().any(|f| f.rule.starts_with("base-") && f.severity == Severity::Error));
    // PID-5 is required by HL7 v2.5.1.
    let text = String::from_utf8(fixture("flux2_ca.hl7")).unwrap();
    let pid5 = text.split('\r').find(|s| s.starts_with("PID")).unwrap().split('|').nth(5).unwrap().to_owned();
    let b = text.replacen(&format!("|{pid5}|"), "||", 1);
    expect(&errors(b.as_bytes()), 101, "PID[1]-5", "base-usage");
    // MSH-9 does not repeat.
    let b = edited("flux2_ca.hl7", "ORM^O01^ORM_O01|", "ORM^O01^ORM_O01~ORM^O01^ORM_O01|");
    expect(&errors(&b), 102, "MSH[1]-9", "base-repetitions");
    // PID-7 (TS) must hold a real date: 31 February.
    let b = edited("flux2_ca.hl7", "|19", "|19790231");
    let e = errors(&b);
    assert!(e.iter().any(|f| f.code == 102 && f.rule == "format" && f.location.segment.as_deref() == Some("PID")), "{e:?}");
}

/// The length rule of spec/README.md ("Lengths"): HL7 v2.5.1's length is checked on primitive
/// fields (a warning, never an error), not on composite fields, and not on a field whose values
/// the profile prescribes.
#[test]
fn base_lengths_warn_on_primitive_fields_only() {
    // MSH-10 (ST, 20 in HL7 v2.5.1) at 41 characters: really excessive, still a warning.
    let long = check(&edited("flux2_ca.hl7", "CHUXF2-20260106-0001|", "CHUXF2-20260106-0001-AAAAAAAAAAAAAAAAAAAA|"));
    let w = expect(&long, 102, "MSH[1]-10", "base-length");
    assert_eq!(w.severity, Severity::Warning);
    assert!(w.message.contains("41 characters long, HL7 v2.5.1 gives 20"), "{}", w.message);
    // ORC-2 (EI, 22 for the whole field): composite, its length is not HL7's to judge here.
    let long = check(&edited("flux2_ca.hl7", "CMD-", "CMD-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert!(!long.iter().any(|f| f.rule == "base-length"), "{long:?}");
    // OBX-8 (IS, 5): SANS_IMPACT is a value the guide lists (st_flux1.md, history group).
    let full = check(&fixture("flux1_nw_full.hl7"));
    assert!(!full.iter().any(|f| f.rule == "base-length"), "{full:?}");
    let text = String::from_utf8(fixture("flux1_nw_full.hl7")).unwrap();
    assert!(text.contains("|SANS_IMPACT|") || text.contains("|PERTINENT|") || text.contains("|MAJEUR|"), "the fixture sends an OBX-8 of the guide");
}

/// Neither the project's fixtures nor the guide's examples get a base-length warning: every
/// one they printed came from a value the guide prescribes or from a composite field.
#[test]
fn no_fixture_nor_guide_example_has_a_base_length_warning() {
    let mut seen = 0;
    for (name, bytes) in all_fixtures().into_iter().chain(telerad_tests::guide_examples()) {
        let findings = check(&bytes);
        let lengths: Vec<String> = findings.iter().filter(|f| f.rule == "base-length").map(ToString::to_string).collect();
        assert!(lengths.is_empty(), "{name}: {lengths:?}");
        seen += 1;
    }
    assert!(seen >= 17, "{seen} messages");
}

#[test]
fn fixed_values_value_lists_and_header_codes() {
    // MSH-12 2.5.1 (203 Unsupported version id).
    let e = errors(&edited("flux1_nw_minimal.hl7", "|2.5.1|", "|2.3|"));
    expect(&e, 203, "MSH[1]-12.1", "fixed");
    // MSH-11 P/T/D (202 Unsupported processing id).
    let e = errors(&edited("flux1_nw_minimal.hl7", "|P|2.5.1|", "|X|2.5.1|"));
    expect(&e, 202, "MSH[1]-11.1", "values");
    // MSH-17 FRA.
    let e = errors(&edited("flux1_nw_minimal.hl7", "|FRA|", "|BEL|"));
    expect(&e, 103, "MSH[1]-17", "fixed");
    // OBX-11 fixed to O in flow-1 slices.
    let text = String::from_utf8(fixture("flux1_nw_minimal.hl7")).unwrap();
    let b = text.replacen("||||||O\r", "||||||F\r", 1);
    expect(&errors(b.as_bytes()), 103, "OBX[1]-11", "fixed:modality");
}

#[test]
fn local_and_hl7_tables() {
    // OBR-4.1 from TLR_OBR_PROCEDURE: a fixed value of flow 1 and a table code.
    let e = errors(&edited("flux1_nw_minimal.hl7", "TRANSMISSION_DEMANDE^", "DEMANDE_INCONNUE^"));
    expect(&e, 103, "OBR[1]-4.1", "fixed");
    // PID-32 from the French table 0445.
    let e = errors(&edited("flux1_nw_minimal.hl7", "|VALI", "|VALX"));
    expect(&e, 103, "PID[1]-32", "table");
}

#[test]
fn value_sets_checked_offline_or_reported_as_not_checked() {
    // The main anatomical region must come from JDV_RegionAnatomique-CISIS.
    let e = errors(&edited("flux1_nw_minimal.hl7", "63337009^", "12345678^"));
    let f = expect(&e, 103, "OBX[2]-5.1", "value-set:anatomical_region");
    assert!(f.message.contains("JDV_RegionAnatomique-CISIS"));
    // JDV_CodeDocumentImagerie-CISIS is not available offline: an info, never a silent pass.
    let all = check(&fixture("flux4_sr.hl7"));
    let info = expect(&all, 0, "IPC[1]-2.1", "value-set");
    assert_eq!(info.severity, Severity::Info);
    assert!(info.message.contains("not available offline"));
}

#[test]
fn conformance_statements_and_predicates() {
    // OBR-2 equals ORC-2 (conformance statement of flow 1).
    let text = String::from_utf8(fixture("flux1_nw_minimal.hl7")).unwrap();
    let obr = text.find("\rOBR||").unwrap();
    let b = format!("{}\rOBR||AUTRE-NUMERO{}", &text[..obr], &text[obr + 6..].split_once('^').map(|(_, rest)| format!("^{rest}")).unwrap());
    let e = errors(b.as_bytes());
    // Reported at the element the statement constrains (OBR-2), not at the ORDER's first segment.
    let f = expect(&e, 207, "OBR[1]-2", "F1-OBR2-EQ-ORC2");
    assert_eq!(f.severity, Severity::Error);
    assert!(!e.iter().any(|f| f.rule == "F1-OBR2-EQ-ORC2" && f.location.to_string() == "ORC[1]"), "{e:?}");
    // Flow 3: OBSERVATION required when ORC-1 = OK.
    let ok = String::from_utf8(fixture("flux3_ok_ft.hl7")).unwrap();
    let obx = ok.find("\rOBX|").unwrap();
    let b = format!("{}\r", &ok[..obx]);
    let e = errors(b.as_bytes());
    assert!(e.iter().any(|f| f.code == 101 && f.message.contains("OBSERVATION is required")), "{e:?}");
    // … and not when ORC-1 = OC.
    assert!(errors(&fixture("flux3_oc_refusal.hl7")).is_empty());
}

#[test]
fn french_datatype_rules_and_encapsulated_data() {
    // An IDNPS professional must carry the ASIP-SANTE-PS authority (XCN-9).
    let e = errors(&edited("flux1_nw_minimal.hl7", "&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS", "&1.2.250.1.999&ISO^D^^^IDNPS"));
    assert!(e.iter().any(|f| f.rule == "XCN-PS-AUTH" && f.location.segment.as_deref() == Some("ORC")), "{e:?}");
    // The INS's NIR control key.
    let text = String::from_utf8(fixture("flux1_nw_minimal.hl7")).unwrap();
    let pid3 = text.split('\r').find(|s| s.starts_with("PID")).unwrap().split('|').nth(3).unwrap().to_owned();
    let nir: String = pid3.chars().take(15).collect();
    let mut wrong = nir.clone();
    wrong.replace_range(13..15, if &nir[13..15] == "00" { "01" } else { "00" });
    let e = errors(&edited("flux1_nw_minimal.hl7", &nir, &wrong));
    assert!(e.iter().any(|f| f.rule == "CX-INS-NIR" && f.location.to_string().starts_with("PID[1]-3")), "{e:?}");
    // ED data declared Base64 must decode.
    let e = errors(&edited("flux3_ok_ed.hl7", "^Base64^", "^Base64^#"));
    expect(&e, 102, "OBX[1]-5.5", "ED-BASE64");
}

#[test]
fn unparsable_and_unsupported_messages() {
    let c = telerad::check(b"MSH|^~\\&|A|B\rPID|||1\\XZZ\\\r", &ParseOptions::default(), None).unwrap();
    assert!(!c.is_valid());
    expect(&c.findings, 102, "PID-3", "parse");
    let c = telerad::check(b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01^ADT_A01|1|P|2.5.1\r", &ParseOptions::default(), None).unwrap();
    expect(&c.findings, 200, "MSH[1]-9.1", "profile");
    let c = telerad::check(b"MSH|^~\\&|A|B|C|D|20260101||ORM^O02^ORM_O01|1|P|2.5.1\r", &ParseOptions::default(), None).unwrap();
    expect(&c.findings, 201, "MSH[1]-9.2", "profile");
}

#[test]
fn findings_are_sorted_and_never_panic_on_parsable_input() {
    let bytes = fixture("flux4_sr.hl7");
    for i in (0..bytes.len()).step_by(5) {
        for b in [b'|', b'^', b'&', b'X', b'0'] {
            let mut m = bytes.clone();
            m[i] = b;
            let findings = check(&m);
            let keys: Vec<_> = findings.iter().map(|f| (f.severity, f.location.clone())).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted);
        }
    }
}

#[test]
fn sub_ids_of_obx_sharing_obx3() {
    // Two REGION_ANATOMIQUE OBX: each needs OBX-4 n.m.
    let text = String::from_utf8(fixture("flux4_sr.hl7")).unwrap();
    let b = text.replacen("^TLR_OBSERVATION|1.2|", "^TLR_OBSERVATION||", 1);
    assert_ne!(b, text);
    let e = errors(b.as_bytes());
    let f = expect(&e, 101, "OBX[4]-4", "SUBID-REQUIRED");
    assert!(f.message.contains("share OBX-3 REGION_ANATOMIQUE"), "{}", f.message);
    // An administered product's type (n.1) without its lot (n.2).
    let lines: Vec<&str> = text.split('\r').collect();
    let lot = lines.iter().position(|l| l.contains("PRODUIT_ADMINISTRE") && l.contains("|1.2|")).expect("a lot OBX");
    let without_lot: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| *i != lot).map(|(_, l)| *l).collect();
    let e = errors(without_lot.join("\r").as_bytes());
    let f = e.iter().find(|f| f.rule == "SUBID-FAMILY").unwrap_or_else(|| panic!("{e:?}"));
    assert!(f.message.contains("PRODUIT_ADMINISTRE occurrence 1 has no OBX-4 1.2 (administered_product_lot)"), "{}", f.message);
    assert_eq!(f.code, 101);
}

#[test]
fn national_identity_rules_and_the_pv1_19_predicate() {
    // PID-32 VALI with an INS needs the birthplace as a BDL address in PID-11.
    let text = String::from_utf8(fixture("flux1_nw_minimal.hl7")).unwrap();
    let pid = text.split('\r').find(|s| s.starts_with("PID")).unwrap();
    let pid11 = pid.split('|').nth(11).unwrap();
    assert!(pid11.contains("BDL"), "the fixture has a BDL address");
    let without_bdl = text.replacen(pid11, pid11.split('~').next().unwrap(), 1);
    let e = errors(without_bdl.as_bytes());
    assert!(e.iter().any(|f| f.rule == "C-PID11-BDL-INS" && f.code == 207), "{e:?}");
    // PV1-19 is required when PV1-2 is O (predicate of the common constraints).
    let pv1 = text.split('\r').find(|s| s.starts_with("PV1")).unwrap();
    let pv1_19 = pv1.split('|').nth(19).unwrap();
    assert!(!pv1_19.is_empty());
    let e = errors(text.replacen(pv1_19, "", 1).as_bytes());
    assert!(e.iter().any(|f| f.code == 101 && f.message.starts_with("PV1-19 is required when")), "{e:?}");
}

/// An invalid message of each rule family gets AE, with one ERR per error finding whose ERR-2
/// is that finding's location and whose ERR-3 is its code.
#[test]
fn invalid_messages_of_every_family_get_ae_with_located_err() {
    let cases: Vec<Vec<u8>> = vec![
        edited("flux1_nw_minimal.hl7", "|2.5.1|", "|2.3|"),
        edited("flux1_nw_minimal.hl7", "MODALITE_IMAGERIE^", "AUTRE_CODE^"),
        edited("flux1_nw_minimal.hl7", "|VALI", "|VALX"),
        edited("flux1_nw_minimal.hl7", "63337009^", "12345678^"),
        edited("flux2_ca.hl7", "ORM^O01^ORM_O01|", "ORM^O01^ORM_O01~ORM^O01^ORM_O01|"),
        edited("flux3_ok_ed.hl7", "^Base64^", "^Base64^#"),
        edited("flux1_nw_minimal.hl7", "&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS", "&1.2.250.1.999&ISO^D^^^IDNPS"),
    ];
    let clock = || "20260106134419".to_owned();
    let id = || "ACK1".to_owned();
    let opts = hl7_runtime::ack::AckOptions { receiver: hl7_runtime::ack::Identity::default(), clock: &clock, next_id: &id };
    for bytes in cases {
        let checked = telerad::check(&bytes, &ParseOptions::default(), None).unwrap();
        let errors: Vec<&Finding> = checked.findings.iter().filter(|f| f.severity == Severity::Error).collect();
        assert!(!errors.is_empty());
        let inbound = checked.message.as_ref().map(|m| &m.placed().message);
        let ack = hl7_runtime::ack::build(inbound, &bytes, &checked.findings, hl7_runtime::ack::Decision::Accept, &opts).unwrap();
        let text = String::from_utf8(ack).unwrap();
        let segs: Vec<&str> = text.split_terminator('\r').collect();
        assert!(segs[1].starts_with("MSA|AE|"), "{text}");
        let errs: Vec<&str> = segs.iter().copied().filter(|s| s.starts_with("ERR|")).collect();
        assert_eq!(errs.len(), errors.len(), "{text}");
        for (err, f) in errs.iter().zip(&errors) {
            let fields: Vec<&str> = err.split('|').collect();
            let erl = &f.location;
            let mut want = vec![erl.segment.clone().unwrap_or_default(), erl.sequence.map(|n| n.to_string()).unwrap_or_default()];
            for p in [erl.field, erl.repetition, erl.component, erl.subcomponent] {
                want.push(p.map(|n| n.to_string()).unwrap_or_default());
            }
            let want = want.join("^").trim_end_matches('^').to_owned();
            assert_eq!(fields[2], want, "{err}");
            assert!(fields[3].starts_with(&format!("{}^", f.code)), "{err}");
            assert_eq!(fields[4], "E");
        }
    }
}

/// A statement with an explicit `location` is reported at that element of the segment
/// occurrence it resolves to in the context; one without reads its first path (item 12).
mod located {
    use hl7_runtime::meta::{MessageDef, RuleDef, RuleKind};
    use hl7_runtime::typed::Placed;
    use hl7_runtime::validate::{self, Severity};
    use telerad_tests::fixture;

    static RULES: [RuleDef; 2] = [
        RuleDef {
            id: "T-LOCATED",
            kind: RuleKind::Conformance { warning: false },
            expression: "OBR-2 = ORC-2",
            context: Some("ORDER"),
            location: Some("ORC-2.1"),
            description: "",
            src: "test",
        },
        RuleDef {
            id: "T-DEFAULT",
            kind: RuleKind::Conformance { warning: true },
            expression: "OBR-4.1 = ORC-2.1",
            context: Some("ORDER"),
            location: None,
            description: "",
            src: "test",
        },
    ];
    static DEF: MessageDef = MessageDef { rules: &RULES, extends: Some(&telerad::flux1_orm_o01_nw::DEF), ..telerad::flux1_orm_o01_nw::DEF };

    #[test]
    fn the_location_key_and_the_default_element() {
        let bytes = fixture("flux1_nw_minimal.hl7");
        let text = String::from_utf8(bytes).expect("UTF-8 fixture");
        let obr = text.find("\rOBR||").expect("an OBR");
        let edited = format!("{}\rOBR||AUTRE-NUMERO{}", &text[..obr], text[obr + 6..].split_once('^').map(|(_, rest)| format!("^{rest}")).expect("OBR-2 has components"));
        let placed = Placed::new(hl7_runtime::Message::parse(edited.as_bytes()).expect("parses"), &DEF);
        let found = validate::validate(&placed, &telerad::REGISTRY);
        let located = found.iter().find(|f| f.rule == "T-LOCATED").unwrap_or_else(|| panic!("{found:?}"));
        assert_eq!((located.severity, located.code, located.location.to_string()), (Severity::Error, 207, "ORC[1]-2.1".to_owned()));
        let default = found.iter().find(|f| f.rule == "T-DEFAULT").unwrap_or_else(|| panic!("{found:?}"));
        assert_eq!((default.severity, default.code, default.location.to_string()), (Severity::Warning, 207, "OBR[1]-4.1".to_owned()));
    }
}

/// Validation settles which slices each sliced group instance matches from the message's
/// element lists (`Run::settle_slices`); the typed API reads the same elements through segment
/// views. Both must agree on every slice of every instance: on every fixture, and on edits of
/// the discriminated elements (OBX-3.1, OBX-4, OBX-2) with surrounding spaces, escapes, other
/// sub-ids, repetitions and subcomponents.
#[test]
fn slices_settled_by_validation_agree_with_the_typed_views() {
    use hl7_runtime::structure::{GroupInstance, Item};
    use hl7_runtime::typed::GroupView;

    fn compare(name: &str, views: &GroupView<'_>, settled: &GroupView<'_>, compared: &mut usize) {
        assert!(std::ptr::eq(views.instance.def, settled.instance.def), "{name}: trees differ");
        for slice in views.instance.def.slices {
            assert_eq!(views.is_slice(slice), settled.is_slice(slice), "{name}: {} is_slice {}", views.instance.def.name, slice.name);
            assert_eq!(views.is_kind_of(slice), settled.is_kind_of(slice), "{name}: {} is_kind_of {}", views.instance.def.name, slice.name);
            *compared += 1;
        }
        fn groups(g: &GroupInstance) -> Vec<&GroupInstance> {
            g.items.iter().filter_map(|it| if let Item::Group { group, .. } = it { Some(group) } else { None }).collect()
        }
        let (a, b) = (groups(views.instance), groups(settled.instance));
        assert_eq!(a.len(), b.len(), "{name}: trees differ");
        for (x, y) in a.into_iter().zip(b) {
            compare(name, &GroupView { message: views.message, instance: x }, &GroupView { message: settled.message, instance: y }, compared);
        }
    }

    let mut cases = all_fixtures();
    for (from, to) in [
        ("|REGION_ANATOMIQUE^", "| REGION_ANATOMIQUE ^"),
        ("|REGION_ANATOMIQUE^", "|REGION\\T\\ANATOMIQUE^"),
        ("|REGION_ANATOMIQUE^", "|REGION_ANATOMIQUE&X^"),
        ("|REGION_ANATOMIQUE^", "|~REGION_ANATOMIQUE^"),
        ("|1.1|", "| 1.1 |"),
        ("|1.1|", "|1.\\E\\1|"),
        ("|1.2|", "|2.1~1.2|"),
        ("|1.2|", "|1.2.0|"),
        ("OBX|2|CE|", "OBX|2|\\F\\|"),
        ("OBX|2|CE|", "OBX|2| CE |"),
    ] {
        cases.push((format!("flux4_sr.hl7 with `{from}` as `{to}`"), edited("flux4_sr.hl7", from, to)));
    }
    let mut compared = 0;
    for (name, bytes) in cases {
        let parse = || telerad::AnyMessage::from_message(hl7_runtime::Message::parse(&bytes).expect("parses")).expect("a profile");
        let (views, settled) = (parse(), parse());
        // Validation settles the second tree's slices; the first reads them through views.
        hl7_runtime::validate::validate(settled.placed(), &telerad::REGISTRY);
        compare(&name, &views.placed().root(), &settled.placed().root(), &mut compared);
    }
    assert!(compared > 100, "only {compared} slice tests compared");
}
