//! The platform's answer to a request: a flow-3 ORU^R01 with ORC-1 OK (accepted, with the
//! imaging protocol) or OC (refused, with an optional reason), built from the stored flow-1
//! request and the platform's identity with the generated builders, and checked against the
//! flux3 profile before anything is recorded or sent.
//!
//! What comes from where:
//!
//! | element | value |
//! |---|---|
//! | MSH-3/4 | the platform's application and facility ([`Platform`]) |
//! | MSH-5/6 | the request's MSH-3/4 |
//! | MSH-7, ORC-9 | now |
//! | MSH-17/18/21 | `FRA`, `UNICODE UTF-8`, `1.0^CISIS_TLR_HL7_V2` |
//! | PID, PV1 | copied from the request, every field as it was |
//! | ORC-2, OBR-2 | the request's ORC-2 |
//! | ORC-12, OBR-16 | the radiologist ([`Radiologist`]), authority `1.2.250.1.71.4.2.1&ISO` as the guide fixes |
//! | ORC-16 | OC only, with a reason: `^<reason>` (CE-2, free text, as the guide allows) |
//! | ORC-17 | `PLATEFORME_TLR^^TLR_TYPE_ORGANISATION` |
//! | ORC-21 | the platform organisation ([`Organisation`]) |
//! | OBR-4 | `REPONSE_DEMANDE^Réponse à une demande d'examen d'imagerie^TLR_OBR_PROCEDURE` |
//! | OBX (OK only) | `1`, `FT` or `ED`, `PROTOCOLE_IMAGERIE^Protocole d'imagerie médicale^TLR_OBSERVATION`, the protocol, status `F` |
//!
//! An FT protocol is the text with each line break written `\.br\`; an ED protocol is
//! `^TEXT^^Base64^<data>` (the guide fixes the type to TEXT).

use base64::Engine as _;
use hl7_runtime::owned::SegmentBuf;
use hl7_runtime::validate::{Finding, Severity};
use hl7_runtime::Message;
use telerad::datatypes::{CeValue, EdValue, EiValue, FnValue, HdValue, MsgValue, XcnValue, XonValue};
use telerad::flux3_oru_r01 as flow3;
use telerad::segments::{MshBuilder, ObrBuilder, ObxBuilder, OrcBuilder, PidBuilder};

/// The platform as flow 3 names it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// MSH-3.
    pub application: String,
    /// MSH-4.
    pub facility: String,
    /// ORC-12 and OBR-16.
    pub radiologist: Radiologist,
    /// ORC-21.
    pub organisation: Organisation,
}

/// The radiologist who decides (XCN).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Radiologist {
    /// XCN.1, the national identifier (PS_IdNat).
    pub id: String,
    /// XCN.2.
    pub family_name: String,
    /// XCN.3.
    pub given_name: String,
    /// XCN.6, e.g. `DR`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// XCN.9.1, e.g. `ASIP-SANTE-PS`.
    #[serde(default)]
    pub authority: Option<String>,
    /// XCN.13, table 0203, e.g. `IDNPS` or `RPPS`.
    pub id_type: String,
}

/// The platform's organisation (XON).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// XON.1.
    pub name: String,
    /// XON.10, the organisation identifier (Struct_IdNat).
    pub id: String,
    /// XON.7: `FINEJ`, `FINEG`, `IDNST`, `UF` or `SVR`.
    pub id_type: String,
    /// XON.6.1, e.g. `ASIP-SANTE-ST`.
    #[serde(default)]
    pub authority: Option<String>,
    /// XON.6.2, e.g. `1.2.250.1.71.4.2.2`.
    pub authority_oid: String,
}

/// The decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// OK, with the imaging protocol.
    Accept(Protocol),
    /// OC, with an optional reason.
    Refuse { reason: Option<String> },
}

/// The imaging protocol of an OK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OBX-2 FT: formatted text.
    Text(String),
    /// OBX-2 ED: the bytes, Base64-encoded.
    Encapsulated(Vec<u8>),
}

/// Why a response cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error("the stored request does not parse: {0}")]
    Request(#[from] hl7_runtime::ParseError),
    #[error("the stored request has no {0}")]
    Missing(&'static str),
    #[error("the response cannot be encoded: {0}")]
    Build(#[from] hl7_runtime::build::BuildError),
    /// The built response breaks the flux3 profile (a configuration value is wrong).
    #[error("the response is not a valid flow-3 message: {}", .0.iter().filter(|f| f.severity == Severity::Error).map(|f| format!("{} {}: {}", f.code, f.location, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Finding>),
}

const RADIOLOGIST_AUTHORITY_OID: &str = "1.2.250.1.71.4.2.1";

/// Builds the flow-3 response to `request` (the stored flow-1 bytes), valid against the
/// flux3 profile, with MSH-10 `control_id` and MSH-7/ORC-9 `now` (a DTM). MSH-11 is the
/// request's (`T` for a training request, `P` otherwise).
pub fn build(request: &[u8], platform: &Platform, answer: &Answer, control_id: &str, now: &str) -> Result<Vec<u8>, RespondError> {
    let req = Message::parse(request)?;
    let owned = req.to_owned_buf();
    let find = |id: &'static str| owned.segments.iter().find(|s| s.id == id).cloned();
    let pid = find("PID").ok_or(RespondError::Missing("PID"))?;
    let pv1 = find("PV1");
    let msh = req.segment(0).ok_or(RespondError::Missing("MSH"))?;
    let orc = req.segments_by_id("ORC").next().ok_or(RespondError::Missing("ORC"))?;
    let placer = orc.field(2).first();
    let placer = EiValue {
        entity_identifier: non_empty(placer.component(1).text().into_owned()),
        namespace_id: non_empty(placer.component(2).text().into_owned()),
        universal_id: non_empty(placer.component(3).text().into_owned()),
        universal_id_type: non_empty(placer.component(4).text().into_owned()),
    };
    let hd = |field: usize| {
        let f = msh.field(field);
        let r = f.first();
        HdValue { namespace_id: non_empty(r.component(1).text().into_owned()), universal_id: non_empty(r.component(2).text().into_owned()), universal_id_type: non_empty(r.component(3).text().into_owned()) }
    };

    // A training request (MSH-11 `T`) is answered in training: a receiver running as `P`
    // refuses `T` messages and the other way round (`telerad serve --processing-id`).
    let processing_id = if msh.field(11).first().component(1).text().trim() == "T" { "T" } else { "P" };
    let mut header = MshBuilder::new(now, MsgValue { message_code: Some("ORU".into()), trigger_event: Some("R01".into()), message_structure: Some("ORU_R01".into()) }, control_id, processing_id, "2.5.1");
    header.sending_application = Some(HdValue { namespace_id: Some(platform.application.clone()), ..Default::default() });
    header.sending_facility = Some(HdValue { namespace_id: Some(platform.facility.clone()), ..Default::default() });
    header.receiving_application = Some(hd(3));
    header.receiving_facility = Some(hd(4));
    header.country_code = Some("FRA".into());
    header.character_set = vec!["UNICODE UTF-8".into()];
    header.message_profile_identifier = vec![EiValue { entity_identifier: Some("1.0".into()), namespace_id: Some("CISIS_TLR_HL7_V2".into()), ..Default::default() }];

    let radiologist = XcnValue {
        id_number: Some(platform.radiologist.id.clone()),
        family_name: Some(FnValue { surname: Some(platform.radiologist.family_name.clone()), ..Default::default() }),
        given_name: Some(platform.radiologist.given_name.clone()),
        prefix: platform.radiologist.prefix.clone(),
        assigning_authority: Some(HdValue { namespace_id: platform.radiologist.authority.clone(), universal_id: Some(RADIOLOGIST_AUTHORITY_OID.into()), universal_id_type: Some("ISO".into()) }),
        name_type_code: Some("D".into()),
        identifier_type_code: Some(platform.radiologist.id_type.clone()),
        ..Default::default()
    };
    let organisation = XonValue {
        organization_name: Some(platform.organisation.name.clone()),
        assigning_authority: Some(HdValue { namespace_id: platform.organisation.authority.clone(), universal_id: Some(platform.organisation.authority_oid.clone()), universal_id_type: Some("ISO".into()) }),
        identifier_type_code: Some(platform.organisation.id_type.clone()),
        organization_identifier: Some(platform.organisation.id.clone()),
        ..Default::default()
    };

    let (code, reason) = match answer {
        Answer::Accept(_) => ("OK", None),
        Answer::Refuse { reason } => ("OC", reason.clone()),
    };
    let mut orc_b = OrcBuilder::new(code);
    orc_b.placer_order_number = Some(placer.clone());
    orc_b.date_time_of_transaction = Some(now.into());
    orc_b.ordering_provider = vec![radiologist.clone()];
    orc_b.order_control_code_reason = reason.map(|r| CeValue { text: Some(r), ..Default::default() });
    orc_b.entering_organization = Some(CeValue { identifier: Some("PLATEFORME_TLR".into()), name_of_coding_system: Some("TLR_TYPE_ORGANISATION".into()), ..Default::default() });
    orc_b.ordering_facility_name = vec![organisation];
    let mut obr = ObrBuilder::new(CeValue {
        identifier: Some("REPONSE_DEMANDE".into()),
        text: Some("Réponse à une demande d'examen d'imagerie".into()),
        name_of_coding_system: Some("TLR_OBR_PROCEDURE".into()),
        ..Default::default()
    });
    obr.placer_order_number = Some(placer);
    obr.ordering_provider = vec![radiologist];
    let mut order = flow3::OrderObservationBuilder::new(orc_b, obr);
    if let Answer::Accept(protocol) = answer {
        let mut obx = ObxBuilder::new(
            CeValue { identifier: Some("PROTOCOLE_IMAGERIE".into()), text: Some("Protocole d'imagerie médicale".into()), name_of_coding_system: Some("TLR_OBSERVATION".into()), ..Default::default() },
            "F",
        );
        obx.set_id_obx = Some("1".into());
        match protocol {
            Protocol::Text(text) => {
                obx.value_type = Some("FT".into());
                obx.observation_value = vec![ft(text).into()];
            }
            Protocol::Encapsulated(bytes) => {
                obx.value_type = Some("ED".into());
                let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                obx.observation_value = vec![EdValue { type_of_data: Some("TEXT".into()), encoding: Some("Base64".into()), data: Some(data), ..Default::default() }.into()];
            }
        }
        order.observations.push(flow3::ObservationBuilder::new(obx));
    }
    // The PID builder needs PID-3 and PID-5; the segment written is the request's own PID,
    // every identity trait kept, so its values are not rebuilt here.
    let patient = flow3::PatientBuilder::new(PidBuilder::new("", telerad::datatypes::XpnValue::default()));
    let message = flow3::MessageBuilder::new(header, flow3::PatientResultBuilder::new(patient, order));
    let mut segments = message.to_segments();
    replace_patient(&mut segments, pid, pv1);
    let bytes = hl7_runtime::build::encode(segments)?;

    let checked = telerad::check(&bytes, &hl7_runtime::ParseOptions::default(), Some("flux3_oru_r01")).map_err(|_| RespondError::Missing("flux3_oru_r01 profile"))?;
    if !checked.is_valid() {
        return Err(RespondError::Invalid(checked.findings));
    }
    Ok(bytes)
}

/// Puts the request's PID (and PV1 after it, when the request had one) in place of the
/// builder's placeholder PID.
fn replace_patient(segments: &mut Vec<SegmentBuf>, pid: SegmentBuf, pv1: Option<SegmentBuf>) {
    if let Some(i) = segments.iter().position(|s| s.id == "PID") {
        if let Some(slot) = segments.get_mut(i) {
            *slot = pid;
        }
        if let Some(pv1) = pv1 {
            segments.insert(i + 1, pv1);
        }
    }
}

/// FT text: line breaks become the `\.br\` formatting command.
fn ft(text: &str) -> String {
    text.trim_end_matches(['\r', '\n']).replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\\.br\\")
}

fn non_empty(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn platform() -> Platform {
        serde_json::from_str(include_str!("../examples/platform.json")).unwrap()
    }

    fn request() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/flux1_nw_full.hl7")).unwrap()
    }

    #[test]
    fn a_training_request_is_answered_in_training() {
        let text = String::from_utf8(request()).unwrap();
        let training = text.replacen("|P|2.5.1|", "|T|2.5.1|", 1);
        assert_ne!(training, text);
        let bytes = build(training.as_bytes(), &platform(), &Answer::Refuse { reason: None }, "TLR-T", "20260106171205").unwrap();
        assert!(String::from_utf8(bytes).unwrap().starts_with("MSH|^~\\&|SI-TLR|PLAT-TLR|RIS|CHU_X|20260106171205||ORU^R01^ORU_R01|TLR-T|T|2.5.1|"));
    }

    #[test]
    fn accept_with_a_text_protocol_is_a_valid_flow_3() {
        let bytes = build(&request(), &platform(), &Answer::Accept(Protocol::Text("IRM genou\nsagittale DP FS | T1".into())), "TLR-1", "20260106171205").unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let segs: Vec<&str> = text.split('\r').collect();
        assert!(segs[0].starts_with("MSH|^~\\&|SI-TLR|PLAT-TLR|RIS|CHU_X|20260106171205||ORU^R01^ORU_R01|TLR-1|P|2.5.1|||||FRA|UNICODE UTF-8|||1.0^CISIS_TLR_HL7_V2"), "{}", segs[0]);
        let req = String::from_utf8(request()).unwrap();
        let req_pid = req.split('\r').find(|s| s.starts_with("PID|")).unwrap();
        assert_eq!(segs[1], req_pid, "the request's PID, as it was");
        assert!(segs[2].starts_with("PV1|"));
        assert!(segs[3].starts_with("ORC|OK|CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO|||||||20260106171205|||810009876543^DURAND^Pierre^^^DR^^^ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS|||||PLATEFORME_TLR^^TLR_TYPE_ORGANISATION||||"), "{}", segs[3]);
        assert!(segs[5].starts_with("OBX|1|FT|PROTOCOLE_IMAGERIE^"), "{}", segs[5]);
        assert!(segs[5].contains("IRM genou\\.br\\sagittale DP FS \\F\\ T1"), "{}", segs[5]);
        let checked = telerad::check(&bytes, &Default::default(), None).unwrap();
        assert_eq!(checked.message.as_ref().map(|m| m.profile().profile), Some("flux3_oru_r01"));
        assert!(checked.is_valid(), "{:?}", checked.findings);
    }

    #[test]
    fn accept_with_an_encapsulated_protocol_and_refuse() {
        let bytes = build(&request(), &platform(), &Answer::Accept(Protocol::Encapsulated(b"%PDF-1.4 ...".to_vec())), "TLR-2", "20260106171205").unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("OBX|1|ED|PROTOCOLE_IMAGERIE^Protocole d'imagerie médicale^TLR_OBSERVATION||^TEXT^^Base64^JVBERi0xLjQgLi4u||||||F\r"));
        let bytes = build(&request(), &platform(), &Answer::Refuse { reason: Some("Injection iodée contre-indiquée".into()) }, "TLR-3", "20260106171205").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("ORC|OC|"), "{text}");
        assert!(text.contains("||^Injection iodée contre-indiquée|PLATEFORME_TLR"), "{text}");
        assert!(!text.contains("OBX|"));
    }

    #[test]
    fn a_wrong_identity_gives_an_invalid_response_not_a_message() {
        let mut p = platform();
        p.organisation.id_type = "NOPE".into();
        let e = build(&request(), &p, &Answer::Refuse { reason: None }, "TLR-4", "20260106171205").unwrap_err();
        assert!(matches!(e, RespondError::Invalid(_)), "{e}");
        assert!(e.to_string().contains("ORC[1]-21"), "{e}");
    }
}
