#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;
use hl7_runtime::typed::{Missing, Reps};
use hl7_runtime::Segment;
use telerad::datatypes::{Ei, St};

#[derive(Segment)]
#[hl7(id = "ZDS", colour = "red")]
pub struct Zds<'a> {
    #[hl7(field = 1, usage = "R", lenght = 64)]
    pub study_uid: Result<Ei<'a>, Missing>,
}

fn main() {}
