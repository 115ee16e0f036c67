//! Choosing the profile of an incoming message from the definitions alone.
//!
//! A profile matches when MSH-9.1 is its message code, MSH-9.2 its event (when the profile
//! fixes one), and, when the profile fixes ORC-1 (NW, CA, OK/OC, SR), the first ORC's ORC-1 is
//! one of the allowed codes. This is what tells flow 1 from flow 2 (both ORM^O01). Profiles
//! are tried in registry order (an extension's own profiles first, then the guide's by id), so
//! a header-only ORM is read as flow 1.

use std::borrow::Cow;

use crate::er7::Message;
use crate::meta::{MessageDef, Registry};

/// No profile of the registry fits the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no profile for MSH-9 `{message_type}`{}", order_control.as_ref().map(|c| format!(" with ORC-1 `{c}`")).unwrap_or_default())]
pub struct NoProfile {
    pub message_type: String,
    pub order_control: Option<String>,
}

/// The allowed ORC-1 codes of a profile, empty when the profile does not constrain ORC-1.
pub fn order_controls(def: &MessageDef) -> impl Iterator<Item = &'static str> + '_ {
    def.constraints()
        .filter(|s| s.segment == "ORC")
        .flat_map(|s| s.elements.iter())
        .filter(|e| e.field == 1 && e.component.is_none())
        .flat_map(|e| e.fixed.into_iter().chain(e.values.iter().copied()))
}

/// Runs on every typed parse, so it reads the header in place and allocates only to report.
pub fn profile(message: &Message<'_>, registry: &Registry) -> Result<&'static MessageDef, NoProfile> {
    let code = message.first_component_text(0, 9, 1).unwrap_or_default();
    let event = message.first_component_text(0, 9, 2).unwrap_or_default();
    let (code, event) = (code.trim(), event.trim());
    // ORC-1, read once, when a profile of the message's type needs it to decide; `None`
    // without any ORC.
    let orc1 = || message.first_segment_with(*b"ORC").map(|orc| message.field_text(orc, 1).unwrap_or_default());
    let mut read: Option<Option<Cow<'_, str>>> = None;
    for p in registry.all_profiles() {
        let fits = p.code == code && p.event.is_none_or(|e| e == event);
        if !fits {
            continue;
        }
        let mut allowed = order_controls(p).peekable();
        // Without any ORC (a header-only message) ORC-1 cannot decide: the first profile of
        // the message type is taken, and validation reports the missing ORDER.
        if allowed.peek().is_none() {
            return Ok(p);
        }
        match read.get_or_insert_with(orc1).as_deref().map(str::trim) {
            None => return Ok(p),
            Some(c) if allowed.any(|a| a == c) => return Ok(p),
            Some(_) => {}
        }
    }
    // The report's values: the whole of MSH-9 and of the first ORC-1.
    let message_type = message.segment(0).map(|s| s.field(9).text().into_owned()).unwrap_or_default();
    let order_control = read.unwrap_or_else(orc1).map(|c| c.trim().to_owned());
    Err(NoProfile { message_type, order_control })
}
