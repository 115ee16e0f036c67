#![allow(unused_imports, dead_code)]
use hl7_derive::Message;
use hl7_runtime::typed::Missing;
use telerad::segments::{Msh, Pid};

#[derive(Message)]
#[hl7(profile = "zz", message_type = "ORM^O01", extends = "not a path")]
pub struct Request<'m> {
    #[hl7(usage = "R")]
    pub pid: Result<Pid<'m>, Missing>,
    #[hl7(usage = "R")]
    pub msh: Result<Msh<'m>, Missing>,
}

fn main() {}
