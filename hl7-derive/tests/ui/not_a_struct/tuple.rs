#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;

#[derive(Segment)]
#[hl7(id = "ZDS")]
pub struct Zds<'a>(pub hl7_runtime::Segment<'a>);

fn main() {}
