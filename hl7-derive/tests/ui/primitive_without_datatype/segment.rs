#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;
use hl7_runtime::typed::{Missing, Reps};
use hl7_runtime::Segment;
use telerad::datatypes::{Ei, St};

#[derive(Segment)]
#[hl7(id = "ZDS")]
pub struct Zds<'a> {
    #[hl7(field = 1)]
    pub note: Option<St<'a>>,
}

fn main() {}
