//! The application's own declarations: a Z segment and the variant of flow 1 that carries it.
//! (Also compiled by `tests/tests/derive.rs`, which holds them to what this example shows.)

use telerad::derive::{Message, Segment};
use telerad::runtime::typed::{Missing, Reps};
use telerad::runtime::Segment;
use telerad::datatypes::{Id, St};
use telerad::flux1_orm_o01_nw as flow1;
use telerad::segments::{Msh, Nte};

/// ZTL, the application's teleradiology extension: which study the request is about and how
/// urgent it is.
#[derive(Segment, Debug)]
#[hl7(id = "ZTL", name = "Teleradiology extension")]
pub struct Ztl<'a> {
    /// A DICOM Study Instance UID (an OID).
    #[hl7(field = 1, datatype = "ST", usage = "R", len = 64, name = "Study Instance UID")]
    pub study_instance_uid: Result<St<'a>, Missing>,
    /// R (routine) or U (urgent): checked wherever a ZTL appears.
    #[hl7(field = 2, datatype = "ID", usage = "R", values = "R,U", name = "Priority")]
    pub priority: Result<Id<'a>, Missing>,
    #[hl7(field = 3, datatype = "ST", max = "*", name = "Reason")]
    pub reason: Reps<'a, St<'a>>,
    /// The segment itself (raw bytes, location).
    #[hl7(segment)]
    pub segment: Segment<'a>,
}

/// Flow 1 as this application sends it: the guide's ORM^O01 structure followed by a ZTL. It
/// extends the guide's profile, so the guide's constraints and rules apply, plus its own rule.
#[derive(Message)]
#[hl7(
    profile = "flux1_orm_o01_nw_ztl",
    title = "Flow 1 request with the ZTL extension",
    message_type = "ORM^O01^ORM_O01",
    extends = "telerad::flux1_orm_o01_nw::DEF",
    rule(id = "ZTL-URGENT", expression = "ZTL-2 != 'U' OR present(ZTL-3)", description = "an urgent request gives its reason in ZTL-3")
)]
pub struct RequestWithZtl<'m> {
    #[hl7(usage = "R")]
    pub msh: Result<Msh<'m>, Missing>,
    #[hl7(max = "*")]
    pub nte: Vec<Nte<'m>>,
    #[hl7(usage = "R")]
    pub patient: Result<flow1::Patient<'m>, Missing>,
    #[hl7(usage = "R", max = "*")]
    pub order: Vec<flow1::Order<'m>>,
    #[hl7(usage = "R")]
    pub ztl: Result<Ztl<'m>, Missing>,
}

