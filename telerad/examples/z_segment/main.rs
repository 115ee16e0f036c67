//! A Z segment end to end: an application declares its own segment (ZTL) and a variant of the
//! guide's flow 1 that ends with it, registers both, and then parses, reads, validates,
//! acknowledges and serialises a message exactly as it would one of the guide's.
//!
//! Run: `cargo run -p telerad --example z_segment` (reads `tests/fixtures/flux1_nw_ztl.hl7`, or
//! the file given as its argument).
//!
//! Its only HL7 dependency is telerad, as an application's would be: the derives are
//! `telerad::derive`, the runtime is `telerad::runtime`.

use telerad::runtime::ack::{self, AckOptions, Decision, Identity};
use telerad::runtime::meta::Registry;
use telerad::runtime::select;
use telerad::runtime::validate::{self, Severity};

mod ztl;

use ztl::{RequestWithZtl, Ztl};

/// The guide's definitions plus the application's: profile selection tries ours first.
static REGISTRY: Registry = Registry::extend(&telerad::REGISTRY, &[Ztl::DEF], &[], &[RequestWithZtl::DEF]);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/flux1_nw_ztl.hl7").to_owned());
    let bytes = std::fs::read(&path)?;

    // Parse, and let profile selection pick the application's profile from MSH-9 and ORC-1.
    let message = telerad::runtime::Message::parse(&bytes)?;
    let profile = select::profile(&message, &REGISTRY)?;
    println!("profile: {} ({})", profile.profile, profile.title);
    let placed = telerad::runtime::typed::Placed::new(message, profile);

    // Typed access: the derived struct holds every element, generated groups included.
    let typed = RequestWithZtl::from_placed(&placed);
    println!("MSH-10: {}, {} NTE at the message level", typed.msh?.message_control_id()?.text(), typed.nte.len());
    let ztl = typed.ztl?;
    println!("ZTL-1 study: {}", ztl.study_instance_uid?.text());
    println!("ZTL-2 priority: {}", ztl.priority?.text());
    for reason in ztl.reason {
        println!("ZTL-3 reason: {}", reason.text());
    }
    println!("ZTL at {}", ztl.segment.location());
    let patient = typed.patient?.pid()?;
    let name = patient.patient_name().next().and_then(|n| n.family_name()).and_then(|f| f.surname()).map(|s| s.text().into_owned());
    println!("patient: {name:?}, {} order(s)", typed.order.len());

    // Validation: the guide's rules (through `extends`), ZTL's own constraints, our rule.
    let findings = validate::validate(&placed, &REGISTRY);
    for f in &findings {
        println!("finding: {f}");
    }
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    println!("{errors} error(s)");

    // The ACK, built from the findings as for any message of the guide.
    let receiver = Identity { application: "SI-TLR".into(), facility: "PLAT-TLR".into() };
    let opts = AckOptions { receiver, clock: &|| "20260109113100".to_owned(), next_id: &|| "ACK-ZTL-1".to_owned() };
    let ack = ack::build(Some(&placed.message), &bytes, &findings, Decision::Accept, &opts)?;
    println!("{}", String::from_utf8_lossy(&ack).replace('\r', "\n"));

    // JSON: the ZTL's fields under their Rust names, as generated segments' are.
    let json = telerad::runtime::json::message(&placed, &REGISTRY);
    println!("ZTL as JSON: {}", json["ZTL"]);
    Ok(())
}
