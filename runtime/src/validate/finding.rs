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

    /// The lowercase word, as JSON writes it (`error`, `warning`, `info`).
    pub const fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
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

    /// The codes the validator writes for an error or a warning (an info is 0, accepted).
    pub const USED: &[u16] = &[
        SEGMENT_SEQUENCE,
        REQUIRED_FIELD_MISSING,
        DATA_TYPE,
        TABLE_VALUE_NOT_FOUND,
        UNSUPPORTED_MESSAGE_TYPE,
        UNSUPPORTED_EVENT,
        UNSUPPORTED_PROCESSING_ID,
        UNSUPPORTED_VERSION,
        DUPLICATE_KEY,
        APPLICATION_INTERNAL,
    ];

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

/// Reads the display form back (`OBR[1]-2`, `PID[1]-3[2].4.2`, `MSH`, `message`): the
/// segment id (three upper-case letters or digits, a letter first), then optionally `[n]`,
/// then optionally `-f`, `[r]`, `.c`, `.s`; every number 1-based. Exactly what `Display`
/// writes, so spec files can address elements the way findings print them.
impl std::str::FromStr for Erl {
    type Err = String;

    fn from_str(text: &str) -> Result<Erl, String> {
        if text == "message" {
            return Ok(Erl::default());
        }
        let bad = |why: &str| format!("`{text}` is not an ERL address like OBR[1]-2.1 or PID[1]-3[2].4.2: {why}");
        let id = text.get(..3).ok_or_else(|| bad("no segment id"))?;
        let b = id.as_bytes();
        if !(b.first().is_some_and(u8::is_ascii_uppercase) && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())) {
            return Err(bad("the segment id is three upper-case letters or digits"));
        }
        let mut rest = text.get(3..).unwrap_or("");
        let number = |s: &str| -> Result<u32, String> {
            match s.parse::<u32>() {
                Ok(n) if n > 0 && !s.starts_with('+') && !s.starts_with('0') => Ok(n),
                _ => Err(bad(&format!("`{s}` is not a positive number"))),
            }
        };
        // `[n]` at the head of `rest`, if any.
        let bracket = |rest: &mut &str| -> Result<Option<u32>, String> {
            let Some(inner) = rest.strip_prefix('[') else { return Ok(None) };
            let (n, after) = inner.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
            *rest = after;
            number(n).map(Some)
        };
        let mut erl = Erl { segment: Some(id.to_owned()), sequence: bracket(&mut rest)?, ..Erl::default() };
        let Some(fields) = rest.strip_prefix('-') else {
            return if rest.is_empty() { Ok(erl) } else { Err(bad("expected `-` and a field")) };
        };
        let digits = fields.bytes().take_while(u8::is_ascii_digit).count();
        let (f, mut rest) = fields.split_at(digits);
        erl.field = Some(number(f)?);
        erl.repetition = bracket(&mut rest)?;
        let mut parts = Vec::new();
        if let Some(tail) = rest.strip_prefix('.') {
            for p in tail.split('.') {
                parts.push(number(p)?);
            }
        } else if !rest.is_empty() {
            return Err(bad("expected `.component` after the field"));
        }
        if parts.len() > 2 {
            return Err(bad("at most a component and a subcomponent"));
        }
        erl.component = parts.first().copied();
        erl.subcomponent = parts.get(1).copied();
        Ok(erl)
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

#[cfg(test)]
mod tests {
    use super::Erl;

    #[test]
    fn erl_display_reads_back() {
        for text in ["OBR[1]-2", "PID[1]-3[2].4.2", "MSH", "MSH[1]-9.2", "OBX[4]-5.1", "ZTL[2]", "message", "PID-3"] {
            let erl: Erl = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(erl.to_string(), text);
        }
        for bad in ["", "obr[1]-2", "OBR[0]-2", "OBR[1]-", "OBR[1]-2.", "OBR[1]-2.1.2.3", "OBR[1", "OBR[1]2", "1BR[1]", "OBR[1]-2[x]", "OBR[1]-02"] {
            assert!(bad.parse::<Erl>().is_err(), "{bad}");
        }
    }
}
