#![deny(warnings)]
//! A derived message with a derived group and a derived Z segment, placed and validated.

use hl7_derive::{Group, Message, Segment};
use hl7_runtime::meta::Registry;
use hl7_runtime::typed::Missing;
use hl7_runtime::{select, validate, Message as Er7};
use telerad::datatypes::St;
use telerad::segments::{Msh, Nte, Obx};

#[derive(Segment)]
#[hl7(id = "ZRS", name = "Result summary")]
pub struct Zrs<'a> {
    #[hl7(field = 1, datatype = "ST", usage = "R")]
    pub summary: Result<St<'a>, Missing>,
}

#[derive(Group)]
#[hl7(name = "RESULT", usage = "R", max = "*")]
pub struct ResultGroup<'m> {
    #[hl7(usage = "R")]
    pub zrs: Result<Zrs<'m>, Missing>,
    #[hl7(max = "*")]
    pub obx: Vec<Obx<'m>>,
    #[hl7(max = "*")]
    pub nte: Vec<Nte<'m>>,
}

#[derive(Message)]
#[hl7(
    profile = "zz_results",
    message_type = "ZRE^Z01^ZRE_Z01",
    rule(id = "ZRS-SHORT", expression = "matches(ZRS-1, '.{1,20}')", context = "RESULT", description = "a summary fits in 20 characters")
)]
pub struct Results<'m> {
    #[hl7(usage = "R")]
    pub msh: Result<Msh<'m>, Missing>,
    #[hl7(usage = "R", max = "*")]
    pub result: Vec<ResultGroup<'m>>,
}

static REGISTRY: Registry = Registry::extend(&telerad::REGISTRY, &[Zrs::DEF], &[], &[Results::DEF]);

fn main() {
    let bytes = b"MSH|^~\\&|A|B|C|D|20260101||ZRE^Z01^ZRE_Z01|1|P|2.5.1\rZRS|short\rOBX|1|ST|X^Y^L||v\rZRS|a summary far too long to fit\rNTE|||n\r";
    let message = Er7::parse(bytes).expect("parses");
    let def = select::profile(&message, &REGISTRY).expect("our profile is selected");
    assert_eq!(def.profile, "zz_results");
    let placed = Results::place(message);
    let typed = Results::from_placed(&placed);
    assert_eq!(typed.result.len(), 2);
    assert_eq!(typed.result[0].obx.len(), 1);
    assert_eq!(typed.result[1].nte.len(), 1);
    assert_eq!(typed.result[1].zrs.as_ref().expect("ZRS").summary.as_ref().expect("ZRS-1").text(), "a summary far too long to fit");
    let findings = validate::validate(&placed, &REGISTRY);
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"ZRS-SHORT"), "{findings:?}");
    assert_eq!(findings.iter().filter(|f| f.rule == "ZRS-SHORT").count(), 1, "{findings:?}");
    assert!(placed.check_structure().is_empty(), "{:?}", placed.check_structure());
    assert_eq!(placed.encode(), bytes.to_vec());
}
