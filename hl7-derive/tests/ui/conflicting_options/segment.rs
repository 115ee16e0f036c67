#![allow(unused_imports, dead_code)]
use hl7_derive::Segment;
use hl7_runtime::typed::{Missing, Reps};
use hl7_runtime::Segment;
use telerad::datatypes::{Ei, St};

#[derive(Segment)]
#[hl7(id = "ZDS")]
pub struct Zds<'a> {
    #[hl7(field = 1, datatype = "ST", fixed = "A", values = "A,B")]
    pub kind: Option<St<'a>>,
    #[hl7(field = 2, datatype = "ST", usage = "X", fixed = "N")]
    pub never: Option<St<'a>>,
    #[hl7(field = 3, datatype = "ST", usage = "O", min = 1)]
    pub optional_but_min: Option<St<'a>>,
    #[hl7(segment, field = 4)]
    pub raw: Segment<'a>,
}

fn main() {}
