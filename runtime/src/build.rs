//! Support for the generated builders: owned values and writing them into the owned model.
//!
//! Generated value types (`CxValue`, `HdValue` …) turn into a [`Value`]; generated segment
//! builders write their fields with [`set`]; generated message builders finish with
//! [`encode`]. All the logic is here, once.

use crate::charset::{Charset, CharsetError};
use crate::er7::Delimiters;
use crate::error::EncodeError;
use crate::owned::{MessageBuf, SegmentBuf};

/// An owned value of some datatype: text, or components (each possibly absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Composite(Vec<Option<Value>>),
}

impl Value {
    /// The value as one text at the subcomponent level, where ER7 has no level left: the
    /// first component of a composite (HL7's truncation rule).
    fn leaf_text(&self) -> &str {
        match self {
            Value::Text(t) => t,
            Value::Composite(cs) => cs.first().and_then(|c| c.as_ref()).map_or("", Value::leaf_text),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

/// Writes `value` as repetition `rep` (1-based) of field `field` of `seg`.
pub fn set(seg: &mut SegmentBuf, field: usize, rep: usize, value: impl Into<Value>) {
    match &value.into() {
        Value::Text(t) => {
            seg.set_component(field, rep, 1, t);
        }
        Value::Composite(comps) => {
            for (i, c) in comps.iter().enumerate() {
                match c {
                    None => {}
                    Some(Value::Text(t)) => {
                        seg.set_component(field, rep, i + 1, t);
                    }
                    Some(Value::Composite(subs)) => {
                        for (j, s) in subs.iter().enumerate() {
                            if let Some(s) = s {
                                seg.set_subcomponent(field, rep, i + 1, j + 1, s.leaf_text());
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Why a built message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// MSH-18 names a character set this library does not write.
    #[error("MSH-18: {0}")]
    Charset(#[from] CharsetError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The owned message for segments in order, with the character set MSH-18 names (ASCII when
/// MSH-18 is empty, as HL7 says) and the standard delimiters `|^~\&`.
pub fn message(segments: Vec<SegmentBuf>) -> Result<MessageBuf, BuildError> {
    let msh18 = segments
        .first()
        .filter(|s| s.id == "MSH")
        .and_then(|s| s.get(18, 1, 1, 1))
        .unwrap_or("")
        .to_owned();
    let charset = Charset::from_msh18(msh18.as_bytes())?;
    let mut buf = MessageBuf::new(Delimiters::default(), charset);
    buf.segments = segments;
    buf.normalize();
    Ok(buf)
}

/// Encodes segments as ER7 (see [`message`]).
pub fn encode(segments: Vec<SegmentBuf>) -> Result<Vec<u8>, BuildError> {
    Ok(message(segments)?.encode()?)
}
