#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;
use hl7_runtime::typed::{Missing, Reps};
use hl7_runtime::Segment;
use telerad::datatypes::{Ei, St};

#[derive(Segment)]
#[hl7(id = "ZDS")]
pub struct Zds<'a> {
    #[hl7(field = 1, max = 0)]
    pub study_uid: Option<Ei<'a>>,
    #[hl7(field = 2, datatype = "ST", usage = "R", min = 3, max = 2)]
    pub notes: Reps<'a, St<'a>>,
    #[hl7(field = 3, datatype = "ST", max = "many")]
    pub more: Reps<'a, St<'a>>,
}

fn main() {}
