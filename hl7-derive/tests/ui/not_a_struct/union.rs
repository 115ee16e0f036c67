#![allow(unused_imports, dead_code)]
use hl7_derive::DataType;

#[derive(DataType)]
#[hl7(id = "ZXX")]
pub union Zxx {
    a: u32,
    b: f32,
}

fn main() {}
