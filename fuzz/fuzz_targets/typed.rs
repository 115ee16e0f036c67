//! Every typed message of the telerad crate: `AnyMessage` (profile chosen from the header) and
//! each profile's `Message::parse` whatever the header says, strict and lenient. What parses is
//! serialised to JSON (which visits every segment, field and component the registry defines),
//! structure-checked, re-encoded and read through a few generated accessors.
#![no_main]

use hl7_runtime::ParseOptions;
use libfuzzer_sys::fuzz_target;
use telerad::{ack, flux1_orm_o01_nw, flux2_orm_o01_ca, flux3_oru_r01, flux4_omi_o23, AnyMessage, REGISTRY};

fn read(placed: &hl7_runtime::typed::Placed<'_>, data: &[u8]) {
    assert_eq!(placed.encode(), data, "a placed message re-encodes to its input");
    let _ = serde_json::to_vec(&hl7_runtime::json::message(placed, &REGISTRY)).expect("JSON of a placed message");
    let _ = placed.check_structure();
    for path in ["MSH-10", "PATIENT/PID-3[2].4.2", "ORDER[1]/OBX[2]-5.1", "ORDER[2]/ORC-1", "MSA-1"] {
        let _ = telerad::runtime::path::get(placed, path).map(|t| t.map(|t| t.text()));
    }
}

fuzz_target!(|data: &[u8]| {
    for options in [ParseOptions::default(), ParseOptions::lenient()] {
        let Ok(message) = hl7_runtime::Message::parse_with(data, &options) else { continue };
        if let Ok(any) = AnyMessage::from_message(message.clone()) {
            let _ = serde_json::to_vec(&any).expect("JSON of AnyMessage");
            read(any.placed(), data);
        }
        if let Ok(m) = flux1_orm_o01_nw::Message::parse_with(data, &options) {
            read(&m.0, data);
            let _ = m.msh().map(|h| h.message_control_id().map(|v| v.text()));
            let _ = m.patient().map(|p| p.pid().map(|pid| pid.patient_identifier_list().count()));
            for order in m.orders() {
                let _ = order.orc().map(|o| o.placer_order_number().and_then(|ei| ei.entity_identifier()).map(|s| s.text()));
                if let Ok(detail) = order.order_detail() {
                    let _ = detail.modality().map(|s| s.value().and_then(|ce| ce.identifier()).map(|t| t.text()));
                    let _ = detail.anatomical_region().map(|s| s.value().and_then(|ce| ce.identifier()).map(|t| t.text()));
                }
            }
        }
        if let Ok(m) = flux2_orm_o01_ca::Message::parse_with(data, &options) {
            read(&m.0, data);
            let _ = m.msh().map(|h| h.message_type().map(|t| t.0.raw().len()));
        }
        if let Ok(m) = flux3_oru_r01::Message::parse_with(data, &options) {
            read(&m.0, data);
            let _ = m.msh().map(|h| h.sending_application().map(|t| t.0.raw().len()));
        }
        if let Ok(m) = flux4_omi_o23::Message::parse_with(data, &options) {
            read(&m.0, data);
            let _ = m.msh().map(|h| h.receiving_facility().map(|t| t.0.raw().len()));
        }
        if let Ok(m) = ack::Message::parse_with(data, &options) {
            read(&m.0, data);
            let _ = m.msh().map(|h| h.character_set().count());
        }
    }
});
