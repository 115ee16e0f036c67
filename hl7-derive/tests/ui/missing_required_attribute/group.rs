#![allow(unused_imports, dead_code)]
use hl7_derive::Group;
use hl7_runtime::typed::Missing;
use telerad::segments::Obx;

#[derive(Group)]
#[hl7(usage = "R")]
pub struct Observation<'m> {
    #[hl7(usage = "R")]
    pub obx: Result<Obx<'m>, Missing>,
}

fn main() {}
