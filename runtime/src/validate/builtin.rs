//! The guide's rules that the assertion language of spec/HAND-FORMAT.md cannot express, as
//! named checks (listed in spec/README.md, "Built-in checks"): they compare occurrences of a
//! group with one another (flow 3: at least one OBSERVATION of the protocol kind; flow 4: the
//! ORDER groups of one message) or read what an ED carries (the flow 4 viewer URL).
//!
//! Each check runs only for the profile it belongs to (or a profile that extends it).

use std::borrow::Cow;

use smallvec::SmallVec;

use super::finding::{code, Severity};
use crate::er7::{Message, Segment};
use crate::structure::{GroupInstance, Item};
use crate::typed::{trimmed, Placed};

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
    let is = |profile: &str| std::iter::successors(Some(placed.def), |d| d.extends).take(16).any(|d| d.profile == profile);
    if is("flux3_oru_r01") {
        flow3_acceptance(placed, budget, &mut out);
    }
    if is("flux4_omi_o23") {
        flow4_orders(placed, budget, &mut out);
    }
    out
}

/// Visits the child groups named `name` of `inst`, at any depth below groups of other names,
/// in message order.
fn groups_named<'t>(inst: &'t GroupInstance, name: &str, f: &mut dyn FnMut(&'t GroupInstance)) {
    for it in &inst.items {
        if let Item::Group { group, .. } = it {
            if group.def.name == name {
                f(group);
            } else {
                groups_named(group, name, f);
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

fn obx3_code<'a>(obx: &Segment<'a>) -> Cow<'a, str> {
    trimmed(obx.field(3).component(1).text())
}

const FLOW3_PROTOCOL_SRC: &str = "st-profils.md#h:Description fonctionnelle";

/// Flow 3: an acceptance (ORC-1 = OK) carries at least one imaging protocol. The OBSERVATION
/// group is "obligatoire en cas d’acceptation, afin de permettre la transmission d’un ou
/// plusieurs protocoles d’imagerie" (st-profils.md), so an OBSERVATION of another kind does
/// not satisfy it. With no OBSERVATION at all, the predicate on the group reports it (101).
fn flow3_acceptance(placed: &Placed<'_>, budget: &mut super::engine::Budget, out: &mut Vec<Hit>) {
    let message = &placed.message;
    let mut stopped = false;
    groups_named(&placed.tree, "ORDER_OBSERVATION", &mut |order| {
        if stopped || !budget.spend(1 + order.items.len() as u64) {
            stopped = true;
            return;
        }
        let Some(orc) = own_segment(message, order, "ORC") else { return };
        if orc.field(1).text().trim() != "OK" {
            return;
        }
        let (mut observations, mut protocol) = (0usize, false);
        groups_named(order, "OBSERVATION", &mut |g| {
            observations += 1;
            protocol = protocol || first_obx(message, g).is_some_and(|obx| obx3_code(&obx) == "PROTOCOLE_IMAGERIE");
        });
        if observations > 0 && !protocol {
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
                    "ORC-1 is OK (request accepted) but none of the {observations} OBSERVATION groups is an imaging protocol (OBX-3.1 PROTOCOLE_IMAGERIE): an acceptance carries at least one"
                ),
            });
        }
    });
}

const FLOW4_ORDERS_SRC: &str = "st-profils.md#h:Flux 4 - Message OMI^O23^OMI_023 en HL7 v2.5.1";
const FLOW4_VIEWER_SRC: &str = "st_flux4.md#h:Groupe OBSERVATION - URL de viewer DRIMbox";

/// What flow 4 compares across its ORDER groups: the message indexes of its segments.
#[derive(Clone, Copy)]
struct Order {
    orc: Option<usize>,
    ipc: Option<usize>,
    viewer: Option<usize>,
}

/// Flow 4: "chaque occurrence du groupe ORDER représente un examen d’imagerie" … "chaque
/// occurrence portant les identifiants propres à l’examen correspondant (StudyInstanceUID,
/// Accession Number, URL de visionneuse), tout en conservant l’Order Placer Number"
/// (st-profils.md): ORC-2 is the same in every ORDER, IPC-1 and IPC-3 differ, and the viewer
/// URL of each ORDER names its own exam.
fn flow4_orders(placed: &Placed<'_>, budget: &mut super::engine::Budget, out: &mut Vec<Hit>) {
    let message = &placed.message;
    // On the stack up to eight ORDER groups (a request is one exam or a few).
    let mut orders: SmallVec<[Order; 8]> = SmallVec::new();
    let mut stopped = false;
    groups_named(&placed.tree, "ORDER", &mut |g| {
        if stopped || !budget.spend(1 + g.items.len() as u64) {
            stopped = true;
            return;
        }
        let mut viewer = None;
        groups_named(g, "OBSERVATION", &mut |o| {
            if viewer.is_none() {
                viewer = first_obx(message, o).filter(|obx| obx3_code(obx) == "URL_PARTIELLE_VIEWER").map(|obx| obx.index());
            }
        });
        let index = |id| own_segment(message, g, id).map(|s| s.index());
        orders.push(Order { orc: index("ORC"), ipc: index("IPC"), viewer });
    });
    if stopped {
        return;
    }
    let segment = |i: usize| message.segment(i);
    // ORC-2 kept across the ORDER groups.
    let first_orc2 = orders.first().and_then(|o| segment(o.orc?)).map(|s| raw_field(&s, 2));
    if let Some(first) = first_orc2.filter(|f| !f.is_empty()) {
        for orc in orders.iter().skip(1).filter_map(|o| segment(o.orc?)) {
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
    // IPC-1 (Accession Number) and IPC-3 (Study Instance UID) are each ORDER's own: the
    // values sorted with their ORDER's number, so that a repeat follows its first sending.
    let mut values: SmallVec<[(Cow<'_, str>, usize, usize); 8]> = SmallVec::new();
    for (field, rule, what) in [(1u32, "F4-ORDER-DISTINCT-IPC1", "accession number"), (3, "F4-ORDER-DISTINCT-IPC3", "Study Instance UID")] {
        values.clear();
        values.extend(
            orders
                .iter()
                .enumerate()
                .filter_map(|(k, o)| segment(o.ipc?).map(|s| (raw_field(&s, field as usize), k, s.index())))
                .filter(|(value, _, _)| !value.is_empty()),
        );
        values.sort_unstable();
        for run in values.chunk_by(|a, b| a.0 == b.0) {
            let Some(((value, first, _), repeats)) = run.split_first() else { continue };
            for (_, _, ipc) in repeats {
                out.push(Hit {
                    severity: Severity::Error,
                    code: code::DUPLICATE_KEY,
                    segment: *ipc,
                    field: Some(field),
                    component: None,
                    rule,
                    source: FLOW4_ORDERS_SRC,
                    message: format!("IPC-{field} ({what}) '{value}' is also ORDER {}'s: each ORDER group is one exam with its own identifiers", first + 1),
                });
            }
        }
    }
    for order in &orders {
        if let (Some(obx), Some(ipc)) = (order.viewer.and_then(segment), order.ipc.and_then(segment)) {
            viewer_url(&obx, &ipc, out);
        }
    }
}

/// The field's ER7 text as sent (components and all), trailing separators trimmed.
fn raw_field<'a>(seg: &Segment<'a>, n: usize) -> Cow<'a, str> {
    fn trim(s: &str) -> &str {
        s.trim_end_matches(['^', '&']).trim()
    }
    match String::from_utf8_lossy(seg.field(n).raw()) {
        Cow::Borrowed(s) => Cow::Borrowed(trim(s)),
        Cow::Owned(s) => Cow::Owned(trim(&s).to_owned()),
    }
}

/// The viewer URL (OBX-5.5, Base64 of a partial URL) carries the StudyInstanceUID and
/// AccessionNumber parameters: "l'encodage en base 64 d'une URL partielle, incluant les
/// éléments suivants : FQDN du point d'accès, service cible, paramètres StudyInstanceUID et
/// AccessionNumber" (st_flux4.md). Each must be the ORDER's IPC-3.1 and IPC-1.1. Data that is
/// not Base64 is ED-BASE64's finding, not this one's.
fn viewer_url(obx: &Segment<'_>, ipc: &Segment<'_>, out: &mut Vec<Hit>) {
    let ed = obx.field(5);
    if ed.component(4).text().trim() != "Base64" {
        return;
    }
    let data = ed.component(5).text();
    let Ok(bytes) = super::formats::base64_decode(data.trim()) else { return };
    let text = std::str::from_utf8(&bytes).ok();
    // Written only into a finding.
    let url = || match text {
        Some(t) => format!("'{t}'"),
        None => format!("(Base64 of {} bytes that are not UTF-8 text, so no URL)", bytes.len()),
    };
    for (param, ipc_field, rule, what) in [
        ("StudyInstanceUID", 3usize, "F4-VIEWER-URL-STUDY", "Study Instance UID"),
        ("AccessionNumber", 1, "F4-VIEWER-URL-ACCESSION", "accession number"),
    ] {
        let expected = trimmed(ipc.field(ipc_field).component(1).text());
        if expected.is_empty() {
            continue; // IPC's own rules report the empty identifier
        }
        let found = text.and_then(|t| query_parameters(t).find(|(k, _)| k == param)).map(|(_, v)| v);
        let problem = match found {
            None => Some(format!("the viewer URL {} has no {param} parameter; the ORDER's {what} (IPC-{ipc_field}.1) is '{expected}'", url())),
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

/// The `name=value` pairs of a URL's query (after `?`, before `#`), percent-decoded, in order.
fn query_parameters(url: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    let query = url.split_once('?').map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    query.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (percent_decode(k), percent_decode(v))
    })
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
        let p: Vec<_> = query_parameters("https://h/v?StudyInstanceUID=1.2.3&AccessionNumber=A%2D1&x#frag").collect();
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].0.as_ref(), p[0].1.as_ref()), ("StudyInstanceUID", "1.2.3"));
        assert_eq!(p[1].1, "A-1");
        assert_eq!(p[2].1, "");
        assert_eq!(query_parameters("https://h/v").count(), 0);
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
