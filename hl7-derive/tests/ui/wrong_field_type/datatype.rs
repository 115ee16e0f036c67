#![allow(unused_imports, dead_code)]
use hl7_derive::DataType;
use hl7_runtime::typed::{Missing, Varies};
use telerad::datatypes::St;

#[derive(DataType)]
#[hl7(id = "ZCV")]
pub struct Zcv<'a> {
    // Any component may be left out, so each is an Option whatever its usage.
    #[hl7(component = 1, datatype = "ST", usage = "R")]
    pub code: Result<St<'a>, Missing>,
    #[hl7(component = 2)]
    pub value: Option<Varies<'a>>,
}

fn main() {}
