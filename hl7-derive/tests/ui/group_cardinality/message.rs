#![allow(unused_imports, dead_code)]
use hl7_derive::Message;
use hl7_runtime::typed::Missing;
use telerad::flux1_orm_o01_nw::{Order, Patient};
use telerad::segments::Msh;

#[derive(Message)]
#[hl7(profile = "zz", message_type = "ORM^O01^ORM_O01")]
pub struct Request<'m> {
    #[hl7(usage = "R")]
    pub msh: Result<Msh<'m>, Missing>,
    #[hl7(usage = "R")]
    pub patient: Result<Patient<'m>, Missing>,
    // ORDER is 1..* in the guide: declared here 0..*.
    #[hl7(max = "*")]
    pub order: Vec<Order<'m>>,
}

fn main() {}
