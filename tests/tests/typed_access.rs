//! Typed access to real fields of each flow, through groups and the guide's slices.

use hl7_runtime::path;
use telerad_tests::fixture;

#[test]
fn flow1_order_number_modality_and_anatomical_region() {
    let bytes = fixture("flux1_nw_full.hl7");
    let msg = telerad::flux1_orm_o01_nw::Message::parse(&bytes).unwrap();
    assert_eq!(msg.msh().unwrap().message_type().unwrap().message_code().unwrap().text(), "ORM");
    let order = msg.orders().next().expect("one ORDER");
    let orc = order.orc().unwrap();
    assert_eq!(orc.order_control().unwrap().text(), "NW");
    let placer = orc.placer_order_number().expect("ORC-2");
    assert_eq!(placer.entity_identifier().unwrap().text(), "CMD-2026-000421");
    assert_eq!(placer.universal_id_type().unwrap().text(), "ISO");
    // Positional alias and named accessor are the same element.
    assert_eq!(orc.orc_2().unwrap().part().raw(), placer.part().raw());

    let detail = order.order_detail().unwrap();
    let modality = detail.modality().expect("the modality slice is present");
    let ce = modality.value().expect("OBX-5 as CE");
    assert_eq!(ce.identifier().unwrap().text(), "MR");
    assert_eq!(ce.name_of_coding_system().unwrap().text(), "DCM");
    // The NTE that follows the modality OBX belongs to its OBSERVATION group.
    assert_eq!(modality.ntes().count(), 1);

    let region = detail.anatomical_region().expect("main anatomical region, OBX-4 n.1");
    assert_eq!(region.obx().unwrap().observation_sub_id().unwrap().text(), "1.1");
    assert_eq!(region.value().unwrap().name_of_coding_system().unwrap().text(), "SCT");
    let precision = detail.topographic_precision().expect("topographic precision, OBX-4 n.2");
    assert_eq!(precision.obx().unwrap().observation_sub_id().unwrap().text(), "1.2");

    let height = detail.body_height().expect("height");
    assert_eq!(height.value().unwrap().text(), "165");
    assert_eq!(detail.history().unwrap().value().unwrap().text(), "Ligamentoplastie LCA genou gauche en 2015\\.br\\Pas d'allergie connue");
    assert!(detail.pregnancy_status().is_some());
    assert_eq!(detail.observations().count(), 7);
    assert!(msg.0.check_structure().is_empty(), "{:?}", msg.0.check_structure());
}

#[test]
fn flow1_patient_repetitions_and_subcomponents() {
    let bytes = fixture("flux1_nw_repetitions.hl7");
    let msg = telerad::flux1_orm_o01_nw::Message::parse(&bytes).unwrap();
    let pid = msg.patient().unwrap().pid().unwrap();
    let ids: Vec<_> = pid.patient_identifier_list().collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0].identifier_type_code().unwrap().text(), "INS");
    let authority = ids[0].assigning_authority().unwrap();
    assert_eq!(authority.universal_id().unwrap().text(), "1.2.250.1.213.1.4.10");
    assert_eq!(ids[1].identifier_type_code().unwrap().text(), "PI");
    assert_eq!(pid.patient_name().len(), 2);
    assert_eq!(pid.pid_5().get(2).unwrap().name_type_code().unwrap().text(), "D");
    assert!(pid.pid_5().get(3).is_none());
}

#[test]
fn flow2_cancellation_reason() {
    let bytes = fixture("flux2_ca.hl7");
    let msg = telerad::flux2_orm_o01_ca::Message::parse(&bytes).unwrap();
    let orc = msg.orders().next().unwrap().orc().unwrap();
    assert_eq!(orc.order_control().unwrap().text(), "CA");
    let reason = orc.order_control_code_reason().expect("ORC-16");
    assert!(!reason.part().text().is_empty());
    let obr = msg.orders().next().unwrap().order_detail().unwrap().obr().unwrap();
    assert_eq!(obr.universal_service_identifier().unwrap().identifier().unwrap().text(), "ANNULATION_DEMANDE");
}

#[test]
fn flow3_protocol_as_text_and_as_encapsulated_data() {
    let bytes = fixture("flux3_ok_ft.hl7");
    let msg = telerad::flux3_oru_r01::Message::parse(&bytes).unwrap();
    let result = msg.patient_result().unwrap();
    let order = result.order_observations().next().unwrap();
    assert_eq!(order.orc().unwrap().order_control().unwrap().text(), "OK");
    let protocol = order.protocol_texts().next().expect("protocol as FT");
    let text = protocol.value().unwrap().text();
    // Formatting commands are kept as they are; escapes of delimiters are decoded.
    assert!(text.starts_with("\\H\\Protocole IRM genou gauche\\N\\\\.br\\"), "{text}");
    assert_eq!(order.protocol_encapsulateds().count(), 0);

    let bytes = fixture("flux3_ok_ed.hl7");
    let msg = telerad::flux3_oru_r01::Message::parse(&bytes).unwrap();
    let order = msg.patient_result().unwrap().order_observations().next().unwrap();
    let ed = order.protocol_encapsulateds().next().expect("protocol as ED").value().unwrap();
    assert_eq!(ed.type_of_data().unwrap().text(), "TEXT");
    assert_eq!(ed.encoding().unwrap().text(), "Base64");
    assert!(ed.data().unwrap().raw().len() > 400);
}

#[test]
fn flow3_refusal_has_no_protocol() {
    let bytes = fixture("flux3_oc_refusal.hl7");
    let msg = telerad::flux3_oru_r01::Message::parse(&bytes).unwrap();
    let order = msg.patient_result().unwrap().order_observations().next().unwrap();
    assert_eq!(order.orc().unwrap().order_control().unwrap().text(), "OC");
    assert_eq!(order.observations().count(), 0);
}

#[test]
fn flow4_study_instance_uid_and_several_orders() {
    let bytes = fixture("flux4_sr.hl7");
    let msg = telerad::flux4_omi_o23::Message::parse(&bytes).unwrap();
    let order = msg.orders().next().unwrap();
    let ipc = order.ipc().unwrap();
    assert_eq!(ipc.study_instance_uid().unwrap().entity_identifier().unwrap().text(), "1.2.250.1.213.4.5.2.1.470001");
    assert_eq!(ipc.accession_identifier().unwrap().entity_identifier().unwrap().text(), "ACN-2026-0470-01");
    assert_eq!(order.procedure_code().unwrap().value().unwrap().identifier().unwrap().text(), "44139-4");
    let url = order.viewer_url().unwrap().value().unwrap();
    assert_eq!(url.encoding().unwrap().text(), "Base64");
    assert_eq!(order.administered_product_codes().count(), 1);
    assert_eq!(order.device_models().next().unwrap().value().unwrap().text(), "Biograph Vision 600");
    assert_eq!(order.timings().count(), 1);

    let bytes = fixture("flux4_sr_three_orders.hl7");
    let msg = telerad::flux4_omi_o23::Message::parse(&bytes).unwrap();
    let uids: Vec<String> = msg.orders().map(|o| o.ipc().unwrap().study_instance_uid().unwrap().entity_identifier().unwrap().text().into_owned()).collect();
    assert_eq!(uids.len(), 3);
    assert!(uids[0] != uids[1] && uids[1] != uids[2]);
    assert!(msg.0.check_structure().is_empty(), "{:?}", msg.0.check_structure());
}

#[test]
fn generic_paths_through_groups() {
    let bytes = fixture("flux4_sr_three_orders.hl7");
    let msg = telerad::flux4_omi_o23::Message::parse(&bytes).unwrap();
    let third_uid = msg.orders().nth(2).unwrap().ipc().unwrap().study_instance_uid().unwrap().entity_identifier().unwrap().text().into_owned();
    assert_eq!(path::get(&msg.0, "ORDER[3]/IPC-3").unwrap().unwrap().text(), third_uid);
    assert_eq!(path::get(&msg.0, "ORDER[2]/OBX[2]-3.1").unwrap().unwrap().text(), "CODE_ACTE_IMAGERIE");
    assert_eq!(path::get(&msg.0, "PID-3[1].4.2").unwrap().unwrap().text(), "1.2.250.1.213.1.4.10");
    assert_eq!(path::get(&msg.0, "MSH-9.3").unwrap().unwrap().text(), "OMI_O23");
    assert!(path::get(&msg.0, "ORDER[4]/IPC-3").unwrap().is_none());
    assert!(path::get(&msg.0, "ORDER[x]/IPC-3").is_err());
    let loc = path::get(&msg.0, "ORDER[2]/OBX[2]-3.1").unwrap().unwrap().location();
    assert_eq!(loc.segment_id_str(), Some("OBX"));
    assert_eq!(loc.field, Some(3));
}

#[test]
fn z_segment_is_kept_in_place() {
    let bytes = fixture("flux1_nw_zsegment.hl7");
    let msg = telerad::flux1_orm_o01_nw::Message::parse(&bytes).unwrap();
    let detail = msg.orders().next().unwrap().order_detail().unwrap();
    let z: Vec<_> = detail.unexpected().collect();
    assert_eq!(z.len(), 1);
    assert_eq!(z[0].id(), "ZTL");
    // What follows the Z segment is still placed: the NTE after OBR and the OBX groups.
    assert!(detail.modality().is_ok());
    assert_eq!(detail.ntes().count(), 1);
    assert_eq!(msg.encode(), bytes);
}

#[test]
fn latin9_text_is_decoded_from_msh18() {
    let bytes = fixture("flux1_nw_latin9.hl7");
    assert!(std::str::from_utf8(&bytes).is_err(), "the fixture is not UTF-8");
    let msg = telerad::flux1_orm_o01_nw::Message::parse(&bytes).unwrap();
    assert_eq!(msg.er7().charset(), hl7_runtime::Charset::Latin9);
    let json = serde_json::to_string(&hl7_runtime::json::message(&msg.0, &telerad::REGISTRY)).unwrap();
    assert!(json.contains('€') && json.contains('Œ'), "{json}");
    assert_eq!(msg.encode(), bytes);
}

#[test]
fn ack_fields() {
    let bytes = fixture("ack_ae.hl7");
    let msg = telerad::ack::Message::parse(&bytes).unwrap();
    let msa = msg.msa().unwrap();
    assert_eq!(msa.acknowledgment_code().unwrap().text(), "AE");
    let err = msg.errs().next().expect("ERR");
    assert_eq!(err.hl7_error_code().unwrap().identifier().unwrap().text(), "101");
}

#[test]
fn missing_required_elements_are_reported_where_read() {
    let bytes = b"MSH|^~\\&|RIS|CHU_X|SI-TLR|PLAT-TLR|202310030830||ORM^O01^ORM_O01|12345|P|2.5.1|||||FRA|8859/15|||1.0^CISIS_TLR_HL7_V2\r";
    let msg = telerad::flux1_orm_o01_nw::Message::parse(bytes).unwrap();
    let missing = msg.patient().unwrap_err();
    assert_eq!(missing.path, "PATIENT");
    assert_eq!(msg.orders().count(), 0);
    let findings: Vec<String> = msg.0.check_structure().iter().map(|f| f.to_string()).collect();
    assert_eq!(findings, ["PATIENT: 0 found, at least 1 required", "ORDER: 0 found, at least 1 required"]);
}

#[test]
fn typed_messages_serialise_with_serde() {
    let bytes = fixture("flux3_ok_ed.hl7");
    let msg = telerad::flux3_oru_r01::Message::parse(&bytes).unwrap();
    let v = serde_json::to_value(&msg).unwrap();
    assert_eq!(v["profile"], "flux3_oru_r01");
    let obs = &v["PATIENT_RESULT"]["ORDER_OBSERVATION"][0]["OBSERVATION"][0];
    assert_eq!(obs["slice"], "protocol_encapsulated");
    // OBX-5 is read with OBX-2's datatype (ED): its components are named.
    assert_eq!(obs["OBX"]["observation_value"][0]["encoding"], "Base64");
    let any = telerad::AnyMessage::from_message(hl7_runtime::Message::parse(&bytes).unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&any).unwrap(), v);
}

/// The registry's look-ups binary-search its lists, falling back to a scan when an id is not
/// found (`hl7_runtime::meta::Registry`): the generated lists must be sorted for the search
/// to find anything, and every definition must be found by its id.
#[test]
fn the_generated_registry_is_sorted_and_every_definition_is_found_by_id() {
    let r = &telerad::REGISTRY;
    let sorted = |ids: Vec<&str>| ids.windows(2).all(|w| matches!(w, [a, b] if a < b));
    assert!(sorted(r.segments.iter().map(|s| s.id).collect()), "segments");
    assert!(sorted(r.datatypes.iter().map(|d| d.id).collect()), "datatypes");
    assert!(sorted(r.tables.iter().map(|t| t.id).collect()), "tables");
    assert!(r.segments.iter().all(|s| r.segment(s.id).is_some_and(|f| std::ptr::eq(f, *s))));
    assert!(r.datatypes.iter().all(|d| r.datatype(d.id).is_some_and(|f| std::ptr::eq(f, *d))));
    assert!(r.tables.iter().all(|t| r.table(t.id).is_some_and(|f| std::ptr::eq(f, *t))));
    assert!(r.segment("ZZZ").is_none() && r.table("9999").is_none());
}

/// The profile a message is read as, chosen from MSH-9 and the first ORC-1 (read straight
/// from the message's index): the flow by ORC-1, spaces around it ignored, the whole field
/// compared; no ORC takes the first profile of the message type; what fits nothing is
/// reported with the values read.
#[test]
fn the_profile_is_chosen_by_the_header_and_the_first_orc_1() {
    let flux1 = String::from_utf8(fixture("flux1_nw_full.hl7")).expect("UTF-8 fixture");
    let with_orc1 = |orc1: &str| flux1.replacen("\rORC|NW|", &format!("\rORC|{orc1}|"), 1);
    let without_orc: String = flux1.split_inclusive('\r').filter(|s| !s.starts_with("ORC|")).collect();
    let choose = |text: &str| {
        let message = hl7_runtime::Message::parse(text.as_bytes()).expect("parses");
        telerad::AnyMessage::from_message(message).map(|m| m.profile().profile).map_err(|e| (e.message_type, e.order_control))
    };
    assert_eq!(choose(&flux1), Ok("flux1_orm_o01_nw"));
    assert_eq!(choose(&with_orc1("CA")), Ok("flux2_orm_o01_ca"));
    assert_eq!(choose(&with_orc1(" CA ")), Ok("flux2_orm_o01_ca"));
    assert_eq!(choose(&without_orc), Ok("flux1_orm_o01_nw"));
    assert_eq!(choose(&with_orc1("XX")), Err(("ORM^O01^ORM_O01".to_owned(), Some("XX".to_owned()))));
    assert_eq!(choose(&with_orc1("NW^X")), Err(("ORM^O01^ORM_O01".to_owned(), Some("NW^X".to_owned()))));
    let adt = flux1.replacen("|ORM^O01^ORM_O01|", "|ADT^A01^ADT_A01|", 1);
    assert_eq!(choose(&adt), Err(("ADT^A01^ADT_A01".to_owned(), Some("NW".to_owned()))));
    let adt_without_orc = without_orc.replacen("|ORM^O01^ORM_O01|", "|ADT^A01|", 1);
    assert_eq!(choose(&adt_without_orc), Err(("ADT^A01".to_owned(), None)));
    let flux3 = String::from_utf8(fixture("flux3_ok_ft.hl7")).expect("UTF-8 fixture");
    assert_eq!(choose(&flux3), Ok("flux3_oru_r01"));
}
