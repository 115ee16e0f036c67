#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;

#[derive(Segment)]
#[hl7(id = "ZDS")]
pub enum Zds {
    Study,
    Series,
}

fn main() {}
