#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;
use hl7_runtime::typed::{Missing, Reps};
use hl7_runtime::Segment;
use telerad::datatypes::{Ei, St};

#[derive(Segment)]
#[hl7(id = "ZDS")]
pub struct Zds<'a> {
    #[hl7(field = 1, usage = "R")]
    pub study_uid: Option<Ei<'a>>,
    #[hl7(field = 2, datatype = "ST", max = "*")]
    pub notes: Vec<St<'a>>,
    #[hl7(field = 3, usage = "R")]
    pub other: Result<Ei<'a>, String>,
    #[hl7(segment)]
    pub raw: &'a [u8],
}

fn main() {}
