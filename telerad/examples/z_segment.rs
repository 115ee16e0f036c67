//! A Z segment end to end: an application declares its own segment (ZTL) and a variant of the
//! guide's flow 1 that ends with it, registers both, and then parses, reads, validates,
//! acknowledges and serialises a message exactly as it would one of the guide's.
//!
//! Run: `cargo run -p telerad --example z_segment` (reads `tests/fixtures/flux1_nw_ztl.hl7`, or
//! the file given as its argument).

use hl7_derive::{Message, Segment};
use hl7_runtime::ack::{self, AckOptions, Decision, Identity};
use hl7_runtime::meta::Registry;
use hl7_runtime::typed::{Missing, Reps};
use hl7_runtime::validate::{self, Severity};
use hl7_runtime::{select, Segment};
use telerad::datatypes::{Id, St};
use telerad::flux1_orm_o01_nw as flow1;
use telerad::segments::{Msh, Nte};

/// ZTL, the application's teleradiology extension: which study the request is about and how
/// urgent it is.
#[derive(Segment, Debug)]
#[hl7(id = "ZTL", name = "Teleradiology extension")]
pub struct Ztl<'a> {
    /// A DICOM Study Instance UID (an OID).
    #[hl7(field = 1, datatype = "ST", usage = "R", len = 64, name = "Study Instance UID")]
    pub study_instance_uid: Result<St<'a>, Missing>,
    /// R (routine) or U (urgent): checked wherever a ZTL appears.
    #[hl7(field = 2, datatype = "ID", usage = "R", values = "R,U", name = "Priority")]
    pub priority: Result<Id<'a>, Missing>,
    #[hl7(field = 3, datatype = "ST", max = "*", name = "Reason")]
    pub reason: Reps<'a, St<'a>>,
    /// The segment itself (raw bytes, location).
    #[hl7(segment)]
    pub segment: Segment<'a>,
}

/// Flow 1 as this application sends it: the guide's ORM^O01 structure followed by a ZTL. It
/// extends the guide's profile, so the guide's constraints and rules apply, plus its own rule.
#[derive(Message)]
#[hl7(
    profile = "flux1_orm_o01_nw_ztl",
    title = "Flow 1 request with the ZTL extension",
    message_type = "ORM^O01^ORM_O01",
    extends = "telerad::flux1_orm_o01_nw::DEF",
    rule(id = "ZTL-URGENT", expression = "ZTL-2 != 'U' OR present(ZTL-3)", description = "an urgent request gives its reason in ZTL-3")
)]
pub struct RequestWithZtl<'m> {
    #[hl7(usage = "R")]
    pub msh: Result<Msh<'m>, Missing>,
    #[hl7(max = "*")]
    pub nte: Vec<Nte<'m>>,
    #[hl7(usage = "R")]
    pub patient: Result<flow1::Patient<'m>, Missing>,
    #[hl7(usage = "R", max = "*")]
    pub order: Vec<flow1::Order<'m>>,
    #[hl7(usage = "R")]
    pub ztl: Result<Ztl<'m>, Missing>,
}

/// The guide's definitions plus the application's: profile selection tries ours first.
static REGISTRY: Registry = Registry::extend(&telerad::REGISTRY, &[Ztl::DEF], &[], &[RequestWithZtl::DEF]);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/flux1_nw_ztl.hl7").to_owned());
    let bytes = std::fs::read(&path)?;

    // Parse, and let profile selection pick the application's profile from MSH-9 and ORC-1.
    let message = hl7_runtime::Message::parse(&bytes)?;
    let profile = select::profile(&message, &REGISTRY)?;
    println!("profile: {} ({})", profile.profile, profile.title);
    let placed = hl7_runtime::typed::Placed::new(message, profile);

    // Typed access: the derived struct holds every element, generated groups included.
    let typed = RequestWithZtl::from_placed(&placed);
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
    let json = hl7_runtime::json::message(&placed, &REGISTRY);
    println!("ZTL as JSON: {}", json["ZTL"]);
    Ok(())
}
