//! The guide's rules that the assertion language of spec/HAND-FORMAT.md cannot express, as
//! named checks (listed in spec/README.md, "Built-in checks"): they compare occurrences of a
//! group with one another (flow 3: at least one OBSERVATION of the protocol kind; flow 4: the
//! ORDER groups of one message) or read what an ED carries (the flow 4 viewer URL).
//!
//! Each check runs only for the profile it belongs to (or a profile that extends it).

use std::borrow::Cow;

use super::finding::{code, Severity};
use crate::er7::{Message, Segment};
use crate::structure::{GroupInstance, Item};
use crate::typed::Placed;

/// One finding of a built-in check, located in the message by segment number and position.
pub(crate) struct Hit {
    pub severity: Severity,
    pub code: u16,
    pub segment: usize,
    pub field: Option<u32>,
    pub component: Option<u32>,
    pub rule: &'static str,
    pub source: &'static str,
    pub message: String,
}

/// Runs the built-in checks of the message's profile; `budget` is spent one step per group
/// instance visited.
pub(crate) fn check(placed: &Placed<'_>, budget: &mut super::engine::Budget) -> Vec<Hit> {
    let mut out = Vec::new();
    let profiles: Vec<&str> = std::iter::successors(Some(placed.def), |d| d.extends).take(16).map(|d| d.profile).collect();
    if profiles.contains(&"flux3_oru_r01") {
        flow3_acceptance(placed, budget, &mut out);
    }
    if profiles.contains(&"flux4_omi_o23") {
        flow4_orders(placed, budget, &mut out);
    }
    out
}

/// The child groups named `name` of `inst`, at any depth below groups of other names.
fn groups_named<'t>(inst: &'t GroupInstance, name: &str, out: &mut Vec<&'t GroupInstance>) {
    for it in &inst.items {
        if let Item::Group { group, .. } = it {
            if group.def.name == name {
                out.push(group);
            } else {
                groups_named(group, name, out);
            }
        }
    }
}

/// The first segment with this id placed directly in `inst`.
fn own_segment<'a>(message: &Message<'a>, inst: &GroupInstance, id: &str) -> Option<Segment<'a>> {
    inst.items.iter().find_map(|it| match it {
        Item::Segment { segment, .. } => message.segment(*segment).filter(|s| s.id() == id),
        _ => None,
    })
}

/// The first OBX of an OBSERVATION instance.
fn first_obx<'a>(message: &Message<'a>, inst: &GroupInstance) -> Option<Segment<'a>> {
    let i = inst.find_segment(&mut |i| message.segment_id(i) == Some("OBX"))?;
    message.segment(i)
}

fn obx3_code(obx: &Segment<'_>) -> String {
    obx.field(3).component(1).text().trim().to_owned()
}

const FLOW3_PROTOCOL_SRC: &str = "st-profils.md#h:Description fonctionnelle";

/// Flow 3: an acceptance (ORC-1 = OK) carries at least one imaging protocol. The OBSERVATION
/// group is "obligatoire en cas d’acceptation, afin de permettre la transmission d’un ou
/// plusieurs protocoles d’imagerie" (st-profils.md), so an OBSERVATION of another kind does
/// not satisfy it. With no OBSERVATION at all, the predicate on the group reports it (101).
fn flow3_acceptance(placed: &Placed<'_>, budget: &mut super::engine::Budget, out: &mut Vec<Hit>) {
    let message = &placed.message;
    let mut orders = Vec::new();
    groups_named(&placed.tree, "ORDER_OBSERVATION", &mut orders);
    for order in orders {
        if !budget.spend(1 + order.items.len() as u64) {
            return;
        }
        let Some(orc) = own_segment(message, order, "ORC") else { continue };
        if orc.field(1).text().trim() != "OK" {
            continue;
        }
        let mut observations = Vec::new();
        groups_named(order, "OBSERVATION", &mut observations);
        if observations.is_empty() {
            continue;
        }
        let protocol = observations.iter().filter_map(|g| first_obx(message, g)).any(|obx| obx3_code(&obx) == "PROTOCOLE_IMAGERIE");
        if !protocol {
            let at = own_segment(message, order, "OBR").unwrap_or(orc);
            out.push(Hit {
                severity: Severity::Error,
                code: code::SEGMENT_SEQUENCE,
                segment: at.index(),
                field: None,
                component: None,
                rule: "F3-OK-PROTOCOL",
                source: FLOW3_PROTOCOL_SRC,
                message: format!(
                    "ORC-1 is OK (request accepted) but none of the {} OBSERVATION groups is an imaging protocol (OBX-3.1 PROTOCOLE_IMAGERIE): an acceptance carries at least one",
                    observations.len()
                ),
            });
        }
    }
}

const FLOW4_ORDERS_SRC: &str = "st-profils.md#h:Flux 4 - Message OMI^O23^OMI_023 en HL7 v2.5.1";
const FLOW4_VIEWER_SRC: &str = "st_flux4.md#h:Groupe OBSERVATION - URL de viewer DRIMbox";

/// What flow 4 compares across its ORDER groups.
struct Order<'a> {
    orc: Option<Segment<'a>>,
    ipc: Option<Segment<'a>>,
    viewer: Option<Segment<'a>>,
}

/// Flow 4: "chaque occurrence du groupe ORDER représente un examen d’imagerie" … "chaque
/// occurrence portant les identifiants propres à l’examen correspondant (StudyInstanceUID,
/// Accession Number, URL de visionneuse), tout en conservant l’Order Placer Number"
/// (st-profils.md): ORC-2 is the same in every ORDER, IPC-1 and IPC-3 differ, and the viewer
/// URL of each ORDER names its own exam.
fn flow4_orders(placed: &Placed<'_>, budget: &mut super::engine::Budget, out: &mut Vec<Hit>) {
    let message = &placed.message;
    let mut groups = Vec::new();
    groups_named(&placed.tree, "ORDER", &mut groups);
    let mut orders = Vec::new();
    for g in groups {
        if !budget.spend(1 + g.items.len() as u64) {
            return;
        }
        let mut observations = Vec::new();
        groups_named(g, "OBSERVATION", &mut observations);
        let viewer = observations.iter().filter_map(|o| first_obx(message, o)).find(|obx| obx3_code(obx) == "URL_PARTIELLE_VIEWER");
        orders.push(Order { orc: own_segment(message, g, "ORC"), ipc: own_segment(message, g, "IPC"), viewer });
    }
    // ORC-2 kept across the ORDER groups.
    let first_orc2 = orders.first().and_then(|o| o.orc).map(|s| raw_field(&s, 2));
    if let Some(first) = first_orc2.filter(|f| !f.is_empty()) {
        for orc in orders.iter().skip(1).filter_map(|o| o.orc) {
            let this = raw_field(&orc, 2);
            if this != first {
                out.push(Hit {
                    severity: Severity::Error,
                    code: code::APPLICATION_INTERNAL,
                    segment: orc.index(),
                    field: Some(2),
                    component: None,
                    rule: "F4-ORDER-SAME-ORC2",
                    source: FLOW4_ORDERS_SRC,
                    message: format!("ORC-2 is '{this}', the first ORDER's is '{first}': the repeated ORDER groups keep the Order Placer Number of the request"),
                });
            }
        }
    }
    // IPC-1 (Accession Number) and IPC-3 (Study Instance UID) are each ORDER's own.
    for (field, rule, what) in [(1u32, "F4-ORDER-DISTINCT-IPC1", "accession number"), (3, "F4-ORDER-DISTINCT-IPC3", "Study Instance UID")] {
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (k, ipc) in orders.iter().enumerate().filter_map(|(k, o)| o.ipc.map(|s| (k, s))) {
            let value = raw_field(&ipc, field as usize);
            if value.is_empty() {
                continue;
            }
            match seen.get(&value) {
                Some(first) => out.push(Hit {
                    severity: Severity::Error,
                    code: code::DUPLICATE_KEY,
                    segment: ipc.index(),
                    field: Some(field),
                    component: None,
                    rule,
                    source: FLOW4_ORDERS_SRC,
                    message: format!("IPC-{field} ({what}) '{value}' is also ORDER {}'s: each ORDER group is one exam with its own identifiers", first + 1),
                }),
                None => {
                    seen.insert(value, k);
                }
            }
        }
    }
    for order in &orders {
        viewer_url(order, out);
    }
}

/// The field's ER7 text as sent (components and all), trailing separators trimmed.
fn raw_field(seg: &Segment<'_>, n: usize) -> String {
    String::from_utf8_lossy(seg.field(n).raw()).trim_end_matches(['^', '&']).trim().to_owned()
}

/// The viewer URL (OBX-5.5, Base64 of a partial URL) carries the StudyInstanceUID and
/// AccessionNumber parameters: "l'encodage en base 64 d'une URL partielle, incluant les
/// éléments suivants : FQDN du point d'accès, service cible, paramètres StudyInstanceUID et
/// AccessionNumber" (st_flux4.md). Each must be the ORDER's IPC-3.1 and IPC-1.1. Data that is
/// not Base64 is ED-BASE64's finding, not this one's.
fn viewer_url(order: &Order<'_>, out: &mut Vec<Hit>) {
    let (Some(obx), Some(ipc)) = (order.viewer, order.ipc) else { return };
    let ed = obx.field(5);
    if ed.component(4).text().trim() != "Base64" {
        return;
    }
    let data = ed.component(5).text();
    let Ok(bytes) = super::formats::base64_decode(data.trim()) else { return };
    let text = std::str::from_utf8(&bytes).ok();
    let url = match text {
        Some(t) => format!("'{t}'"),
        None => format!("(Base64 of {} bytes that are not UTF-8 text, so no URL)", bytes.len()),
    };
    let params = text.map(query_parameters).unwrap_or_default();
    for (param, ipc_field, rule, what) in [
        ("StudyInstanceUID", 3usize, "F4-VIEWER-URL-STUDY", "Study Instance UID"),
        ("AccessionNumber", 1, "F4-VIEWER-URL-ACCESSION", "accession number"),
    ] {
        let expected = ipc.field(ipc_field).component(1).text().trim().to_owned();
        if expected.is_empty() {
            continue; // IPC's own rules report the empty identifier
        }
        let found = params.iter().find(|(k, _)| k == param).map(|(_, v)| v.as_ref());
        let problem = match found {
            None => Some(format!("the viewer URL {url} has no {param} parameter; the ORDER's {what} (IPC-{ipc_field}.1) is '{expected}'")),
            Some(v) if v != expected => Some(format!("the viewer URL's {param} is '{v}', the ORDER's {what} (IPC-{ipc_field}.1) is '{expected}'")),
            Some(_) => None,
        };
        if let Some(message) = problem {
            out.push(Hit {
                severity: Severity::Error,
                code: code::APPLICATION_INTERNAL,
                segment: obx.index(),
                field: Some(5),
                component: Some(5),
                rule,
                source: FLOW4_VIEWER_SRC,
                message,
            });
        }
    }
}

/// The `name=value` pairs of a URL's query (after `?`, before `#`), percent-decoded.
fn query_parameters(url: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let Some((_, query)) = url.split_once('?') else { return Vec::new() };
    let query = query.split('#').next().unwrap_or("");
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `%XX` escapes decoded (an invalid escape is kept as written); `+` is left alone.
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_split_and_decoded() {
        let p = query_parameters("https://h/v?StudyInstanceUID=1.2.3&AccessionNumber=A%2D1&x#frag");
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].0.as_ref(), p[0].1.as_ref()), ("StudyInstanceUID", "1.2.3"));
        assert_eq!(p[1].1, "A-1");
        assert_eq!(p[2].1, "");
        assert!(query_parameters("https://h/v").is_empty());
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
