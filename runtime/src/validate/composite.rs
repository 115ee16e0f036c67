//! Reads the components the French datatype rules need out of a value, and runs those rules
//! (`formats::{hd, cx, ei, xcn, xon}`), plus the Base64 check of ED payloads.

use super::formats::{self, ComponentProblem, CxParts, EiParts, HdParts, XcnParts, XonParts};
use crate::typed::Part;

/// The decoded texts of a value's components (1-based; index 0 unused) and of the
/// subcomponents of each, so the rules can borrow `&str`s.
struct Texts {
    comps: Vec<String>,
    subs: Vec<Vec<String>>,
}

impl Texts {
    fn of(part: Part<'_>) -> Texts {
        let n = part.child_count().max(1);
        let mut comps = vec![String::new()];
        let mut subs = vec![Vec::new()];
        for i in 1..=n {
            let c = part.child(i);
            comps.push(c.map(|c| c.text().into_owned()).unwrap_or_default());
            let s = c.map(|c| (1..=c.child_count().max(1)).map(|j| c.child(j).map(|x| x.text().into_owned()).unwrap_or_default()).collect()).unwrap_or_default();
            subs.push(s);
        }
        Texts { comps, subs }
    }
    fn c(&self, n: usize) -> Option<&str> {
        self.comps.get(n).map(String::as_str).filter(|s| !s.is_empty())
    }
    fn s(&self, n: usize, m: usize) -> Option<&str> {
        self.subs.get(n).and_then(|v| v.get(m - 1)).map(String::as_str).filter(|s| !s.is_empty())
    }
    fn hd_at(&self, n: usize) -> HdParts<'_> {
        HdParts::new(self.s(n, 1), self.s(n, 2), self.s(n, 3))
    }
}

/// The French composite rules for a value of datatype `dt` read at the repetition level.
pub(crate) fn check(dt: &str, part: Part<'_>) -> Vec<ComponentProblem> {
    // Runs for every repetition of every field: only the datatypes with rules here pay for
    // decoding their components (the exchange's receive profile showed Texts::of at 17 % of
    // validation, mostly for CE, ST and the like).
    if !matches!(part, Part::Repetition(_)) || !matches!(dt, "HD" | "EI" | "CX" | "XCN" | "XON" | "ED") {
        return Vec::new();
    }
    let t = Texts::of(part);
    match dt {
        "HD" => formats::hd(t.c(1), t.c(2), t.c(3)),
        "EI" => formats::ei(EiParts { entity_identifier: t.c(1), namespace_id: t.c(2), universal_id: t.c(3), universal_id_type: t.c(4) }),
        "CX" => formats::cx(CxParts {
            id_number: t.c(1),
            assigning_authority: t.hd_at(4),
            identifier_type_code: t.c(5),
            assigning_facility: t.hd_at(6),
            effective_date: t.c(7),
            expiration_date: t.c(8),
        }),
        "XCN" => formats::xcn(XcnParts {
            id_number: t.c(1),
            family_name: t.s(2, 1),
            given_name: t.c(3),
            assigning_authority: t.hd_at(9),
            name_type_code: t.c(10),
            identifier_type_code: t.c(13),
        }),
        "XON" => formats::xon(XonParts { organization_name: t.c(1), assigning_authority: t.hd_at(6), identifier_type_code: t.c(7), organization_identifier: t.c(10) }),
        "ED" => ed(&t),
        _ => Vec::new(),
    }
}

/// An ED whose encoding (ED-4) is Base64 must carry Base64 in its data (ED-5).
fn ed(t: &Texts) -> Vec<ComponentProblem> {
    if t.c(4) != Some("Base64") {
        return Vec::new();
    }
    match t.c(5).map(formats::base64) {
        Some(Err(e)) => vec![ComponentProblem { component: 5, subcomponent: None, message: format!("ED-5 is declared Base64 (ED-4) but {}", e.message), rule: "ED-BASE64" }],
        _ => Vec::new(),
    }
}
