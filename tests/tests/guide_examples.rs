//! The guide's own example messages (`../shared/ig/teleradiologie/examples/`): every one that
//! is a message parses, gets its profile and re-encodes byte for byte; the OBX fragment of
//! `sub-id.md` (no MSH) is a located error.

use telerad::AnyMessage;
use telerad_tests::guide_examples;

#[test]
fn every_example_message_round_trips_byte_for_byte() {
    let examples = guide_examples();
    if examples.is_empty() {
        return; // guide_examples() said SKIPPED loudly, or panicked under CI=true
    }
    assert_eq!(examples.len(), 9, "the guide has 9 example files");
    let mut parsed = 0;
    for (name, bytes) in &examples {
        match hl7_runtime::Message::parse(bytes) {
            Ok(m) => {
                let any = AnyMessage::from_message(m).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(&any.placed().encode(), bytes, "{name}");
                parsed += 1;
            }
            Err(e) => {
                assert!(name.starts_with("sub-id_exemple_OBX"), "{name}: {e}");
                assert_eq!(e.to_string(), "OBX (byte 0): first segment is OBX, an HL7 message must start with MSH");
            }
        }
    }
    assert_eq!(parsed, 8);
}

#[test]
fn examples_get_the_profile_of_their_flow() {
    for (name, bytes) in guide_examples() {
        let Ok(m) = hl7_runtime::Message::parse(&bytes) else { continue };
        let profile = AnyMessage::from_message(m).unwrap().placed().def.profile;
        let expected = match name.split('_').next().unwrap_or("") {
            "flux1" | "st-contraintes" => "flux1_orm_o01_nw",
            "flux2" => "flux2_orm_o01_ca",
            "flux3" => "flux3_oru_r01",
            "flux4" => "flux4_omi_o23",
            "acquittement" if name.contains("MSH_ORM") => "flux1_orm_o01_nw",
            "acquittement" => "ack",
            other => panic!("unexpected example {other}"),
        };
        assert_eq!(profile, expected, "{name}");
    }
}

/// What the validator finds in each of the guide's examples (errors and warnings; infos are
/// the rules it could not evaluate offline). Each entry is explained in spec/README.md,
/// "Findings on the guide's own examples": a change here must change that list too.
#[test]
fn findings_on_the_guide_examples_are_the_documented_ones() {
    use hl7_runtime::validate::Severity;
    let expected: &[(&str, &[&str])] = &[
        ("acquittement_exemple_ACK_AA.hl7", &[]),
        ("acquittement_exemple_ACK_AE_version_inconnue.hl7", &[]),
        ("acquittement_exemple_MSH_ORM_O01_flux1.hl7", &["error 207 MSH[1] C-PID5-LEGAL-NAME", "error 100 MSH[1] structure", "error 100 MSH[1] structure"]),
        ("flux1_ORM_O01_NW_transmission_demande.hl7", &["warning 207 PID[1]-3.4.2 C-INS-TEST-OID-IN-PRODUCTION", "warning 207 PID[1]-3[1].7 C-PID3-INS-NO-VALIDITY-DATES"]),
        ("flux2_ORM_O01_CA_annulation_demande.hl7", &["warning 207 PID[1]-3.4.2 C-INS-TEST-OID-IN-PRODUCTION", "warning 207 PID[1]-3[1].7 C-PID3-INS-NO-VALIDITY-DATES"]),
        ("flux3_ORU_R01_OK_reponse_demande.hl7", &["error 102 OBX[1]-5.5 ED-BASE64", "warning 207 PID[1]-3.4.2 C-INS-TEST-OID-IN-PRODUCTION", "warning 207 PID[1]-3[1].7 C-PID3-INS-NO-VALIDITY-DATES"]),
        ("flux4_OMI_O23_SR_complement_post_acte.hl7", &["error 207 OBX[1]-5.5 F4-VIEWER-URL-ACCESSION", "error 207 OBX[1]-5.5 F4-VIEWER-URL-STUDY", "warning 207 PID[1]-3.4.2 C-INS-TEST-OID-IN-PRODUCTION", "warning 207 PID[1]-3[1].7 C-PID3-INS-NO-VALIDITY-DATES"]),
        ("st-contraintes_exemple_MSH_ORM.hl7", &["error 207 MSH[1] C-PID5-LEGAL-NAME", "error 100 MSH[1] structure", "error 100 MSH[1] structure"]),
        ("sub-id_exemple_OBX_produit_administre_fragment.hl7", &["error 100 OBX parse"]),
    ];
    let examples = guide_examples();
    if examples.is_empty() {
        return;
    }
    assert_eq!(examples.len(), expected.len());
    for ((name, bytes), (want_name, want)) in examples.iter().zip(expected) {
        assert_eq!(name, want_name);
        let checked = telerad::check(bytes, &hl7_runtime::ParseOptions::default(), None).unwrap();
        let got: Vec<String> = checked
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| format!("{} {} {} {}", if f.severity == Severity::Error { "error" } else { "warning" }, f.code, f.location, f.rule))
            .collect();
        assert_eq!(got, *want, "{name}");
    }
}
