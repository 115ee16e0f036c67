//! Build a flow-1 request (ORM^O01, ORC-1 NW), encode it, read it back through the typed view,
//! and answer it with an ACK. Run: `cargo run -p telerad --example request_and_ack`.

use telerad::datatypes::{CeValue, CxValue, EiValue, FnValue, HdValue, MsgValue, XpnValue};
use telerad::segments::{MsaBuilder, MshBuilder, ObrBuilder, ObxBuilder, OrcBuilder, PidBuilder, Pv1Builder};
use telerad::{ack, flux1_orm_o01_nw as flow1};

fn header(message_type: [&str; 3], control_id: &str) -> MshBuilder {
    let [code, event, structure] = message_type.map(|s| Some(s.to_owned()));
    let mut msh = MshBuilder::new("20260106134418", MsgValue { message_code: code, trigger_event: event, message_structure: structure }, control_id, "P", "2.5.1");
    msh.sending_application = Some("RIS".into());
    msh.receiving_application = Some("SI-TLR".into());
    msh.country_code = Some("FRA".into());
    msh.character_set = vec!["UNICODE UTF-8".into()];
    msh.message_profile_identifier = vec![EiValue { entity_identifier: Some("1.0".into()), namespace_id: Some("CISIS_TLR_HL7_V2".into()), ..Default::default() }];
    msh
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ins = CxValue {
        id_number: Some("279035121518989".into()),
        assigning_authority: Some(HdValue { universal_id: Some("1.2.250.1.213.1.4.10".into()), universal_id_type: Some("ISO".into()), ..Default::default() }),
        identifier_type_code: Some("INS".into()),
        ..Default::default()
    };
    let name = XpnValue { family_name: Some(FnValue { surname: Some("PAT-TROIS".into()), ..Default::default() }), given_name: Some("DOMINIQUE".into()), ..Default::default() };
    let patient = flow1::PatientBuilder::new(PidBuilder::new(ins, name), flow1::PatientVisitBuilder::new(Pv1Builder::new("O")));

    let mut orc = OrcBuilder::new("NW");
    orc.placer_order_number = Some(EiValue { entity_identifier: Some("OPN101".into()), universal_id: Some("1.2.250.1.748.12345678.12".into()), universal_id_type: Some("ISO".into()), ..Default::default() });
    let obr = ObrBuilder::new(CeValue { identifier: Some("TRANSMISSION_DEMANDE".into()), name_of_coding_system: Some("TLR_OBR_PROCEDURE".into()), ..Default::default() });
    let mut modality = ObxBuilder::new(CeValue { identifier: Some("MODALITE_IMAGERIE".into()), name_of_coding_system: Some("TLR_OBSERVATION".into()), ..Default::default() }, "O");
    modality.value_type = Some("CE".into());
    modality.observation_value = vec![CeValue { identifier: Some("MR".into()), name_of_coding_system: Some("DCM".into()), ..Default::default() }.into()];
    let order = flow1::OrderBuilder::new(orc, flow1::OrderDetailBuilder::new(obr, flow1::ObservationBuilder::new(modality)));

    let request = flow1::MessageBuilder::new(header(["ORM", "O01", "ORM_O01"], "MSG0001"), patient, order).encode()?;
    println!("{}\n", String::from_utf8_lossy(&request).replace('\r', "\n"));

    let parsed = flow1::Message::parse(&request)?;
    let detail = parsed.orders().next().ok_or("no ORDER")?.order_detail()?;
    let modality = detail.modality()?.value().and_then(|ce| ce.identifier()).map(|c| c.text().into_owned());
    println!("modality: {modality:?}");
    for finding in parsed.0.check_structure() {
        println!("structure: {finding}"); // the main anatomical region is missing here
    }

    let control_id = parsed.msh()?.message_control_id()?.text().into_owned();
    let answer = ack::MessageBuilder::new(header(["ACK", "O01", "ACK"], "ACK0001"), MsaBuilder::new("AA", control_id)).encode()?;
    println!("\n{}", String::from_utf8_lossy(&answer).replace('\r', "\n"));
    Ok(())
}
