#![deny(warnings)]
//! A derived composite datatype used by a derived segment: both read like generated ones.

use hl7_derive::{DataType, Segment};
use hl7_runtime::typed::{FromPart, Missing, Part, Reps, SegmentType};
use hl7_runtime::{Message, Segment};
use telerad::datatypes::{Ei, Id, St};

/// A local coded value: code, label, and the code system's version. It names the runtime
/// crate itself (`runtime`), as a crate using the derives without telerad would; ZDS below
/// keeps the default, the runtime as telerad re-exports it.
#[derive(DataType, Debug, Clone, Copy)]
#[hl7(id = "ZCV", name = "Local coded value", runtime = "::hl7_runtime")]
pub struct Zcv<'a> {
    #[hl7(component = 1, datatype = "ST", usage = "R")]
    pub code: Option<St<'a>>,
    #[hl7(component = 2, datatype = "ST")]
    pub label: Option<St<'a>>,
    #[hl7(component = 3, datatype = "ST")]
    pub version: Option<St<'a>>,
    #[hl7(part)]
    pub part: Part<'a>,
}

#[derive(Segment, Debug)]
#[hl7(id = "ZDS", name = "Study")]
pub struct Zds<'a> {
    #[hl7(field = 1, usage = "R", len = 64)]
    pub study_uid: Result<Ei<'a>, Missing>,
    #[hl7(field = 2, datatype = "ID", values = "CT,MR,PT")]
    pub modality: Option<Id<'a>>,
    #[hl7(field = 3, max = "*")]
    pub body_parts: Reps<'a, Zcv<'a>>,
    #[hl7(field = 4, datatype = "ST", usage = "R")]
    pub required_but_absent: Result<St<'a>, Missing>,
    #[hl7(segment)]
    pub segment: Segment<'a>,
}

fn main() {
    let bytes = b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1\rZDS|1.2.3^^1.2.250^ISO|MR|HEAD^T\\E\\te^2~NECK^Cou\r";
    let message = Message::parse(bytes).expect("parses");
    let zds = Zds::from_segment(message.segment(1).expect("ZDS"));
    assert_eq!(zds.study_uid.expect("ZDS-1").entity_identifier().expect("EI.1").text(), "1.2.3");
    assert_eq!(zds.modality.expect("ZDS-2").text(), "MR");
    let parts: Vec<Zcv<'_>> = zds.body_parts.collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].label.expect("label").text(), "T\\te");
    assert_eq!(parts[0].version.expect("version").text(), "2");
    assert_eq!(parts[1].code.expect("code").text(), "NECK");
    assert_eq!(parts[1].part.raw(), b"NECK^Cou");
    let missing = zds.required_but_absent.expect_err("ZDS-4 is absent");
    assert_eq!(missing.path, "ZDS-4");
    assert_eq!(zds.segment.id(), "ZDS");

    // The definitions carry what the attributes said.
    let def = <Zds<'_> as SegmentType<'_>>::DEF;
    assert_eq!(def.id, "ZDS");
    assert_eq!(def.fields.len(), 4);
    assert_eq!(def.fields[0].datatype.map(|d| d.id), Some("EI"));
    assert_eq!(def.fields[2].datatype.map(|d| d.id), Some("ZCV"));
    assert_eq!(def.fields[2].max, u32::MAX);
    assert_eq!(def.fields[1].ident, "modality");
    assert_eq!(def.constraints.map(|c| c.elements.len()), Some(1));
    let zcv = <Zcv<'_> as FromPart<'_>>::DEF.expect("composite");
    assert_eq!(zcv.components.len(), 3);
    assert_eq!(zcv.components[0].datatype.id, "ST");
}
