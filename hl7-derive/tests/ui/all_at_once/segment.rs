#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;
use hl7_runtime::typed::{Missing, Reps};
use hl7_runtime::Segment;
use telerad::datatypes::{Ei, St};

// Three unrelated mistakes, all reported by one compile.
#[derive(Segment)]
#[hl7(id = "Z1")]
pub struct Zds<'a> {
    #[hl7(field = 1, usage = "RE2")]
    pub study_uid: Option<Ei<'a>>,
    #[hl7(field = 1, datatype = "ST")]
    pub note: Option<St<'a>>,
}

fn main() {}
