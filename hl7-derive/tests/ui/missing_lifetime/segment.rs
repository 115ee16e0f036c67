#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;

#[derive(Segment)]
#[hl7(id = "ZDS")]
pub struct Zds {
    #[hl7(field = 1, datatype = "ST")]
    pub study_uid: Option<String>,
}

fn main() {}
