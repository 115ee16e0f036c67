#![allow(unused_imports, dead_code)]
use hl7_derive::Message;
use hl7_runtime::typed::Missing;
use telerad::segments::Msh;

#[derive(Message)]
#[hl7(
    profile = "zz",
    message_type = "ORM^O01^ORM_O01",
    rule(id = "R1", expression = "ZTL-2 = 'U' AND"),
    rule(expression = "present(ZTL-3)")
)]
pub struct Request<'m> {
    #[hl7(usage = "R")]
    pub msh: Result<Msh<'m>, Missing>,
}

fn main() {}
