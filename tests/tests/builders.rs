//! Messages built with the builders encode, parse back to equal values, and have a valid
//! structure: one test per flow, plus escaping and character sets on the way out.

use hl7_runtime::build::BuildError;
use telerad::datatypes::*;
use telerad::segments::*;
use telerad::{ack, flux1_orm_o01_nw as f1, flux2_orm_o01_ca as f2, flux3_oru_r01 as f3, flux4_omi_o23 as f4, AnyMessage};

fn msh(message_type: &str, id: &str, charset: &str) -> MshBuilder {
    let mut parts = message_type.split('^').map(|s| Some(s.to_owned()));
    let msg = MsgValue { message_code: parts.next().flatten(), trigger_event: parts.next().flatten(), message_structure: parts.next().flatten() };
    let mut msh = MshBuilder::new("20260106134418", msg, id, "P", "2.5.1");
    msh.sending_application = Some("RIS".into());
    msh.sending_facility = Some("CHU_X".into());
    msh.receiving_application = Some("SI-TLR".into());
    msh.receiving_facility = Some("PLAT-TLR".into());
    msh.country_code = Some("FRA".into());
    msh.character_set = vec![charset.to_owned()];
    msh.message_profile_identifier = vec![EiValue { entity_identifier: Some("1.0".into()), namespace_id: Some("CISIS_TLR_HL7_V2".into()), ..Default::default() }];
    msh
}

fn pid(family: &str) -> PidBuilder {
    let ins = CxValue {
        id_number: Some("279035121518989".into()),
        assigning_authority: Some(HdValue { namespace_id: Some("ASIP-SANTE-INS-NIR".into()), universal_id: Some("1.2.250.1.213.1.4.10".into()), universal_id_type: Some("ISO".into()) }),
        identifier_type_code: Some("INS".into()),
        ..Default::default()
    };
    let name = XpnValue { family_name: Some(FnValue { surname: Some(family.into()), ..Default::default() }), given_name: Some("DOMINIQUE".into()), name_type_code: Some("L".into()), ..Default::default() };
    let mut pid = PidBuilder::new(ins, name);
    pid.administrative_sex = Some("F".into());
    pid
}

fn placer() -> EiValue {
    EiValue { entity_identifier: Some("OPN101".into()), universal_id: Some("1.2.250.1.748.12345678.12".into()), universal_id_type: Some("ISO".into()), ..Default::default() }
}

fn orc(control: &str) -> OrcBuilder {
    let mut orc = OrcBuilder::new(control);
    orc.placer_order_number = Some(placer());
    orc
}

fn obr(procedure: &str) -> ObrBuilder {
    let mut obr = ObrBuilder::new(CeValue { identifier: Some(procedure.into()), name_of_coding_system: Some("TLR_OBR_PROCEDURE".into()), ..Default::default() });
    obr.placer_order_number = Some(placer());
    obr
}

fn obx(set_id: &str, value_type: &str, code: &str, sub_id: Option<&str>, value: hl7_runtime::build::Value, status: &str) -> ObxBuilder {
    let mut obx = ObxBuilder::new(CeValue { identifier: Some(code.into()), name_of_coding_system: Some("TLR_OBSERVATION".into()), ..Default::default() }, status);
    obx.set_id_obx = Some(set_id.into());
    obx.value_type = Some(value_type.into());
    obx.observation_sub_id = sub_id.map(Into::into);
    obx.observation_value = vec![value];
    obx
}

fn coded(code: &str, system: &str) -> hl7_runtime::build::Value {
    CeValue { identifier: Some(code.into()), name_of_coding_system: Some(system.into()), ..Default::default() }.into()
}

/// Encode, parse back with the same profile, compare the owned models, check the structure.
/// `bytes` come from the builders' direct writer; the owned model must encode to the same.
fn round_trip(buf: hl7_runtime::owned::MessageBuf, bytes: Vec<u8>, profile: &str) {
    assert_eq!(String::from_utf8_lossy(&buf.encode().expect("the owned model encodes")), String::from_utf8_lossy(&bytes), "the two encoding paths differ");
    let parsed = hl7_runtime::Message::parse(&bytes).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&bytes)));
    assert_eq!(parsed.to_owned_buf(), buf, "parsed back differs from what was built");
    let any = AnyMessage::from_message(parsed).expect("a profile fits");
    assert_eq!(any.placed().def.profile, profile);
    assert_eq!(any.placed().check_structure(), vec![], "structure findings");
    assert_eq!(any.placed().encode(), bytes, "re-encoding differs");
}

#[test]
fn flow1_request() {
    let modality = f1::ObservationBuilder::new(obx("1", "CE", "MODALITE_IMAGERIE", None, coded("MR", "DCM"), "O"));
    let mut detail = f1::OrderDetailBuilder::new(obr("TRANSMISSION_DEMANDE"), modality);
    detail.observations.push(f1::ObservationBuilder::new(obx("2", "CE", "REGION_ANATOMIQUE", Some("1.1"), coded("774007", "SCT"), "O")));
    let order = f1::OrderBuilder::new(orc("NW"), detail);
    let patient = f1::PatientBuilder::new(pid("PAT-TROIS"), f1::PatientVisitBuilder::new(Pv1Builder::new("O")));
    let msg = f1::MessageBuilder::new(msh("ORM^O01^ORM_O01", "000001", "UNICODE UTF-8"), patient, order);
    let bytes = msg.encode().unwrap();
    round_trip(msg.to_buf().unwrap(), bytes.clone(), "flux1_orm_o01_nw");
    let parsed = f1::Message::parse(&bytes).unwrap();
    let detail = parsed.orders().next().unwrap().order_detail().unwrap();
    assert_eq!(detail.modality().unwrap().value().unwrap().identifier().unwrap().text(), "MR");
    assert_eq!(detail.anatomical_region().unwrap().value().unwrap().identifier().unwrap().text(), "774007");
}

#[test]
fn flow2_cancellation() {
    let mut orc = orc("CA");
    orc.order_control_code_reason = Some(CeValue { text: Some("Patient transféré | autre site".into()), ..Default::default() });
    let order = f2::OrderBuilder::new(orc, f2::OrderDetailBuilder::new(obr("ANNULATION_DEMANDE")));
    let patient = f2::PatientBuilder::new(pid("PAT-TROIS"), f2::PatientVisitBuilder::new(Pv1Builder::new("O")));
    let msg = f2::MessageBuilder::new(msh("ORM^O01^ORM_O01", "000002", "UNICODE UTF-8"), patient, order);
    let bytes = msg.encode().unwrap();
    // The `|` in the text is escaped on the way out and decoded on the way back.
    assert!(String::from_utf8_lossy(&bytes).contains("Patient transféré \\F\\ autre site"));
    round_trip(msg.to_buf().unwrap(), bytes, "flux2_orm_o01_ca");
}

#[test]
fn flow3_response_with_protocol() {
    let mut order = f3::OrderObservationBuilder::new(orc("OK"), obr("REPONSE_DEMANDE"));
    let text = "\\H\\Protocole IRM\\N\\\\.br\\Séquences T1 & T2 ^ injection ~ gadolinium";
    order.observations.push(f3::ObservationBuilder::new(obx("1", "FT", "PROTOCOLE_IMAGERIE", None, text.into(), "F")));
    let result = f3::PatientResultBuilder::new(f3::PatientBuilder::new(pid("PAT-TROIS")), order);
    let msg = f3::MessageBuilder::new(msh("ORU^R01^ORU_R01", "000003", "UNICODE UTF-8"), result);
    let bytes = msg.encode().unwrap();
    // Formatting commands pass through untouched; delimiters in text are escaped.
    let wire = String::from_utf8(bytes.clone()).unwrap();
    assert!(wire.contains("\\H\\Protocole IRM\\N\\\\.br\\Séquences T1 \\T\\ T2 \\S\\ injection \\R\\ gadolinium"), "{wire}");
    round_trip(msg.to_buf().unwrap(), bytes.clone(), "flux3_oru_r01");
    let parsed = f3::Message::parse(&bytes).unwrap();
    let order = parsed.patient_result().unwrap().order_observations().next().unwrap();
    assert_eq!(order.protocol_texts().next().unwrap().value().unwrap().text(), text);
}

#[test]
fn flow4_complement_with_two_orders() {
    let order = |n: &str| {
        let ipc = IpcBuilder::new(EiValue::from(format!("ACN{n}").as_str()), EiValue::from("24590-2"), EiValue::from(format!("1.2.250.1.213.4.5.2.1.{n}").as_str()), EiValue::from("24590-2"));
        let url = ObxBuilder::new(CeValue::from("URL_PARTIELLE_VIEWER"), "F");
        let mut observation = f4::ObservationBuilder::new(url);
        observation.obx.value_type = Some("ED".into());
        let mut o = f4::OrderBuilder::new(orc("SR"), f4::TimingBuilder::new(Tq1Builder::new()), obr("COMPLEMENT_POST_ACTE"), observation, ipc);
        o.observations.push(f4::ObservationBuilder::new(obx("2", "CE", "CODE_ACTE_IMAGERIE", None, coded("24590-2", "LN"), "F")));
        o
    };
    let patient = f4::PatientBuilder::new(pid("PAT-TROIS"), f4::PatientVisitBuilder::new(Pv1Builder::new("O")));
    let mut msg = f4::MessageBuilder::new(msh("OMI^O23^OMI_O23", "000004", "UNICODE UTF-8"), patient, order("101"));
    msg.orders.push(order("102"));
    let bytes = msg.encode().unwrap();
    let buf = msg.to_buf().unwrap();
    let parsed = hl7_runtime::Message::parse(&bytes).unwrap();
    assert_eq!(parsed.to_owned_buf(), buf);
    let typed = f4::Message::from_message(parsed);
    assert_eq!(typed.orders().count(), 2);
    // Only the guide's own rules are missing here (viewer URL value, procedure code slice
    // present): the structure itself is complete.
    let findings: Vec<String> = typed.0.check_structure().iter().map(|f| f.to_string()).collect();
    assert_eq!(findings, Vec::<String>::new());
}

#[test]
fn ack_round_trip() {
    let msg = ack::MessageBuilder::new(msh("ACK^O01^ACK", "000005", "UNICODE UTF-8"), MsaBuilder::new("AA", "000001"));
    let bytes = msg.encode().unwrap();
    assert_eq!(bytes.last(), Some(&b'\r'), "an ACK ends with a segment terminator");
    round_trip(msg.to_buf().unwrap(), bytes, "ack");
}

#[test]
fn latin9_is_written_in_latin9_and_never_substituted() {
    let mut pid = pid("CŒURDACIER");
    pid.patient_address = vec![XadValue { city: Some("Besançon".into()), ..Default::default() }];
    let patient = f2::PatientBuilder::new(pid.clone(), f2::PatientVisitBuilder::new(Pv1Builder::new("O")));
    let order = f2::OrderBuilder::new(orc("CA"), f2::OrderDetailBuilder::new(obr("ANNULATION_DEMANDE")));
    let msg = f2::MessageBuilder::new(msh("ORM^O01^ORM_O01", "000006", "8859/15"), patient, order.clone());
    let bytes = msg.encode().unwrap();
    assert!(bytes.windows(2).any(|w| w == [b'C', 0xBC]), "Œ is 0xBC in ISO-8859-15");
    assert!(std::str::from_utf8(&bytes).is_err());
    round_trip(msg.to_buf().unwrap(), bytes, "flux2_orm_o01_ca");

    // Œ does not exist in ISO-8859-1: an error, not a '?'.
    let patient = f2::PatientBuilder::new(pid, f2::PatientVisitBuilder::new(Pv1Builder::new("O")));
    let msg = f2::MessageBuilder::new(msh("ORM^O01^ORM_O01", "000007", "8859/1"), patient, order);
    assert!(matches!(msg.encode(), Result::Err(BuildError::Encode(_))), "{:?}", msg.encode());
}
