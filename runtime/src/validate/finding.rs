//! What validation reports: one finding per broken rule occurrence, located in HL7 terms.

use std::fmt;

/// HL7 table 0516 (Error severity), in the order findings are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    /// The code of HL7 table 0516 (ERR-4).
    pub const fn code(self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Info => "I",
        }
    }
}

/// HL7 table 0357 (Message error condition codes) used by the validator (ERR-3).
pub mod code {
    pub const ACCEPTED: u16 = 0;
    pub const SEGMENT_SEQUENCE: u16 = 100;
    pub const REQUIRED_FIELD_MISSING: u16 = 101;
    pub const DATA_TYPE: u16 = 102;
    pub const TABLE_VALUE_NOT_FOUND: u16 = 103;
    pub const UNSUPPORTED_MESSAGE_TYPE: u16 = 200;
    pub const UNSUPPORTED_EVENT: u16 = 201;
    pub const UNSUPPORTED_PROCESSING_ID: u16 = 202;
    pub const UNSUPPORTED_VERSION: u16 = 203;
    pub const DUPLICATE_KEY: u16 = 205;
    pub const APPLICATION_INTERNAL: u16 = 207;

    /// The text HL7 table 0357 gives each code (ERR-3.2).
    pub const fn text(code: u16) -> &'static str {
        match code {
            0 => "Message accepted",
            100 => "Segment sequence error",
            101 => "Required field missing",
            102 => "Data type error",
            103 => "Table value not found",
            200 => "Unsupported message type",
            201 => "Unsupported event code",
            202 => "Unsupported processing id",
            203 => "Unsupported version id",
            204 => "Unknown key identifier",
            205 => "Duplicate key identifier",
            206 => "Application record locked",
            _ => "Application internal error",
        }
    }
}

/// An error location as ERR-2 (ERL) writes it: segment id, sequence (1-based occurrence of
/// that segment id in the message), field, repetition, component, subcomponent.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Erl {
    pub segment: Option<String>,
    pub sequence: Option<u32>,
    pub field: Option<u32>,
    pub repetition: Option<u32>,
    pub component: Option<u32>,
    pub subcomponent: Option<u32>,
}

impl fmt::Display for Erl {
    /// `PID[1]-3[1].4.2`, the reading form of the location (ERR-2 is written by the ACK).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.segment {
            Some(s) => f.write_str(s)?,
            None => return f.write_str("message"),
        }
        if let Some(n) = self.sequence {
            write!(f, "[{n}]")?;
        }
        if let Some(n) = self.field {
            write!(f, "-{n}")?;
            if let Some(r) = self.repetition {
                write!(f, "[{r}]")?;
            }
            if let Some(c) = self.component {
                write!(f, ".{c}")?;
                if let Some(s) = self.subcomponent {
                    write!(f, ".{s}")?;
                }
            }
        }
        Ok(())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// HL7 table 0357.
    pub code: u16,
    pub location: Erl,
    /// The rule's id (`F1-OBR2-EQ-ORC2`, `usage`, `fixed` …).
    pub rule: String,
    /// Where the rule comes from (`st_flux1.md#t2.r4`).
    pub source: String,
    /// What a person can act on, naming the element, the value and what was expected.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {} {}: {} (rule {}, {})", self.severity, self.code, self.location, self.message, self.rule, self.source)
    }
}
