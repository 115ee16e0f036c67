#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;
use hl7_runtime::typed::{Missing, Reps};
use hl7_runtime::Segment;
use telerad::datatypes::{Ei, St};

#[derive(Segment)]
#[hl7(name = "Study")]
pub struct Zds<'a> {
    #[hl7(usage = "R")]
    pub study_uid: Result<Ei<'a>, Missing>,
    pub notes: Reps<'a, St<'a>>,
}

fn main() {}
