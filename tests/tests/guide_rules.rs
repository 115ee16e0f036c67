//! Issue 14, items 1-10: rules the guide states that the validator missed or got wrong. Each
//! test edits a fixture of `tests/fixtures` and asserts the finding's severity, HL7 table 0357
//! code, ERL location and rule id (and, where the item is about a message the guide allows,
//! that no error is found). The `violations` counterexamples kept next to the rules of
//! `spec/telerad/*.hand.json` are replayed by the violation suite (spec-tools/tests/coverage.rs).

use hl7_runtime::validate::{Finding, Severity};
use hl7_runtime::ParseOptions;
use hl7_codegen::model::Edit;
use hl7_spec_tools::coverage::edit::Er7;
use telerad_tests::fixture;

fn check(bytes: &[u8]) -> Vec<Finding> {
    telerad::check(bytes, &ParseOptions::default(), None).expect("no usage error").findings
}

fn errors(bytes: &[u8]) -> Vec<Finding> {
    check(bytes).into_iter().filter(|f| f.severity == Severity::Error).collect()
}

fn list(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("  {f}\n")).collect()
}

/// The one finding with this severity, code, location (ERL display) and rule id.
#[track_caller]
fn expect(findings: &[Finding], severity: Severity, code: u16, location: &str, rule: &str) -> Finding {
    findings
        .iter()
        .find(|f| f.severity == severity && f.code == code && f.location.to_string() == location && f.rule == rule)
        .cloned()
        .unwrap_or_else(|| panic!("no {severity:?} {code} at {location} (rule {rule}) in:\n{}", list(findings)))
}

#[track_caller]
fn no_error(bytes: &[u8]) {
    let e = errors(bytes);
    assert!(e.is_empty(), "unexpected errors:\n{}", list(&e));
}

// ------------------------------------------------------------------ editing fixtures

/// The fixture `name` with `edits` applied, as the violation suite applies a counterexample's
/// (`hl7-codegen coverage`, spec-tools/src/coverage/edit.rs).
fn edit(name: &str, edits: &[Edit]) -> Vec<u8> {
    let mut m = Er7::new(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    for e in edits {
        m.apply(e).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    m.to_bytes()
}

fn set(at: &str, to: &str) -> Edit {
    Edit::Set { at: at.into(), to: to.into() }
}

fn delete(segment: &str) -> Edit {
    Edit::Delete { segment: segment.into() }
}

fn insert_after(after: &str, segment: &str) -> Edit {
    Edit::InsertAfter { after: after.into(), segment: segment.into() }
}

// ------------------------------------------------------------------ items

/// Item 1: a PROTOCOLE_IMAGERIE OBX whose OBX-2 is neither FT nor ED is an error at OBX-2,
/// not an open-slicing warning.
#[test]
fn item1_flow3_protocol_kind_is_checked_at_obx2() {
    let b = edit("flux3_ok_ft.hl7", &[set("OBX[1]-2", "ST")]);
    let all = check(&b);
    expect(&all, Severity::Error, 207, "OBX[1]-2", "F3-PROTOCOL-OBX2");
    assert!(!all.iter().any(|f| f.rule == "slice"), "a protocol with a wrong OBX-2 is not an unknown kind:\n{}", list(&all));
    // The same for the encapsulated protocol.
    let b = edit("flux3_ok_ed.hl7", &[set("OBX[1]-2", "TX")]);
    expect(&check(&b), Severity::Error, 207, "OBX[1]-2", "F3-PROTOCOL-OBX2");
    // FT and ED pass.
    no_error(&fixture("flux3_ok_ft.hl7"));
    no_error(&fixture("flux3_ok_ed.hl7"));
}

/// Item 2: an OK carries at least one imaging protocol (another OBSERVATION does not count);
/// a refusal is sent without a protocol (warning: erratum E7 of flow 3).
#[test]
fn item2_flow3_acceptance_needs_a_protocol_and_refusal_sends_none() {
    let other = "11322-5^History of General health Narrative^LN";
    let b = edit("flux3_ok_ft.hl7", &[set("OBX[1]-3", other)]);
    expect(&errors(&b), Severity::Error, 100, "OBR[1]", "F3-OK-PROTOCOL");
    // A protocol after another OBSERVATION satisfies it.
    let b = edit(
        "flux3_ok_ft.hl7",
        &[insert_after("OBR[1]", &format!("OBX|1|FT|{other}||Pas d'antécédent|||||||F"))],
    );
    assert!(!errors(&b).iter().any(|f| f.rule == "F3-OK-PROTOCOL"), "{}", list(&errors(&b)));
    // A refusal with a protocol: a warning at the protocol's OBX-3; still a valid message.
    let b = edit("flux3_ok_ft.hl7", &[set("ORC[1]-1", "OC")]);
    let all = check(&b);
    expect(&all, Severity::Warning, 207, "OBX[1]-3", "F3-OC-NO-PROTOCOL");
    no_error(&b);
    // A refusal without any OBSERVATION is valid and warns of nothing of the kind.
    let refusal = check(&fixture("flux3_oc_refusal.hl7"));
    assert!(!refusal.iter().any(|f| f.rule.starts_with("F3-O")), "{}", list(&refusal));
}

/// Item 3: OBX-4 of a known kind must carry the m the guide fixes (n.1, n.2, n.3); the old
/// slice-scoped rules could not fail and are gone.
#[test]
fn item3_sub_id_suffixes_are_constraints_at_obx4() {
    // Flow 1: a region with m = 3.
    let b = edit("flux1_nw_full.hl7", &[set("OBX[3]-4", "1.3")]);
    let all = check(&b);
    expect(&all, Severity::Error, 207, "OBX[3]-4", "F1-REGION-SUBID-M");
    assert!(!all.iter().any(|f| f.rule == "slice"), "a region with a wrong m is not an unknown kind:\n{}", list(&all));
    // Flow 1: an empty OBX-4 where the region requires it.
    let b = edit("flux1_nw_minimal.hl7", &[set("OBX[2]-4", "")]);
    expect(&errors(&b), Severity::Error, 207, "OBX[2]-4", "F1-REGION-SUBID-M");
    // Flow 4: a product with m = 4, a region with m = 3, a device with m = 3.
    let b = edit("flux4_sr.hl7", &[set("OBX[8]-4", "1.4")]);
    expect(&errors(&b), Severity::Error, 207, "OBX[8]-4", "F4-PRODUCT-SUBID-M");
    let b = edit("flux4_sr.hl7", &[set("OBX[4]-4", "1.3")]);
    expect(&errors(&b), Severity::Error, 207, "OBX[4]-4", "F4-REGION-SUBID-M");
    let b = edit("flux4_sr.hl7", &[set("OBX[10]-4", "1.3")]);
    expect(&errors(&b), Severity::Error, 207, "OBX[10]-4", "F4-DEVICE-SUBID-M");
    // The rules that could not fail are replaced.
    let rules: Vec<&str> = telerad::REGISTRY.all_profiles().flat_map(|p| p.all_rules()).map(|r| r.id).collect();
    for gone in ["F1-REGION-SUBID-N1", "F1-TOPO-SUBID-N2"] {
        assert!(!rules.contains(&gone), "{gone} is still defined");
    }
}

/// Item 4: at most one OBX per (OBX-3, n.m) within an order (erratum E14 of flow 4).
#[test]
fn item4_at_most_one_obx_per_obx3_and_sub_id() {
    let second = "OBX|8|NM|PRODUIT_ADMINISTRE^Produit administré lors de l'examen d'imagerie^TLR_OBSERVATION|1.3|5|mL^millilitre^UCUM|||||F";
    let b = edit("flux4_sr.hl7", &[insert_after("OBX[8]", second)]);
    let f = expect(&errors(&b), Severity::Error, 100, "OBX[9]-4", "SUBID-UNIQUE");
    assert!(f.message.contains("PRODUIT_ADMINISTRE") && f.message.contains("1.3"), "{}", f.message);
    // A second product (2.x) is allowed.
    let b = edit(
        "flux4_sr.hl7",
        &[
            insert_after("OBX[8]", "OBX|9|NM|PRODUIT_ADMINISTRE^Produit administré lors de l'examen d'imagerie^TLR_OBSERVATION|2.2|77||||||F"),
            insert_after("OBX[8]", "OBX|8|CE|PRODUIT_ADMINISTRE^Produit administré lors de l'examen d'imagerie^TLR_OBSERVATION|2.1|V08^Produits de contraste^ATC||||||F"),
        ],
    );
    assert!(!errors(&b).iter().any(|f| f.rule == "SUBID-UNIQUE"), "{}", list(&errors(&b)));
}

/// Item 5: a topographic precision n.2 needs its main location n.1 (flow 4 as flow 1); the
/// product quantity n.3 is recommended when the product n.1 is given.
#[test]
fn item5_sub_id_family_dependencies() {
    // Flow 4: region 2.1 and precision 1.2.
    let b = edit("flux4_sr.hl7", &[set("OBX[3]-4", "2.1")]);
    let f = expect(&errors(&b), Severity::Error, 101, "OBX[4]-4", "SUBID-DEPENDS");
    assert!(f.message.contains("REGION_ANATOMIQUE") && f.message.contains("1.1"), "{}", f.message);
    // Flow 1: the same defect is an error at the same place (the main region is required there).
    let b = edit("flux1_nw_full.hl7", &[set("OBX[2]-4", "2.1")]);
    let e = errors(&b);
    assert!(
        e.iter().any(|f| f.code == 101 && f.location.to_string() == "OBX[3]-4" && (f.rule == "SUBID-FAMILY" || f.rule == "SUBID-DEPENDS")),
        "{}",
        list(&e)
    );
    // Flow 4: a product without its quantity: a warning at the product's OBX-4.
    let b = edit("flux4_sr.hl7", &[delete("OBX[8]")]);
    expect(&check(&b), Severity::Warning, 101, "OBX[6]-4", "SUBID-RECOMMENDED");
    no_error(&b);
}

/// Item 6: repeated ORDERs keep ORC-2 and each carries its own exam (IPC-1, IPC-3); the viewer
/// URL names the ORDER's StudyInstanceUID and AccessionNumber.
#[test]
fn item6_flow4_orders_and_viewer_url() {
    no_error(&fixture("flux4_sr_three_orders.hl7"));
    let b = edit(
        "flux4_sr_three_orders.hl7",
        &[set("ORC[2]-2.1", "CMD-2026-000999"), set("OBR[2]-2.1", "CMD-2026-000999")],
    );
    expect(&errors(&b), Severity::Error, 207, "ORC[2]-2", "F4-ORDER-SAME-ORC2");
    let b = edit("flux4_sr_three_orders.hl7", &[set("IPC[3]-1.1", "ACN-2026-0480-01")]);
    expect(&errors(&b), Severity::Error, 205, "IPC[3]-1", "F4-ORDER-DISTINCT-IPC1");
    let b = edit("flux4_sr_three_orders.hl7", &[set("IPC[2]-3", "1.2.250.1.213.4.5.2.1.480001")]);
    expect(&errors(&b), Severity::Error, 205, "IPC[2]-3", "F4-ORDER-DISTINCT-IPC3");
    // The viewer URL of ORDER 1 against its IPC.
    let b = edit("flux4_sr.hl7", &[set("IPC[1]-3", "1.2.250.1.213.4.5.2.1.470002")]);
    let f = expect(&errors(&b), Severity::Error, 207, "OBX[1]-5.5", "F4-VIEWER-URL-STUDY");
    assert!(f.message.contains("1.2.250.1.213.4.5.2.1.470001"), "{}", f.message);
    let b = edit("flux4_sr.hl7", &[set("IPC[1]-1.1", "ACN-2026-0470-99")]);
    expect(&errors(&b), Severity::Error, 207, "OBX[1]-5.5", "F4-VIEWER-URL-ACCESSION");
    // A URL without the parameters (Base64 of "https://drimbox.chu-x.fr/viewer").
    let b = edit("flux4_sr.hl7", &[set("OBX[1]-5.5", "aHR0cHM6Ly9kcmltYm94LmNodS14LmZyL3ZpZXdlcg==")]);
    let e = errors(&b);
    expect(&e, Severity::Error, 207, "OBX[1]-5.5", "F4-VIEWER-URL-STUDY");
    expect(&e, Severity::Error, 207, "OBX[1]-5.5", "F4-VIEWER-URL-ACCESSION");
    // Data that is not Base64 is ED-BASE64's finding alone.
    let b = edit("flux4_sr.hl7", &[set("OBX[1]-5.5", "pas du base64")]);
    let e = errors(&b);
    expect(&e, Severity::Error, 102, "OBX[1]-5.5", "ED-BASE64");
    assert!(!e.iter().any(|f| f.rule.starts_with("F4-VIEWER")), "{}", list(&e));
}

/// Item 7: ORC-21.7 takes the service code SRV of table 0203 (the guide writes "SVR"), and the
/// type goes with the assigning authority XON-6 as the French datatype rules say.
#[test]
fn item7_orc21_service_code_and_authority() {
    let service = "Service de radiologie^^^^^1690012345^SRV^^^SRV-042";
    let b = edit("flux1_nw_minimal.hl7", &[set("ORC[1]-21", service)]);
    no_error(&b);
    // The guide's misspelling is not a code of table 0203.
    let b = edit("flux1_nw_minimal.hl7", &[set("ORC[1]-21", "Service de radiologie^^^^^1690012345^SVR^^^SRV-042")]);
    expect(&errors(&b), Severity::Error, 103, "ORC[1]-21.7", "values");
    // A service is not identified by the national structure authority.
    let b = edit("flux1_nw_minimal.hl7", &[set("ORC[1]-21.7", "SRV")]);
    expect(&errors(&b), Severity::Error, 102, "ORC[1]-21.7", "XON-ST-TYPE");
    // A FINESS (FINEG) goes with the authority 1.2.250.1.71.4.2.2.
    let b = edit("flux1_nw_minimal.hl7", &[set("ORC[1]-21.6", "1690012345")]);
    expect(&errors(&b), Severity::Error, 207, "ORC[1]-21.6", "F1-ORC21-ST-AUTHORITY");
    // Flows 2 and 3 as flow 1.
    let b = edit("flux3_ok_ft.hl7", &[set("ORC[1]-21", service)]);
    no_error(&b);
}

/// Item 8: the NTE after OBR and the NTE of the modality group are standard NTE; the guide's
/// constraints apply when they carry the purpose or the modality comment.
#[test]
fn item8_plain_nte_comments_are_valid() {
    let b = edit("flux1_nw_full.hl7", &[set("NTE[1]-4", ""), set("NTE[2]-4", "")]);
    no_error(&b);
    let b = edit("flux1_nw_full.hl7", &[set("NTE[1]-4", "RE^Remarque^HL70364")]);
    no_error(&b);
    // The purpose comment keeps its coding system.
    let b = edit("flux1_nw_full.hl7", &[set("NTE[1]-4.3", "")]);
    let f = expect(&errors(&b), Severity::Error, 101, "NTE[1]-4[1].3", "F1-NTE-COMMENT-TYPE-SYSTEM");
    assert!(f.message.contains("NTE-4.3"), "{}", f.message);
    // Flow 4's modality group too.
    let b = edit(
        "flux4_sr.hl7",
        &[insert_after("OBX[5]", "NTE|||Acquisition corps entier, 60 min après injection")],
    );
    no_error(&b);
}

/// Item 9: TLR_OBSERVATION is a closed code table.
#[test]
fn item9_tlr_observation_is_closed() {
    let b = edit(
        "flux1_nw_full.hl7",
        &[insert_after("OBX[7]", "OBX|8|ST|CODE_INCONNU^Code inconnu^TLR_OBSERVATION||texte||||||O")],
    );
    expect(&errors(&b), Severity::Error, 207, "OBX[8]-3[1]", "C-OBX3-TLR-OBSERVATION");
    // The statement lists every code of the table, and only those.
    let rule = telerad::REGISTRY
        .all_profiles()
        .flat_map(|p| p.all_rules())
        .find(|r| r.id == "C-OBX3-TLR-OBSERVATION")
        .expect("the rule is defined");
    let table = telerad::REGISTRY.table("TLR_OBSERVATION").expect("the table");
    let quoted: Vec<&str> = rule.expression.split('\'').skip(1).step_by(2).collect();
    for c in table.codes {
        assert!(quoted.contains(c), "{c} missing from {}", rule.expression);
    }
    assert_eq!(quoted.len(), table.codes.len() + 1, "{}", rule.expression); // + 'TLR_OBSERVATION'
}

/// Item 10: PID and PV1 coded fields take their values from their HL7 / French tables.
#[test]
fn item10_pid_pv1_coded_fields_from_their_tables() {
    let b = edit("flux1_nw_minimal.hl7", &[set("PV1[1]-2", "X")]);
    expect(&errors(&b), Severity::Error, 103, "PV1[1]-2", "table");
    // B is in HL7's table 0004 but not in IHE France's.
    let b = edit("flux1_nw_minimal.hl7", &[set("PV1[1]-2", "B")]);
    expect(&errors(&b), Severity::Error, 103, "PV1[1]-2", "table");
    let b = edit("flux1_nw_minimal.hl7", &[set("PID[1]-8", "A")]);
    expect(&errors(&b), Severity::Error, 103, "PID[1]-8", "table");
    let b = edit("flux1_nw_minimal.hl7", &[set("PID[1]-30", "X")]);
    expect(&errors(&b), Severity::Error, 103, "PID[1]-30", "table");
    let b = edit("flux1_nw_minimal.hl7", &[set("PID[1]-31", "X")]);
    expect(&errors(&b), Severity::Error, 103, "PID[1]-31", "table");
    let b = edit("flux1_nw_minimal.hl7", &[set("PV1[1]-51", "Z")]);
    expect(&errors(&b), Severity::Error, 103, "PV1[1]-51", "table");
    let b = edit("flux1_nw_minimal.hl7", &[set("PID[1]-11[1].7", "ZZ")]);
    expect(&errors(&b), Severity::Error, 103, "PID[1]-11[1].7", "table");
    // The values PAM-FR allows pass (V is France's telemonitoring class).
    no_error(&edit("flux1_nw_minimal.hl7", &[set("PV1[1]-2", "V"), set("PID[1]-8", "U")]));
}
