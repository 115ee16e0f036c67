//! Profile validation: every rule of the guide evaluated by one engine over the static
//! definitions, returning every finding (never the first only).

pub mod assertion;
pub mod finding;
pub mod formats;

mod builtin;
mod composite;
mod engine;
mod rules;
mod tokens;

pub use engine::{validate, validate_bounded, validate_with, Validation};
pub use finding::{Erl, Finding, Severity};


/// The primitives [`primitive_format`] checks.
const FORMATTED_PRIMITIVES: [&str; 5] = ["DT", "DTM", "TM", "NM", "SI"];

/// The composites with rules of their own at the repetition level (`composite::check`).
pub(crate) const RULED_COMPOSITES: [&str; 6] = ["HD", "EI", "CX", "XCN", "XON", "ED"];

/// Whether [`primitive_format`] checks this datatype (so a value of another one need not be
/// decoded for it).
pub(crate) fn has_primitive_format(datatype: &str) -> bool {
    FORMATTED_PRIMITIVES.contains(&datatype)
}

/// Whether a rule of the validator applies to a value of datatype `id` itself (a primitive
/// format or a composite rule), its components aside: what [`crate::meta::DataTypeDef::new`]
/// builds its `checked` flag from, at compile time.
pub const fn datatype_has_rules(id: &str) -> bool {
    const fn listed(id: &str, list: &[&str]) -> bool {
        let mut rest = list;
        while let [first, tail @ ..] = rest {
            if first.len() == id.len() && const_eq(first.as_bytes(), id.as_bytes()) {
                return true;
            }
            rest = tail;
        }
        false
    }
    const fn const_eq(a: &[u8], b: &[u8]) -> bool {
        match (a, b) {
            ([x, xs @ ..], [y, ys @ ..]) => *x == *y && const_eq(xs, ys),
            ([], []) => true,
            _ => false,
        }
    }
    listed(id, &FORMATTED_PRIMITIVES) || listed(id, &RULED_COMPOSITES)
}

/// A primitive's format problem (DT, DTM, TM, NM, SI), `None` when it is well formed or the
/// datatype has no format rule.
pub(crate) fn primitive_format(datatype: &str, text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let r = match datatype {
        "DT" => formats::dt(text),
        "DTM" => formats::dtm(text),
        "TM" => formats::tm(text),
        "NM" => formats::nm(text),
        "SI" => formats::si(text),
        _ => return None,
    };
    r.err().map(|e| e.message)
}



/// The finding for a message that does not parse: located where parsing stopped.
pub fn parse_error_finding(e: &crate::error::ParseError) -> Finding {
    use crate::error::ParseErrorKind as K;
    let loc = e.location();
    let code = match e.kind() {
        K::InvalidEscape { .. } | K::InvalidEncoding { .. } | K::ControlCharacter { .. } => finding::code::DATA_TYPE,
        K::UnsupportedCharset { .. } => finding::code::DATA_TYPE,
        _ => finding::code::SEGMENT_SEQUENCE,
    };
    let segment = loc.segment_id_str().map(str::to_owned);
    // MSH is the first segment; the parser gives the sequence of some errors (C1 bytes).
    let sequence = e.segment_sequence().or_else(|| (segment.as_deref() == Some("MSH")).then_some(1));
    Finding {
        severity: Severity::Error,
        code,
        location: Erl { segment, sequence, field: loc.field, repetition: loc.repetition, component: loc.component, subcomponent: loc.subcomponent },
        rule: "parse".into(),
        source: "hl7v2.5.1".into(),
        message: format!("the message does not parse: {e}"),
    }
}

/// The finding for a message no profile of the guide fits: an unsupported message type or
/// event (codes 200/201 of table 0357), located at MSH-9 (or ORC-1 when only ORC-1 is off).
pub fn no_profile_finding(e: &crate::select::NoProfile, registry: &crate::meta::Registry) -> Finding {
    let mut parts = e.message_type.split('^');
    let code_part = parts.next().unwrap_or("").trim();
    let event = parts.next().unwrap_or("").trim();
    let known_code = registry.all_profiles().any(|p| p.code == code_part);
    let known_event = registry.all_profiles().any(|p| p.code == code_part && p.event.is_none_or(|ev| ev == event));
    let (code, location) = if !known_code {
        (finding::code::UNSUPPORTED_MESSAGE_TYPE, Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(9), component: Some(1), ..Erl::default() })
    } else if !known_event {
        (finding::code::UNSUPPORTED_EVENT, Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(9), component: Some(2), ..Erl::default() })
    } else {
        (finding::code::UNSUPPORTED_EVENT, Erl { segment: Some("ORC".into()), sequence: Some(1), field: Some(1), ..Erl::default() })
    };
    Finding { severity: Severity::Error, code, location, rule: "profile".into(), source: "st-profils.md".into(), message: format!("{e} of the guide") }
}
