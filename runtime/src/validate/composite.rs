//! Reads the components the French datatype rules need out of a value, and runs those rules
//! (`formats::{hd, cx, ei, xcn, xon}`), plus the Base64 check of ED payloads.

use super::formats::{self, ComponentProblem, CxParts, EiParts, HdParts, XcnParts, XonParts};
use std::borrow::Cow;

use super::tokens::{Tok, Tokens};

/// Reads a repetition's components and subcomponents on demand, decoded, off the message's
/// elements found once ([`Tokens`]); a value without escapes is borrowed from the message, so
/// the passing path allocates nothing.
struct Texts<'t, 'a> {
    tokens: &'t Tokens<'a>,
    rep: Tok,
}

type Text<'a> = Cow<'a, str>;

impl<'a> Texts<'_, 'a> {
    fn c(&self, n: usize) -> Text<'a> {
        self.tokens.child(self.rep, n).map(|c| self.tokens.text(c)).unwrap_or_default()
    }
    fn s(&self, n: usize, m: usize) -> Text<'a> {
        self.tokens.child(self.rep, n).and_then(|c| self.tokens.child(c, m)).map(|x| self.tokens.text(x)).unwrap_or_default()
    }
    /// The three subcomponents of the HD in component `n`.
    fn hd(&self, n: usize) -> [Text<'a>; 3] {
        [self.s(n, 1), self.s(n, 2), self.s(n, 3)]
    }
}

/// A present value: absent and empty are the same to the rules.
fn some<'t>(t: &'t Text<'_>) -> Option<&'t str> {
    Some(t.as_ref()).filter(|s| !s.is_empty())
}

fn hd_parts<'t>(h: &'t [Text<'_>; 3]) -> HdParts<'t> {
    let [a, b, c] = h;
    HdParts::new(some(a), some(b), some(c))
}

/// The French composite rules for a value of datatype `dt` read at the repetition level
/// (with `french` false, only ED's Base64: an element the French rules do not fit).
pub(crate) fn check(dt: &str, rep: Tok, tokens: &Tokens<'_>, french: bool) -> Vec<ComponentProblem> {
    // Runs for every repetition of every field: only the datatypes with rules here pay for
    // decoding their components (the exchange's receive profile showed Texts::of at 17 % of
    // validation, mostly for CE, ST and the like).
    if !matches!(rep, Tok::Rep(_)) || !super::RULED_COMPOSITES.contains(&dt) || (!french && dt != "ED") {
        return Vec::new();
    }
    let t = Texts { tokens, rep };
    match dt {
        "HD" => {
            let (a, b, c) = (t.c(1), t.c(2), t.c(3));
            formats::hd(some(&a), some(&b), some(&c))
        }
        "EI" => {
            let (c1, c2, c3, c4) = (t.c(1), t.c(2), t.c(3), t.c(4));
            formats::ei(EiParts { entity_identifier: some(&c1), namespace_id: some(&c2), universal_id: some(&c3), universal_id_type: some(&c4) })
        }
        "CX" => {
            let (c1, c4, c5, c6, c7, c8) = (t.c(1), t.hd(4), t.c(5), t.hd(6), t.c(7), t.c(8));
            formats::cx(CxParts {
                id_number: some(&c1),
                assigning_authority: hd_parts(&c4),
                identifier_type_code: some(&c5),
                assigning_facility: hd_parts(&c6),
                effective_date: some(&c7),
                expiration_date: some(&c8),
            })
        }
        "XCN" => {
            let (c1, s21, c3, c9, c10, c13) = (t.c(1), t.s(2, 1), t.c(3), t.hd(9), t.c(10), t.c(13));
            formats::xcn(XcnParts {
                id_number: some(&c1),
                family_name: some(&s21),
                given_name: some(&c3),
                assigning_authority: hd_parts(&c9),
                name_type_code: some(&c10),
                identifier_type_code: some(&c13),
            })
        }
        "XON" => {
            let (c1, c6, c7, c10) = (t.c(1), t.hd(6), t.c(7), t.c(10));
            formats::xon(XonParts { organization_name: some(&c1), assigning_authority: hd_parts(&c6), identifier_type_code: some(&c7), organization_identifier: some(&c10) })
        }
        "ED" => ed(&t),
        _ => Vec::new(),
    }
}

/// An ED whose encoding (ED-4) is Base64 must carry Base64 in its data (ED-5).
fn ed(t: &Texts<'_, '_>) -> Vec<ComponentProblem> {
    if t.c(4) != "Base64" {
        return Vec::new();
    }
    let data = t.c(5);
    match some(&data).map(formats::base64) {
        Some(Err(e)) => vec![ComponentProblem { component: 5, subcomponent: None, message: format!("ED-5 is declared Base64 (ED-4) but {}", e.message), rule: "ED-BASE64" }],
        _ => Vec::new(),
    }
}
