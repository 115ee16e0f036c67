//! Choosing the profile of an incoming message from the definitions alone.
//!
//! A profile matches when MSH-9.1 is its message code, MSH-9.2 its event (when the profile
//! fixes one), and, when the profile fixes ORC-1 (NW, CA, OK/OC, SR), the first ORC's ORC-1 is
//! one of the allowed codes. This is what tells flow 1 from flow 2 (both ORM^O01). Profiles
//! are tried in registry order (an extension's own profiles first, then the guide's by id), so
//! a header-only ORM is read as flow 1.

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
    let msh9 = message.segment(0).map(|s| s.field(9));
    let code = msh9.map(|f| f.component(1).text()).unwrap_or_default();
    let event = msh9.map(|f| f.component(2).text()).unwrap_or_default();
    let orc1 = message.segments_by_id("ORC").next().map(|s| s.field(1).text());
    let orc1 = orc1.as_deref().map(str::trim);
    registry
        .all_profiles()
        .find(|p| {
            p.code == code.trim()
                && p.event.is_none_or(|e| e == event.trim())
                && {
                    // Without any ORC (a header-only message) ORC-1 cannot decide: the first
                    // profile of the message type is taken, and validation reports the
                    // missing ORDER.
                    let mut allowed = order_controls(p).peekable();
                    allowed.peek().is_none() || orc1.is_none_or(|c| allowed.any(|a| a == c))
                }
        })
        .ok_or_else(|| NoProfile {
            message_type: msh9.map(|f| f.text().into_owned()).unwrap_or_default(),
            order_control: orc1.map(str::to_owned),
        })
}
