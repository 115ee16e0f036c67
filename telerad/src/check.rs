//! Parse, choose the profile, validate: what `telerad validate` and `telerad ack` share, and
//! what an application receiving the guide's messages calls.

use hl7_runtime::validate::{self, Finding, Severity};
use hl7_runtime::{Message, ParseOptions};

use crate::{AnyMessage, REGISTRY};

/// The outcome of checking one message.
#[derive(Debug)]
pub struct Checked<'a> {
    /// The message placed in its profile, when it parsed and a profile fits.
    pub message: Option<AnyMessage<'a>>,
    /// Every finding, in the validator's order; a parse failure or an unsupported message
    /// type is one error finding.
    pub findings: Vec<Finding>,
}

impl Checked<'_> {
    /// No error finding (warnings and infos allowed).
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// A profile name that the registry does not know: a usage error, not a message defect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{0}`; `telerad profiles` lists them")]
pub struct UnknownProfile(pub String);

/// Checks `bytes` against the guide: strict parse (or as `options` say), the profile chosen from
/// MSH-9 and ORC-1 unless `profile` names one, then every rule of that profile.
pub fn check<'a>(bytes: &'a [u8], options: &ParseOptions, profile: Option<&str>) -> Result<Checked<'a>, UnknownProfile> {
    check_with(bytes, options, profile, None)
}

/// As [`check`], with the message an ACK acknowledges, so that the ACK profile's rules that read
/// it (`original.MSH-10` …) are evaluated rather than reported as not evaluated. An original that
/// does not parse is ignored (those rules stay not evaluated).
pub fn check_with<'a>(bytes: &'a [u8], options: &ParseOptions, profile: Option<&str>, original: Option<&'a [u8]>) -> Result<Checked<'a>, UnknownProfile> {
    if let Some(p) = profile {
        if REGISTRY.profile(p).is_none() {
            return Err(UnknownProfile(p.to_owned()));
        }
    }
    let message = match Message::parse_with(bytes, options) {
        Ok(m) => m,
        Err(e) => return Ok(Checked { message: None, findings: vec![validate::parse_error_finding(&e)] }),
    };
    // Read as Windows-1252 through the fallback: never silently.
    let notice = hl7_runtime::charset::windows_1252_notice(&message);
    let any = match profile {
        Some(p) => AnyMessage::with_profile(message, p).ok_or_else(|| UnknownProfile(p.to_owned()))?,
        None => match AnyMessage::from_message(message) {
            Ok(m) => m,
            Err(e) => return Ok(Checked { message: None, findings: notice.into_iter().chain([validate::no_profile_finding(&e, &REGISTRY)]).collect() }),
        },
    };
    let original = original.and_then(|o| Message::parse_with(o, options).ok());
    // One set of limits for the whole check: the parser's bounds and validation's step bound.
    let mut findings = validate::validate_bounded(any.placed(), &REGISTRY, original.as_ref(), &options.limits).findings;
    findings.splice(0..0, notice);
    Ok(Checked { message: Some(any), findings })
}
