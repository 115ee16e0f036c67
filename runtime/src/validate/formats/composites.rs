//! French rules on composite datatypes (HD, EI, CX, XCN, XON), each a small named rule over
//! the component texts so a finding can say which rule of which page was broken.
//!
//! Components are passed as `Option<&str>`; `None` and `Some("")` both mean "not valued".
//! The HL7 explicit null `""` counts as valued for presence rules (the sender did fill the
//! element) but is exempt from format and table checks, since it carries no value to check.
//!
//! Only rules about how components relate to each other or to French value lists live here;
//! usage X (forbidden components) and generic lengths are left to the profile engine, which
//! already has them in the static definitions.

use super::oids::{ASIP_SANTE_PS, ASIP_SANTE_ST, CNOP_NDP, INS_AUTHORITIES, INS_C_AUTHORITIES, INS_NIA, NIR_AUTHORITIES};
use super::{dt, nir, oid, quote};

/// One broken rule inside a composite, located by component (and subcomponent when the rule
/// is about a part of an embedded HD, e.g. CX-4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentProblem {
    pub component: u16,
    pub subcomponent: Option<u16>,
    pub message: String,
    /// Short stable id of the rule (e.g. "HD-ISO-OID"), for filtering and documentation.
    pub rule: &'static str,
}

/// The three parts of an HD, wherever it is embedded (a field, CX-4, XCN-9, XON-6…).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HdParts<'a> {
    pub namespace_id: Option<&'a str>,
    pub universal_id: Option<&'a str>,
    pub universal_id_type: Option<&'a str>,
}

impl<'a> HdParts<'a> {
    pub fn new(namespace_id: Option<&'a str>, universal_id: Option<&'a str>, universal_id_type: Option<&'a str>) -> Self {
        HdParts { namespace_id, universal_id, universal_id_type }
    }

    /// True when no part is valued, i.e. the HD itself is absent.
    pub fn is_empty(&self) -> bool {
        given(self.namespace_id).is_none() && given(self.universal_id).is_none() && given(self.universal_id_type).is_none()
    }
}

/// Components of CX used by the French rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CxParts<'a> {
    /// CX-1
    pub id_number: Option<&'a str>,
    /// CX-4 (subcomponents 4.1 to 4.3)
    pub assigning_authority: HdParts<'a>,
    /// CX-5
    pub identifier_type_code: Option<&'a str>,
    /// CX-6 (subcomponents 6.1 to 6.3)
    pub assigning_facility: HdParts<'a>,
    /// CX-7
    pub effective_date: Option<&'a str>,
    /// CX-8
    pub expiration_date: Option<&'a str>,
}

/// Components of EI (EI-2 to EI-4 are an HD spread over three components).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EiParts<'a> {
    /// EI-1
    pub entity_identifier: Option<&'a str>,
    /// EI-2
    pub namespace_id: Option<&'a str>,
    /// EI-3
    pub universal_id: Option<&'a str>,
    /// EI-4
    pub universal_id_type: Option<&'a str>,
}

/// Components of XCN used by the French rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XcnParts<'a> {
    /// XCN-1
    pub id_number: Option<&'a str>,
    /// XCN-2 (its first subcomponent, the surname, is enough for the presence rule)
    pub family_name: Option<&'a str>,
    /// XCN-3
    pub given_name: Option<&'a str>,
    /// XCN-9 (subcomponents 9.1 to 9.3)
    pub assigning_authority: HdParts<'a>,
    /// XCN-10
    pub name_type_code: Option<&'a str>,
    /// XCN-13
    pub identifier_type_code: Option<&'a str>,
}

/// Components of XON used by the French rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XonParts<'a> {
    /// XON-1
    pub organization_name: Option<&'a str>,
    /// XON-6 (subcomponents 6.1 to 6.3)
    pub assigning_authority: HdParts<'a>,
    /// XON-7
    pub identifier_type_code: Option<&'a str>,
    /// XON-10
    pub organization_identifier: Option<&'a str>,
}

const HL7_NULL: &str = "\"\"";

fn given(o: Option<&str>) -> Option<&str> {
    o.filter(|s| !s.is_empty())
}

/// A valued component that has content to check (not the explicit null).
fn checkable(o: Option<&str>) -> Option<&str> {
    given(o).filter(|s| *s != HL7_NULL)
}

fn problem(place: (u16, Option<u16>), rule: &'static str, message: String) -> ComponentProblem {
    ComponentProblem { component: place.0, subcomponent: place.1, message, rule }
}

/// Where an HD's parts sit in the element being checked, to locate and name them.
#[derive(Debug, Clone, Copy)]
enum At {
    /// HD parts are components `before + 1 ..= before + 3` (a standalone HD, or EI-2..4).
    Components { prefix: &'static str, before: u16 },
    /// HD parts are subcomponents of component `of` (CX-4, XCN-9, XON-6…).
    Subcomponents { prefix: &'static str, of: u16 },
}

impl At {
    fn place(self, part: u16) -> (u16, Option<u16>) {
        match self {
            At::Components { before, .. } => (before + part, None),
            At::Subcomponents { of, .. } => (of, Some(part)),
        }
    }

    fn name(self, part: u16) -> String {
        match self {
            At::Components { prefix, before } => format!("{prefix}-{}", before + part),
            At::Subcomponents { prefix, of } => format!("{prefix}-{of}.{part}"),
        }
    }
}

/// HL7 table 0301 (Universal ID Type) as restricted for France.
/// IHE France data types 1.8.2, page 14.
const UNIVERSAL_ID_TYPES_FR: [&str; 6] = ["DNS", "ISO", "L", "M", "N", "UUID"];

/// HD rules, shared by every datatype that embeds an HD.
fn hd_rules(parts: HdParts<'_>, at: At, require_namespace: bool) -> Vec<ComponentProblem> {
    let mut out = Vec::new();
    hd_namespace_required(parts, at, require_namespace, &mut out);
    hd_universal_pair(parts, at, &mut out);
    hd_type_table(parts, at, &mut out);
    hd_universal_id_syntax(parts, at, &mut out);
    out
}

/// HD-1 is required in France, whether the authority is local (HD-1 only) or typed (all three).
/// IHE France data types 1.8.2, pages 13-14 ("le composant HD-1 est requis").
fn hd_namespace_required(parts: HdParts<'_>, at: At, require: bool, out: &mut Vec<ComponentProblem>) {
    if require && given(parts.namespace_id).is_none() {
        out.push(problem(
            at.place(1),
            "HD-1-REQ",
            format!(
                "{} (namespace ID) is required in France: give the name, FINESS-EJ or FINESS-EG of the assigning authority, even when {} and {} are filled",
                at.name(1),
                at.name(2),
                at.name(3)
            ),
        ));
    }
}

/// A typed identifier needs both the universal ID and its type; one without the other cannot
/// be interpreted. IHE France data types 1.8.2, pages 13-14 (HD-2/HD-3 used together in a
/// community or inter-enterprise context).
fn hd_universal_pair(parts: HdParts<'_>, at: At, out: &mut Vec<ComponentProblem>) {
    match (given(parts.universal_id), given(parts.universal_id_type)) {
        (Some(_), None) => out.push(problem(
            at.place(3),
            "HD-3-REQ",
            format!(
                "{} (universal ID type) is required because {} (universal ID) is filled; use ISO for an OID",
                at.name(3),
                at.name(2)
            ),
        )),
        (None, Some(t)) => out.push(problem(
            at.place(2),
            "HD-2-REQ",
            format!("{} (universal ID) is required because {} (universal ID type) is {}", at.name(2), at.name(3), quote(t)),
        )),
        _ => {}
    }
}

/// IHE France data types 1.8.2, page 14 (values of table 0301 used in France).
fn hd_type_table(parts: HdParts<'_>, at: At, out: &mut Vec<ComponentProblem>) {
    if let Some(t) = checkable(parts.universal_id_type) {
        if !UNIVERSAL_ID_TYPES_FR.contains(&t) {
            out.push(problem(
                at.place(3),
                "HD-3-TABLE",
                format!(
                    "{} (universal ID type) {} is not a universal ID type allowed in France: expected one of {}",
                    at.name(3),
                    quote(t),
                    UNIVERSAL_ID_TYPES_FR.join(", ")
                ),
            ));
        }
    }
}

/// The universal ID must follow the scheme its type names: an OID for ISO, a DCE UUID for
/// UUID, a dotted Internet name for DNS. IHE France data types 1.8.2, page 14.
fn hd_universal_id_syntax(parts: HdParts<'_>, at: At, out: &mut Vec<ComponentProblem>) {
    let (Some(id), Some(t)) = (checkable(parts.universal_id), checkable(parts.universal_id_type)) else {
        return;
    };
    let (rule, failure) = match t {
        "ISO" => ("HD-ISO-OID", oid(id).err().map(|e| e.message)),
        "UUID" => ("HD-UUID", (!is_uuid(id)).then(|| format!("{} is not a UUID (8-4-4-4-12 hexadecimal digits)", quote(id)))),
        "DNS" => ("HD-DNS", (!is_dns_name(id)).then(|| format!("{} is not an Internet domain name (letters, digits and '-' in dot-separated labels)", quote(id)))),
        _ => return,
    };
    if let Some(why) = failure {
        out.push(problem(
            at.place(2),
            rule,
            format!("{} (universal ID) must match {} = {t}: {why}", at.name(2), at.name(3)),
        ));
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// "Nom de domaine Internet exprimé en ASCII ou par des entiers" (page 14): LDH labels or
/// numeric labels, both covered by the same character set.
fn is_dns_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// French rules for an HD used as a field or component on its own.
/// IHE France data types 1.8.2, pages 13-14.
pub fn hd(namespace_id: Option<&str>, universal_id: Option<&str>, universal_id_type: Option<&str>) -> Vec<ComponentProblem> {
    hd_rules(HdParts::new(namespace_id, universal_id, universal_id_type), At::Components { prefix: "HD", before: 0 }, true)
}

/// EI in France: used as in ITI TF-2 Appendix N, EI-1 up to 128 characters; EI-2..EI-4 are
/// an HD, so the French HD rules on the universal ID and its type apply to EI-3/EI-4.
/// IHE France data types 1.8.2, page 13.
pub fn ei(parts: EiParts<'_>) -> Vec<ComponentProblem> {
    let mut out = Vec::new();
    ei_identifier(parts, &mut out);
    ei_authority(parts, &mut out);
    out.extend(hd_rules(
        HdParts::new(parts.namespace_id, parts.universal_id, parts.universal_id_type),
        At::Components { prefix: "EI", before: 1 },
        false,
    ));
    out
}

/// IHE France data types 1.8.2, page 13 (EI-1 required by ITI TF-2 Appendix N, 128 characters
/// maximum in France).
fn ei_identifier(parts: EiParts<'_>, out: &mut Vec<ComponentProblem>) {
    match given(parts.entity_identifier) {
        None => out.push(problem((1, None), "EI-1-REQ", "EI-1 (entity identifier) is required".to_string())),
        Some(id) => {
            let n = id.chars().count();
            if n > 128 {
                out.push(problem(
                    (1, None),
                    "EI-1-LEN",
                    format!("EI-1 (entity identifier) has {n} characters; France allows at most 128"),
                ));
            }
        }
    }
}

/// The identifier is only unique within its assigning authority, so one of the two forms of
/// the authority must be present (HL7 v2.5 2.A.24, carried over by IHE France data types
/// 1.8.2, page 13).
fn ei_authority(parts: EiParts<'_>, out: &mut Vec<ComponentProblem>) {
    if given(parts.namespace_id).is_none() && given(parts.universal_id).is_none() && given(parts.universal_id_type).is_none() {
        out.push(problem(
            (2, None),
            "EI-AUTH",
            "the assigning authority is missing: fill EI-2 (namespace ID), or EI-3 (universal ID) with EI-4 (universal ID type), e.g. an OID with ISO".to_string(),
        ));
    }
}

/// Which datatypes a table 0203 code is allowed in (column "Utilisé dans les types de données").
const IN_CX: u8 = 1;
const IN_XCN: u8 = 2;
const IN_XON: u8 = 4;

/// HL7 table 0203 (Identifier Type) as restricted by IHE France, with the datatypes each code
/// is allowed in. IHE France data types 1.8.2, page 10; SS from IHE PAM-FR 2.11.2, page 36
/// (IN1-49 typed SS); FINESS for XON from IHE France data types 1.8.2, page 34 (table and
/// example use FINESS although the page-10 list does not).
const IDENTIFIER_TYPES_FR: [(&str, u8); 26] = [
    ("EI", IN_CX | IN_XCN),
    ("NH", IN_CX | IN_XCN),
    ("INS-C", IN_CX | IN_XCN | IN_XON),
    ("INS", IN_CX | IN_XCN),
    ("NNFRA", IN_CX | IN_XCN),
    ("PPN", IN_CX | IN_XCN),
    ("PI", IN_CX | IN_XCN),
    ("NDP", IN_CX),
    ("PN", IN_CX | IN_XCN),
    ("RRI", IN_CX | IN_XCN),
    ("ADELI", IN_CX | IN_XCN | IN_XON),
    ("RPPS", IN_CX | IN_XCN | IN_XON),
    ("IDNPS", IN_CX | IN_XCN),
    ("RI", IN_XCN),
    ("FINEJ", IN_XON),
    ("FINEG", IN_XON),
    ("FINESS", IN_XON),
    ("SIREN", IN_XON),
    ("SIRET", IN_XON),
    ("UF", IN_XON),
    ("IDNST", IN_XON),
    ("SRV", IN_XON),
    ("MR", IN_CX),
    ("AN", IN_CX),
    ("VN", IN_CX),
    ("SS", IN_CX),
];

fn datatypes_of(mask: u8) -> String {
    [(IN_CX, "CX"), (IN_XCN, "XCN"), (IN_XON, "XON")]
        .iter()
        .filter(|(bit, _)| mask & bit != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Table 0203 check shared by CX-5, XCN-13 and XON-7. IHE France data types 1.8.2, page 10.
fn identifier_type_rules(code: Option<&str>, place: (u16, Option<u16>), name: &str, datatype: &str, bit: u8, out: &mut Vec<ComponentProblem>) {
    let Some(code) = checkable(code) else {
        return;
    };
    match IDENTIFIER_TYPES_FR.iter().find(|(c, _)| *c == code) {
        None => {
            let allowed: Vec<&str> = IDENTIFIER_TYPES_FR.iter().filter(|(_, m)| m & bit != 0).map(|(c, _)| *c).collect();
            out.push(problem(
                place,
                "ID-TYPE-TABLE",
                format!(
                    "{name} (identifier type) {} is not in HL7 table 0203 as restricted for France; for {datatype} use one of {}",
                    quote(code),
                    allowed.join(", ")
                ),
            ));
        }
        Some((_, mask)) if mask & bit == 0 => out.push(problem(
            place,
            "ID-TYPE-DATATYPE",
            format!(
                "{name} (identifier type) {} is reserved to {} in France and is not allowed in {datatype}",
                quote(code),
                datatypes_of(*mask)
            ),
        )),
        Some(_) => {}
    }
}

/// French rules for CX. IHE France data types 1.8.2, pages 6-11.
pub fn cx(parts: CxParts<'_>) -> Vec<ComponentProblem> {
    let mut out = Vec::new();
    cx_id_number(parts, &mut out);
    cx_assigning_authority(parts, &mut out);
    identifier_type_rules(parts.identifier_type_code, (5, None), "CX-5", "CX", IN_CX, &mut out);
    if !parts.assigning_facility.is_empty() {
        out.extend(hd_rules(parts.assigning_facility, At::Subcomponents { prefix: "CX", of: 6 }, true));
    }
    cx_dates(parts, &mut out);
    cx_ins(parts, &mut out);
    cx_ins_c(parts, &mut out);
    cx_ndp(parts, &mut out);
    out
}

/// CX-1 is required, at most 128 characters. IHE France data types 1.8.2, page 6.
fn cx_id_number(parts: CxParts<'_>, out: &mut Vec<ComponentProblem>) {
    match given(parts.id_number) {
        None => out.push(problem((1, None), "CX-1-REQ", "CX-1 (ID number) is required".to_string())),
        Some(id) => {
            let n = id.chars().count();
            if n > 128 {
                out.push(problem((1, None), "CX-1-LEN", format!("CX-1 (ID number) has {n} characters; France allows at most 128")));
            }
        }
    }
}

/// CX-4 is required and is an HD. IHE France data types 1.8.2, page 6 (usage R) and page 9.
fn cx_assigning_authority(parts: CxParts<'_>, out: &mut Vec<ComponentProblem>) {
    if parts.assigning_authority.is_empty() {
        out.push(problem(
            (4, None),
            "CX-4-REQ",
            "CX-4 (assigning authority) is required: the identifier means nothing without the authority that assigned it".to_string(),
        ));
    } else {
        out.extend(hd_rules(parts.assigning_authority, At::Subcomponents { prefix: "CX", of: 4 }, true));
    }
}

/// CX-7 and CX-8 are DT. IHE France data types 1.8.2, page 6 (table) and page 11 (CX-7).
fn cx_dates(parts: CxParts<'_>, out: &mut Vec<ComponentProblem>) {
    for (value, component, name, rule) in [
        (parts.effective_date, 7u16, "CX-7 (effective date)", "CX-7-DT"),
        (parts.expiration_date, 8, "CX-8 (expiration date)", "CX-8-DT"),
    ] {
        if let Some(v) = checkable(value) {
            if let Err(e) = dt(v) {
                out.push(problem((component, None), rule, format!("{name}: {}", e.message)));
            }
        }
    }
}

/// INS identifiers: the type and the authority OID must agree, and a NIR-based INS (or NH
/// NIR) must carry a valid key. IHE France data types 1.8.2, pages 7-9 (INS-NIR/INS-NIA/NIR
/// rows, OID table, CX-4); IHE PAM-FR 2.11.2, page 36 (INS transmitted with its key).
fn cx_ins(parts: CxParts<'_>, out: &mut Vec<ComponentProblem>) {
    let code = checkable(parts.identifier_type_code);
    let authority = checkable(parts.assigning_authority.universal_id);
    let authority_type = checkable(parts.assigning_authority.universal_id_type);

    if code == Some("INS") {
        match authority {
            Some(a) if INS_AUTHORITIES.contains(&a) => {
                if authority_type != Some("ISO") {
                    out.push(problem(
                        (4, Some(3)),
                        "CX-INS-AUTH",
                        "CX-4.3 must be ISO for an INS: the INS authorities are OIDs".to_string(),
                    ));
                }
            }
            other => out.push(problem(
                (4, Some(2)),
                "CX-INS-AUTH",
                format!(
                    "CX-5 is INS, so CX-4.2 must be the OID of the INS authority ({} INS-NIR, {} INS-NIA, {} test or {} demonstration INS-NIR), not {}",
                    INS_AUTHORITIES[0],
                    INS_AUTHORITIES[1],
                    INS_AUTHORITIES[2],
                    INS_AUTHORITIES[3],
                    other.map_or_else(|| "empty".to_string(), quote)
                ),
            )),
        }
    }

    if let Some(a) = authority {
        let wrong_type = if NIR_AUTHORITIES.contains(&a) {
            !matches!(code, Some("INS") | Some("NH"))
        } else if a == INS_NIA {
            code != Some("INS")
        } else {
            false
        };
        if wrong_type && code.is_some() {
            out.push(problem(
                (5, None),
                "CX-INS-TYPE",
                format!(
                    "CX-4.2 {} is an INS authority, so CX-5 must be {} (not {})",
                    quote(a),
                    if a == INS_NIA { "INS" } else { "INS (or NH for the beneficiary's NIR)" },
                    code.map_or_else(|| "empty".to_string(), quote)
                ),
            ));
        }
        if NIR_AUTHORITIES.contains(&a) && matches!(code, Some("INS") | Some("NH")) {
            if let Some(id) = checkable(parts.id_number) {
                if let Err(e) = nir(id) {
                    out.push(problem((1, None), "CX-INS-NIR", format!("CX-1 must be the NIR with its key: {}", e.message)));
                }
            }
        }
    }
}

/// INS-C: its authority is one of the three INS-C OIDs and CX-7 carries the computation date.
/// IHE France data types 1.8.2, pages 6-7 (INS-C row and OIDs) and page 11 (CX-7 condition).
fn cx_ins_c(parts: CxParts<'_>, out: &mut Vec<ComponentProblem>) {
    if checkable(parts.identifier_type_code) != Some("INS-C") {
        return;
    }
    if given(parts.effective_date).is_none() {
        out.push(problem(
            (7, None),
            "CX-7-INSC",
            "CX-7 (effective date) is required for an INS-C: it carries the date the INS-C was computed".to_string(),
        ));
    }
    let authority = checkable(parts.assigning_authority.universal_id);
    if !authority.is_some_and(|a| INS_C_AUTHORITIES.contains(&a)) {
        out.push(problem(
            (4, Some(2)),
            "CX-INSC-AUTH",
            format!(
                "CX-5 is INS-C, so CX-4.2 must be one of {} (production, test, demonstration cards), not {}",
                INS_C_AUTHORITIES.join(", "),
                authority.map_or_else(|| "empty".to_string(), quote)
            ),
        ));
    }
}

/// NDP: assigned by the CNOP. IHE France data types 1.8.2, page 7 (NDP row).
fn cx_ndp(parts: CxParts<'_>, out: &mut Vec<ComponentProblem>) {
    if checkable(parts.identifier_type_code) != Some("NDP") {
        return;
    }
    let authority = checkable(parts.assigning_authority.universal_id);
    if authority != Some(CNOP_NDP) {
        out.push(problem(
            (4, Some(2)),
            "CX-NDP-AUTH",
            format!(
                "CX-5 is NDP, so CX-4.2 must be the CNOP OID {CNOP_NDP}, not {}",
                authority.map_or_else(|| "empty".to_string(), quote)
            ),
        ));
    }
}

/// HL7 table 0200 (Name Type) as restricted for France. IHE France data types 1.8.2,
/// pages 37-38 (XPN-7, which XCN-10 follows per page 31).
const NAME_TYPES_FR: [&str; 4] = ["D", "L", "S", "U"];

/// Identifier types whose authority is ASIP-SANTE-PS. IHE France data types 1.8.2, page 29.
const PS_TYPES: [&str; 3] = ["IDNPS", "ADELI", "RPPS"];

/// French rules for XCN. IHE France data types 1.8.2, pages 28-31.
pub fn xcn(parts: XcnParts<'_>) -> Vec<ComponentProblem> {
    let mut out = Vec::new();
    xcn_id_number(parts, &mut out);
    xcn_name_type(parts, &mut out);
    identifier_type_rules(parts.identifier_type_code, (13, None), "XCN-13", "XCN", IN_XCN, &mut out);
    if !parts.assigning_authority.is_empty() {
        out.extend(hd_rules(parts.assigning_authority, At::Subcomponents { prefix: "XCN", of: 9 }, true));
    }
    xcn_professional_authority(parts, &mut out);
    out
}

/// XCN-1 up to 199 characters, and typed by XCN-13 whenever it is filled.
/// IHE France data types 1.8.2, page 30 (length) and page 31 (XCN-13 condition).
fn xcn_id_number(parts: XcnParts<'_>, out: &mut Vec<ComponentProblem>) {
    let Some(id) = given(parts.id_number) else {
        return;
    };
    let n = id.chars().count();
    if n > 199 {
        out.push(problem((1, None), "XCN-1-LEN", format!("XCN-1 (ID number) has {n} characters; France allows at most 199")));
    }
    if given(parts.identifier_type_code).is_none() {
        out.push(problem(
            (13, None),
            "XCN-13-COND",
            "XCN-13 (identifier type) is required because XCN-1 carries an identifier (e.g. IDNPS, RPPS, ADELI, EI)".to_string(),
        ));
    }
}

/// XCN-10 is required as soon as a family or given name is sent, from the French list.
/// IHE France data types 1.8.2, page 31 (condition) and pages 37-38 (values).
fn xcn_name_type(parts: XcnParts<'_>, out: &mut Vec<ComponentProblem>) {
    let named = given(parts.family_name).is_some() || given(parts.given_name).is_some();
    match given(parts.name_type_code) {
        None if named => out.push(problem(
            (10, None),
            "XCN-10-COND",
            "XCN-10 (name type) is required because XCN-2 or XCN-3 carries a name (e.g. D for the name in use, L for the birth name)".to_string(),
        )),
        Some(t) if t != HL7_NULL && !NAME_TYPES_FR.contains(&t) => out.push(problem(
            (10, None),
            "XCN-10-TABLE",
            format!(
                "XCN-10 (name type) {} is not allowed in France: expected D (nom d'usage), L (nom de naissance), S (pseudonyme) or U (non spécifié)",
                quote(t)
            ),
        )),
        _ => {}
    }
}

/// National professional identifiers (IDNPS, ADELI, RPPS) are assigned by ASIP-SANTE-PS, and
/// that authority only assigns those. IHE France data types 1.8.2, page 29.
fn xcn_professional_authority(parts: XcnParts<'_>, out: &mut Vec<ComponentProblem>) {
    let code = checkable(parts.identifier_type_code);
    let authority = checkable(parts.assigning_authority.universal_id);
    if let Some(c) = code.filter(|c| PS_TYPES.contains(c)) {
        if authority != Some(ASIP_SANTE_PS) || checkable(parts.assigning_authority.universal_id_type) != Some("ISO") {
            out.push(problem(
                (9, Some(2)),
                "XCN-PS-AUTH",
                format!(
                    "XCN-13 is {c}, so XCN-9 must be ASIP-SANTE-PS&{ASIP_SANTE_PS}&ISO (found universal ID {})",
                    authority.map_or_else(|| "empty".to_string(), quote)
                ),
            ));
        }
    } else if authority == Some(ASIP_SANTE_PS) {
        if let Some(c) = code {
            out.push(problem(
                (13, None),
                "XCN-PS-TYPE",
                format!("XCN-9 is ASIP-SANTE-PS ({ASIP_SANTE_PS}), so XCN-13 must be IDNPS, RPPS or ADELI, not {}", quote(c)),
            ));
        }
    }
}

/// Identifier types whose authority is ASIP-SANTE-ST. IHE France data types 1.8.2, pages 33-34.
const ST_TYPES: [&str; 6] = ["IDNST", "FINESS", "FINEG", "FINEJ", "SIRET", "SIREN"];

/// French rules for XON. IHE France data types 1.8.2, pages 33-35.
pub fn xon(parts: XonParts<'_>) -> Vec<ComponentProblem> {
    let mut out = Vec::new();
    xon_identifier(parts, &mut out);
    identifier_type_rules(parts.identifier_type_code, (7, None), "XON-7", "XON", IN_XON, &mut out);
    if !parts.assigning_authority.is_empty() {
        out.extend(hd_rules(parts.assigning_authority, At::Subcomponents { prefix: "XON", of: 6 }, true));
    }
    xon_structure_authority(parts, &mut out);
    out
}

/// XON-10 (the identifier, up to 64 characters) is read "selon le type précisé en XON-7", so
/// neither is meaningful alone. IHE France data types 1.8.2, page 33 (length) and page 35.
fn xon_identifier(parts: XonParts<'_>, out: &mut Vec<ComponentProblem>) {
    match (given(parts.organization_identifier), given(parts.identifier_type_code)) {
        (Some(id), kind) => {
            let n = id.chars().count();
            if n > 64 {
                out.push(problem(
                    (10, None),
                    "XON-10-LEN",
                    format!("XON-10 (organization identifier) has {n} characters; France allows at most 64"),
                ));
            }
            if kind.is_none() {
                out.push(problem(
                    (7, None),
                    "XON-7-COND",
                    "XON-7 (identifier type) is required because XON-10 carries an organization identifier (e.g. FINEG, FINEJ, IDNST, UF)".to_string(),
                ));
            }
        }
        (None, Some(kind)) => out.push(problem(
            (10, None),
            "XON-10-COND",
            format!("XON-7 (identifier type) is {} but XON-10 (organization identifier) is empty; the identifier goes in XON-10, not XON-3", quote(kind)),
        )),
        (None, None) => {}
    }
}

/// National structure identifiers are assigned by ASIP-SANTE-ST, and that authority only
/// assigns structure identifiers. IHE France data types 1.8.2, pages 33-34.
fn xon_structure_authority(parts: XonParts<'_>, out: &mut Vec<ComponentProblem>) {
    let code = checkable(parts.identifier_type_code);
    let authority = checkable(parts.assigning_authority.universal_id);
    if code == Some("IDNST") {
        if authority != Some(ASIP_SANTE_ST) || checkable(parts.assigning_authority.universal_id_type) != Some("ISO") {
            out.push(problem(
                (6, Some(2)),
                "XON-ST-AUTH",
                format!(
                    "XON-7 is IDNST, so XON-6 must be ASIP-SANTE-ST&{ASIP_SANTE_ST}&ISO (found universal ID {})",
                    authority.map_or_else(|| "empty".to_string(), quote)
                ),
            ));
        }
    } else if authority == Some(ASIP_SANTE_ST) {
        if let Some(c) = code.filter(|c| !ST_TYPES.contains(c)) {
            out.push(problem(
                (7, None),
                "XON-ST-TYPE",
                format!(
                    "XON-6 is ASIP-SANTE-ST ({ASIP_SANTE_ST}), so XON-7 must be one of {}, not {}",
                    ST_TYPES.join(", "),
                    quote(c)
                ),
            ));
        }
    }
}
