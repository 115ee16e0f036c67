//! What the encoding benchmarks write: a message built with the builders, not a copy of
//! received bytes (shared by `benches/encode.rs` and `examples/instructions.rs`).

use telerad::datatypes::*;
use telerad::flux3_oru_r01 as f3;
use telerad::segments::*;

/// The protocol text of `flux3_ok_ft.hl7`, decoded: formatting commands and characters to escape.
pub const PROTOCOL: &str = "\\H\\Protocole IRM genou gauche\\N\\\\.br\\Antenne genou dédiée, genou en légère flexion.\\.br\\Séquences : sagittale DP FS, coronale DP FS, axiale DP FS (3 mm), sagittale T1.\\.br\\Pas d'injection de gadolinium.\\.br\\Images à déposer sur \\\\pacs-tlr\\entrant, délai d'interprétation 48h & relecture ^ J+1.";

fn placer() -> EiValue {
    EiValue { entity_identifier: Some("CMD-2026-000421".into()), universal_id: Some("1.2.250.1.748.12345678.12".into()), universal_id_type: Some("ISO".into()), ..Default::default() }
}

fn doctor() -> XcnValue {
    XcnValue {
        id_number: Some("810009876543".into()),
        family_name: Some(FnValue { surname: Some("DURAND".into()), ..Default::default() }),
        given_name: Some("Pierre".into()),
        prefix: Some("DR".into()),
        assigning_authority: Some(HdValue { namespace_id: Some("ASIP-SANTE-PS".into()), universal_id: Some("1.2.250.1.71.4.2.1".into()), universal_id_type: Some("ISO".into()) }),
        name_type_code: Some("D".into()),
        identifier_type_code: Some("IDNPS".into()),
        ..Default::default()
    }
}

/// The flow-3 response of `flux3_ok_ft.hl7` (patient, order, the long FT protocol with
/// characters to escape), built with the generated builders.
pub fn flow3_response() -> f3::MessageBuilder {
    let msg_type = MsgValue { message_code: Some("ORU".into()), trigger_event: Some("R01".into()), message_structure: Some("ORU_R01".into()) };
    let mut msh = MshBuilder::new("20260106171205", msg_type, "TLR-F3-20260106-0001", "P", "2.5.1");
    msh.sending_application = Some("SI-TLR".into());
    msh.sending_facility = Some("PLAT-TLR".into());
    msh.receiving_application = Some("RIS".into());
    msh.receiving_facility = Some("CHU_X".into());
    msh.country_code = Some("FRA".into());
    msh.character_set = vec!["UNICODE UTF-8".to_owned()];
    msh.message_profile_identifier = vec![EiValue { entity_identifier: Some("1.0".into()), namespace_id: Some("CISIS_TLR_HL7_V2".into()), ..Default::default() }];

    let ins = CxValue {
        id_number: Some("288056912304561".into()),
        assigning_authority: Some(HdValue { namespace_id: Some("ASIP-SANTE-INS-NIR".into()), universal_id: Some("1.2.250.1.213.1.4.10".into()), universal_id_type: Some("ISO".into()) }),
        identifier_type_code: Some("INS".into()),
        ..Default::default()
    };
    let name = XpnValue {
        family_name: Some(FnValue { surname: Some("LEFEBVRE".into()), ..Default::default() }),
        given_name: Some("CAMILLE".into()),
        second_and_further_given_names_or_initials_thereof: Some("CAMILLE ANNE".into()),
        name_type_code: Some("L".into()),
        ..Default::default()
    };
    let mut pid = PidBuilder::new(ins, name);
    pid.date_time_of_birth = Some(TsValue { time: Some("19880512".into()), ..Default::default() });
    pid.administrative_sex = Some("F".into());

    let mut orc = OrcBuilder::new("OK");
    orc.placer_order_number = Some(placer());
    orc.date_time_of_transaction = Some(TsValue { time: Some("20260106171205".into()), ..Default::default() });
    orc.ordering_provider = vec![doctor()];
    let mut obr = ObrBuilder::new(CeValue { identifier: Some("REPONSE_DEMANDE".into()), text: Some("Réponse à une demande d'examen d'imagerie".into()), name_of_coding_system: Some("TLR_OBR_PROCEDURE".into()), ..Default::default() });
    obr.placer_order_number = Some(placer());
    obr.ordering_provider = vec![doctor()];
    let mut obx = ObxBuilder::new(CeValue { identifier: Some("PROTOCOLE_IMAGERIE".into()), text: Some("Protocole d'imagerie médicale".into()), name_of_coding_system: Some("TLR_OBSERVATION".into()), ..Default::default() }, "F");
    obx.set_id_obx = Some("1".into());
    obx.value_type = Some("FT".into());
    obx.observation_value = vec![PROTOCOL.into()];
    let mut order = f3::OrderObservationBuilder::new(orc, obr);
    order.observations.push(f3::ObservationBuilder::new(obx));
    let result = f3::PatientResultBuilder::new(f3::PatientBuilder::new(pid), order);
    f3::MessageBuilder::new(msh, result)
}
