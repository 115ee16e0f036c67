//! Format checks for HL7 v2.5.1 primitive datatypes and the French datatype constraints.
//!
//! Every check is a pure function over the decoded text of one element (escapes already
//! resolved), so the engine can call it wherever the static definitions say the datatype
//! applies. Messages quote the offending value and say what is expected, because they end
//! up in front of interface analysts, not Rust developers.
//!
//! Sources:
//! - HL7 v2.5.1 chapter 2A (DT, DTM, TM, NM, SI, HD, EI);
//! - "IHE ITI Appendix N.FR — Constraints on common HL7 v2.5 data types for ITI Integration
//!   Profiles in France", release 1.8.2 (cited as "IHE France data types 1.8.2, page N");
//! - "IHE PAM National Extension France" 2.11.2 (cited as "IHE PAM-FR 2.11.2, page N").

mod composites;
pub mod oids;

pub use composites::{cx, ei, hd, xcn, xon, ComponentProblem, CxParts, EiParts, HdParts, XcnParts, XonParts};

use std::fmt;

/// Why a value does not match its datatype, phrased for the person fixing the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub message: String,
}

impl FormatError {
    fn new(message: impl Into<String>) -> Self {
        FormatError { message: message.into() }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FormatError {}

/// Longest excerpt of the value echoed back; a multi-megabyte payload in an error message
/// helps nobody and can flood logs.
const QUOTE_LIMIT: usize = 60;

/// The value as it should appear in a message: quoted, control characters escaped (so a stray
/// CR is visible), and shortened on a character boundary when long.
pub(crate) fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{:?}… ({} characters)", &s[..cut], s.chars().count()),
        None => format!("{s:?}"),
    }
}

/// Names a character for a message; Debug form keeps control and invisible characters readable.
fn describe_char(c: char) -> String {
    if c == ' ' {
        "a space".to_string()
    } else {
        format!("{c:?}")
    }
}

/// The first character that is not an ASCII digit, with its 1-based character position.
fn first_non_digit(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()).map(|(i, c)| (i + 1, c))
}

/// Value of an all-ASCII-digit byte slice; callers have already checked the digits and keep
/// slices short (at most 4 bytes), so this cannot overflow.
fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
}

const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Calendar check of `YYYY[MM[DD]]` digits (length 4, 6 or 8, all digits).
fn check_calendar(digits: &[u8], original: &str, what: &str) -> Result<(), FormatError> {
    // The caller checked the length (4, 6 or 8 digits); `get` keeps a wrong call from panicking.
    let year = number(digits.get(..4).unwrap_or_default());
    if digits.len() >= 6 {
        let month = number(digits.get(4..6).unwrap_or_default());
        if !(1..=12).contains(&month) {
            return Err(FormatError::new(format!(
                "{} is not {what}: month {:02} does not exist (01 to 12)",
                quote(original),
                month
            )));
        }
        if digits.len() >= 8 {
            let day = number(digits.get(6..8).unwrap_or_default());
            let max = days_in_month(year, month);
            let name = MONTHS.get(month.saturating_sub(1) as usize).copied().unwrap_or_default();
            if day == 0 {
                return Err(FormatError::new(format!(
                    "{} is not {what}: day 00 does not exist (days start at 01)",
                    quote(original)
                )));
            }
            if day > max {
                let why = if month == 2 {
                    let leap = if is_leap(year) { "a leap year" } else { "not a leap year" };
                    format!("February {year} has {max} days ({year} is {leap})")
                } else {
                    format!("{name} has {max} days")
                };
                return Err(FormatError::new(format!("{} is not {what}: {why}", quote(original))));
            }
        }
    }
    Ok(())
}

/// Range checks of `HH[MM[SS]]` digits (length 2, 4 or 6, all digits).
fn check_clock(digits: &[u8], original: &str, what: &str) -> Result<(), FormatError> {
    let parts = [("hour", 23u32, "00 to 23"), ("minute", 59, "00 to 59"), ("second", 59, "00 to 59")];
    for (i, (name, max, range)) in parts.iter().enumerate() {
        let at = i * 2;
        if digits.len() < at + 2 {
            break;
        }
        let value = number(digits.get(at..at + 2).unwrap_or_default());
        if value > *max {
            return Err(FormatError::new(format!(
                "{} is not {what}: {name} {value:02} is out of range ({range})",
                quote(original)
            )));
        }
    }
    Ok(())
}

/// Checks `[.S[S[S[S]]]]`, given the text after the point. Fractions are only legal after
/// seconds, which the caller has verified.
fn check_fraction(fraction: &str, original: &str, what: &str) -> Result<(), FormatError> {
    if fraction.is_empty() {
        return Err(FormatError::new(format!(
            "{} is not {what}: the decimal point must be followed by 1 to 4 digits of fractional seconds",
            quote(original)
        )));
    }
    if let Some((_, c)) = first_non_digit(fraction) {
        return Err(FormatError::new(format!(
            "{} is not {what}: fractional seconds must be digits, found {}",
            quote(original),
            describe_char(c)
        )));
    }
    if fraction.len() > 4 {
        return Err(FormatError::new(format!(
            "{} is not {what}: at most 4 digits of fractional seconds are allowed, found {}",
            quote(original),
            fraction.len()
        )));
    }
    Ok(())
}

/// Checks a `+ZZZZ`/`-ZZZZ` offset. Real offsets run from UTC−12:00 to UTC+14:00; anything
/// outside is a typo (often a swapped sign or an hours/minutes mix-up) worth reporting.
fn check_offset(sign: char, zone: &str, original: &str, what: &str) -> Result<(), FormatError> {
    if zone.len() != 4 || first_non_digit(zone).is_some() {
        return Err(FormatError::new(format!(
            "{} is not {what}: the time zone offset after '{sign}' must be exactly 4 digits (HHMM), e.g. +0100",
            quote(original)
        )));
    }
    let bytes = zone.as_bytes();
    let hours = number(bytes.get(..2).unwrap_or_default());
    let minutes = number(bytes.get(2..).unwrap_or_default());
    if minutes > 59 {
        return Err(FormatError::new(format!(
            "{} is not {what}: time zone minutes {minutes:02} are out of range (00 to 59)",
            quote(original)
        )));
    }
    let total = hours * 60 + minutes;
    let (limit, bound) = if sign == '-' { (12 * 60, "-1200") } else { (14 * 60, "+1400") };
    if total > limit {
        return Err(FormatError::new(format!(
            "{} is not {what}: time zone offset {sign}{zone} is beyond {bound} (offsets run from -1200 to +1400)",
            quote(original)
        )));
    }
    Ok(())
}

/// Rejects characters and sign counts that cannot appear in DTM/TM before splitting, so an
/// ISO 8601 value such as `2025-01-01T12:00` is reported as such rather than as a bad offset.
fn check_time_charset(s: &str, what: &str, shape: &str) -> Result<(), FormatError> {
    if let Some((pos, c)) = s.chars().enumerate().find(|(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | '+' | '-'))) {
        let hint = if matches!(c, 'T' | ':' | ' ' | 'Z' | '/') { "; HL7 writes dates and times as digits without separators (ISO 8601 forms are not accepted)" } else { "" };
        return Err(FormatError::new(format!(
            "{} is not {what}: found {} at position {}; expected {shape}{hint}",
            quote(s),
            describe_char(c),
            pos + 1
        )));
    }
    if s.matches(['+', '-']).count() > 1 {
        return Err(FormatError::new(format!(
            "{} is not {what}: only one '+' or '-' is allowed, introducing the time zone offset; dates and times use no '-' separators ({shape})",
            quote(s)
        )));
    }
    Ok(())
}

/// Splits `value[+/-ZZZZ]` at the sign; the sign can only start the offset because neither
/// the date nor the time part contains one.
fn split_offset(s: &str) -> (&str, Option<(char, &str)>) {
    // The sign is ASCII, so splitting at it and after it is on character boundaries.
    match s.find(['+', '-']).and_then(|at| s.split_at_checked(at)) {
        Some((value, signed)) => {
            let sign = if signed.starts_with('+') { '+' } else { '-' };
            (value, Some((sign, signed.get(1..).unwrap_or_default())))
        }
        None => (s, None),
    }
}

/// HL7 DT: `YYYY[MM[DD]]`, checked against the Gregorian calendar (leap years included).
pub fn dt(s: &str) -> Result<(), FormatError> {
    const WHAT: &str = "a date";
    if s.is_empty() {
        return Err(FormatError::new("an empty value is not a date: expected YYYY, YYYYMM or YYYYMMDD"));
    }
    if let Some((pos, c)) = first_non_digit(s) {
        return Err(FormatError::new(format!(
            "{} is not a date: found {} at position {pos}; a date is digits only (YYYY[MM[DD]]), without separators or time",
            quote(s),
            describe_char(c)
        )));
    }
    if !matches!(s.len(), 4 | 6 | 8) {
        return Err(FormatError::new(format!(
            "{} is not a date: it has {} digits, expected 4 (YYYY), 6 (YYYYMM) or 8 (YYYYMMDD)",
            quote(s),
            s.len()
        )));
    }
    check_calendar(s.as_bytes(), s, WHAT)
}

/// HL7 DTM: `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`; also the first component of TS.
/// IHE France data types 1.8.2, page 17 (TS-1, with the ranges of each part).
pub fn dtm(s: &str) -> Result<(), FormatError> {
    const WHAT: &str = "a date/time (DTM)";
    if s.is_empty() {
        return Err(FormatError::new(
            "an empty value is not a date/time (DTM): expected at least the year, YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ]",
        ));
    }
    // Digits alone (most values: `20260106171205`) have no offset, no fraction and no other
    // character to report: the checks below on the digits are all there is to do.
    let digits_only = s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only {
        check_time_charset(s, WHAT, "YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]")?;
    }
    let (main, offset) = if digits_only { (s, None) } else { split_offset(s) };
    let (clock, fraction) = match main.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (main, None),
    };
    if let Some((pos, c)) = first_non_digit(clock) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: found {} at position {pos}; expected digits YYYY[MM[DD[HH[MM[SS]]]]] optionally followed by .S to .SSSS and +/-ZZZZ",
            quote(s),
            describe_char(c)
        )));
    }
    if !matches!(clock.len(), 4 | 6 | 8 | 10 | 12 | 14) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: the date/time part has {} digits, expected 4, 6, 8, 10, 12 or 14 (YYYY[MM[DD[HH[MM[SS]]]]])",
            quote(s),
            clock.len()
        )));
    }
    let bytes = clock.as_bytes();
    check_calendar(bytes.get(..bytes.len().min(8)).unwrap_or(bytes), s, WHAT)?;
    if let Some(time) = bytes.get(8..).filter(|t| !t.is_empty()) {
        check_clock(time, s, WHAT)?;
    }
    if let Some(f) = fraction {
        if clock.len() != 14 {
            return Err(FormatError::new(format!(
                "{} is not {WHAT}: fractional seconds are only allowed after the seconds (YYYYMMDDHHMMSS.S)",
                quote(s)
            )));
        }
        check_fraction(f, s, WHAT)?;
    }
    if let Some((sign, zone)) = offset {
        check_offset(sign, zone, s, WHAT)?;
    }
    Ok(())
}

/// HL7 TM: `HH[MM[SS[.S[S[S[S]]]]]][+/-ZZZZ]`.
pub fn tm(s: &str) -> Result<(), FormatError> {
    const WHAT: &str = "a time (TM)";
    if s.is_empty() {
        return Err(FormatError::new("an empty value is not a time (TM): expected HH[MM[SS[.SSSS]]][+/-ZZZZ]"));
    }
    check_time_charset(s, WHAT, "HH[MM[SS[.S[S[S[S]]]]]][+/-ZZZZ]")?;
    let (main, offset) = split_offset(s);
    let (clock, fraction) = match main.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (main, None),
    };
    if let Some((pos, c)) = first_non_digit(clock) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: found {} at position {pos}; expected digits HH[MM[SS]] without separators",
            quote(s),
            describe_char(c)
        )));
    }
    if !matches!(clock.len(), 2 | 4 | 6) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: the time part has {} digits, expected 2 (HH), 4 (HHMM) or 6 (HHMMSS)",
            quote(s),
            clock.len()
        )));
    }
    check_clock(clock.as_bytes(), s, WHAT)?;
    if let Some(f) = fraction {
        if clock.len() != 6 {
            return Err(FormatError::new(format!(
                "{} is not {WHAT}: fractional seconds are only allowed after the seconds (HHMMSS.S)",
                quote(s)
            )));
        }
        check_fraction(f, s, WHAT)?;
    }
    if let Some((sign, zone)) = offset {
        check_offset(sign, zone, s, WHAT)?;
    }
    Ok(())
}

/// HL7 NM: `[+|-]digits[.digits]` with at least one digit; no exponent, no spaces, no
/// thousands separator.
pub fn nm(s: &str) -> Result<(), FormatError> {
    if s.is_empty() {
        return Err(FormatError::new("an empty value is not a number (NM)"));
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut points = 0;
    let mut digits = 0;
    for (i, c) in body.chars().enumerate() {
        // Positions are reported in the original text, which may start with a sign.
        let pos = i + 1 + (s.len() - body.len());
        match c {
            '0'..='9' => digits += 1,
            '.' => {
                points += 1;
                if points > 1 {
                    return Err(FormatError::new(format!(
                        "{} is not a number (NM): it has more than one decimal point",
                        quote(s)
                    )));
                }
            }
            'e' | 'E' => {
                return Err(FormatError::new(format!(
                    "{} is not a number (NM): exponent notation ('{c}' at position {pos}) is not allowed; write the number out in full",
                    quote(s)
                )))
            }
            ',' => {
                return Err(FormatError::new(format!(
                    "{} is not a number (NM): found ',' at position {pos}; the decimal separator is '.' and thousands separators are not allowed",
                    quote(s)
                )))
            }
            '+' | '-' => {
                return Err(FormatError::new(format!(
                    "{} is not a number (NM): a sign is only allowed as the first character (found '{c}' at position {pos})",
                    quote(s)
                )))
            }
            other => {
                return Err(FormatError::new(format!(
                    "{} is not a number (NM): found {} at position {pos}; only an optional sign, digits and one '.' are allowed",
                    quote(s),
                    describe_char(other)
                )))
            }
        }
    }
    if digits == 0 {
        return Err(FormatError::new(format!("{} is not a number (NM): it has no digit", quote(s))));
    }
    Ok(())
}

/// HL7 SI (sequence ID): a non-negative integer, digits only.
pub fn si(s: &str) -> Result<(), FormatError> {
    if s.is_empty() {
        return Err(FormatError::new("an empty value is not a sequence ID (SI): expected a non-negative integer"));
    }
    if let Some((pos, c)) = first_non_digit(s) {
        let hint = if c == '-' { " (negative values are not allowed)" } else { "" };
        return Err(FormatError::new(format!(
            "{} is not a sequence ID (SI): found {} at position {pos}; expected digits only{hint}",
            quote(s),
            describe_char(c)
        )));
    }
    Ok(())
}

/// ISO/ITU-T object identifier in dotted form (the syntax HD-2 must follow when HD-3 is ISO).
/// Arcs are unbounded integers, so they are checked as text and never parsed into a fixed width.
pub fn oid(s: &str) -> Result<(), FormatError> {
    // An OID is checked in HD-2 of every typed identifier, and nearly all are well formed:
    // one pass over the bytes accepts those, and only a value it refuses is taken apart below
    // to say what is wrong.
    if well_formed_oid(s.as_bytes()) {
        return Ok(());
    }
    oid_problem(s)
}

/// Why `s` is not an OID (`Ok` when it is one: the reference [`well_formed_oid`] is tested
/// against).
fn oid_problem(s: &str) -> Result<(), FormatError> {
    const WHAT: &str = "an OID";
    if s.is_empty() {
        return Err(FormatError::new("an empty value is not an OID: expected numbers separated by dots, e.g. 1.2.250.1"));
    }
    if let Some((pos, c)) = s.chars().enumerate().find(|(_, c)| !(c.is_ascii_digit() || *c == '.')) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: found {} at position {}; an OID has only digits and dots",
            quote(s),
            describe_char(c),
            pos + 1
        )));
    }
    // Split lazily (the iterator is cloned per check): an OID is checked in HD-2 of every
    // identifier, and a vector per check was most of its cost.
    let arcs = s.split('.');
    if arcs.clone().any(str::is_empty) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: it has an empty arc (leading, trailing or doubled dot)",
            quote(s)
        )));
    }
    let mut two = arcs.clone();
    let (Some(first), Some(second)) = (two.next(), two.next()) else {
        return Err(FormatError::new(format!("{} is not {WHAT}: an OID has at least two arcs (e.g. 1.2)", quote(s))));
    };
    if let Some(bad) = arcs.clone().find(|a| a.len() > 1 && a.starts_with('0')) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: arc \"{bad}\" has a leading zero (only the arc 0 itself may start with 0)",
            quote(s)
        )));
    }
    if !matches!(first, "0" | "1" | "2") {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: the first arc must be 0 (ITU-T), 1 (ISO) or 2 (joint ISO/ITU-T), not {first}",
            quote(s),
        )));
    }
    // X.660: under roots 0 and 1 the second arc is limited to 0..39.
    if first != "2" && (second.len() > 2 || number(second.as_bytes()) > 39) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: under first arc {first} the second arc must be 0 to 39, not {second}",
            quote(s),
        )));
    }
    Ok(())
}

/// Whether `s` passes every check of [`oid`]: at least two arcs of digits, none empty, none
/// with a leading zero, the first 0, 1 or 2, and the second at most 39 under 0 and 1.
fn well_formed_oid(s: &[u8]) -> bool {
    let mut arcs = 0usize;
    let mut first = b'2';
    for arc in s.split(|&b| b == b'.') {
        let Some(&lead) = arc.first() else { return false };
        if !arc.iter().all(u8::is_ascii_digit) || (lead == b'0' && arc.len() > 1) {
            return false;
        }
        match arcs {
            0 if arc.len() != 1 || lead > b'2' => return false,
            0 => first = lead,
            1 if first != b'2' && (arc.len() > 2 || number(arc) > 39) => return false,
            _ => {}
        }
        arcs += 1;
    }
    arcs >= 2
}

/// The French NIR as carried in an INS or NH identifier: 13 characters plus the 2-digit key,
/// key = 97 − (NIR mod 97), with Corsican departments 2A/2B counted as 19/18.
///
/// The key is what INS matching relies on, so the expected key is spelled out when it is wrong.
/// IHE PAM-FR 2.11.2, page 36 ("véhiculer l'INS avec sa clé"); IHE France data types 1.8.2,
/// page 8 (NIR/INS-NIR examples, "identifiant avec sa clé").
///
/// Only the NIR form is checked: neither text describes the NIA (provisional number) structure
/// or its key, so INS-NIA values must not be passed here.
pub fn nir(s: &str) -> Result<(), FormatError> {
    const WHAT: &str = "a NIR with its key";
    let count = s.chars().count();
    if count != 15 {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: it has {count} characters, expected 15 (13-character NIR followed by the 2-digit key)",
            quote(s)
        )));
    }
    // 15 characters; any non-ASCII one is rejected below before byte slicing matters.
    if let Some((pos, c)) = s.chars().enumerate().find(|&(i, c)| !(c.is_ascii_digit() || (matches!(i, 5 | 6) && c.is_ascii_alphabetic()))) {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: found {} at position {}; a NIR is digits only, except the Corsican departments 2A and 2B at positions 6-7",
            quote(s),
            describe_char(c),
            pos + 1
        )));
    }
    let body = &s[..13];
    let department = &s[5..7];
    let substituted = match department {
        "2A" => Some("19"),
        "2B" => Some("18"),
        d if d.bytes().all(|b| b.is_ascii_digit()) => None,
        d if d.eq_ignore_ascii_case("2a") || d.eq_ignore_ascii_case("2b") => {
            return Err(FormatError::new(format!(
                "{} is not {WHAT}: the Corsican department must be written in upper case (2A or 2B), not {d}",
                quote(s)
            )))
        }
        d => {
            return Err(FormatError::new(format!(
                "{} is not {WHAT}: department \"{d}\" at positions 6-7 is neither two digits nor 2A/2B",
                quote(s)
            )))
        }
    };
    // The 13 digits, the department's two replaced by its number for Corsica; `body` is 13 ASCII
    // characters here (checked above), so the ranges are in bounds.
    let digits = body.as_bytes();
    let part = |r: std::ops::Range<usize>| digits.get(r).unwrap_or_default();
    let department_digits = substituted.map_or(part(5..7), str::as_bytes);
    let numeric = part(0..5).iter().chain(department_digits).chain(part(7..13));
    // 13 ASCII digits always fit in a u64 (< 10^13).
    let value = numeric.fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    let expected = 97 - value % 97;
    let given = number(s.as_bytes().get(13..15).unwrap_or_default());
    if u64::from(given) != expected {
        return Err(FormatError::new(format!(
            "{} is not {WHAT}: the key is {:02} but the NIR {body} gives key {expected:02} (97 − NIR mod 97{})",
            quote(s),
            given,
            if substituted.is_some() { ", with 2A counted as 19 and 2B as 18" } else { "" }
        )));
    }
    Ok(())
}

/// Strict standard Base64 (RFC 4648 alphabet with '+' and '/', '=' padding to a multiple of
/// 4, canonical final bits). Returns the decoded length so callers can check sizes.
pub fn base64(s: &str) -> Result<usize, FormatError> {
    // Decoded a block at a time into a buffer on the stack: an ED carries kilobytes (a
    // report, a viewer URL), and decoding it into a vector only to count its bytes was an
    // allocation per ED. A block is whole groups of four, and holds no '=' unless it is the
    // last, so it decodes as it does within the whole text; a refusal is explained by decoding
    // the whole ([`base64_decode`]), which reports it where the whole text has it.
    use base64::Engine as _;
    const BLOCK: usize = 1024;
    let mut out = [0u8; BLOCK / 4 * 3];
    let mut len = 0;
    let mut blocks = s.as_bytes().chunks(BLOCK).peekable();
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        match base64::engine::general_purpose::STANDARD.decode_slice(block, &mut out) {
            Ok(n) if last || !block.contains(&b'=') => len += n,
            _ => return base64_decode(s).map(|bytes| bytes.len()),
        }
    }
    Ok(len)
}

/// The bytes of strict standard Base64 text (the rules of [`base64()`]), for the checks that
/// read what an ED carries (the flow 4 viewer URL).
pub fn base64_decode(s: &str) -> Result<Vec<u8>, FormatError> {
    use base64::Engine as _;
    const WHAT: &str = "valid Base64";
    match base64::engine::general_purpose::STANDARD.decode(s.as_bytes()) {
        Ok(bytes) => Ok(bytes),
        Err(e) => {
            let why = match e {
                base64::DecodeError::InvalidByte(offset, byte) => {
                    let shown = char_at_byte(s, offset);
                    if byte == b'=' {
                        format!("padding '=' at position {} is misplaced; '=' may only end the text", offset + 1)
                    } else {
                        format!(
                            "{shown} at position {} is not in the Base64 alphabet (A-Z, a-z, 0-9, '+', '/', '=' padding){}",
                            offset + 1,
                            if byte == b'-' || byte == b'_' { "; '-' and '_' belong to the URL-safe variant, not standard Base64" } else { "" }
                        )
                    }
                }
                base64::DecodeError::InvalidLength(len) => format!(
                    "it has {len} characters, but standard Base64 comes in groups of 4 characters, the last group padded with '='"
                ),
                base64::DecodeError::InvalidLastSymbol(offset, _) => format!(
                    "the last symbol at position {} carries bits that do not belong to the data (not canonical Base64)",
                    offset + 1
                ),
                base64::DecodeError::InvalidPadding => {
                    "the '=' padding is missing or wrong; standard Base64 pads with '=' to a multiple of 4 characters".to_string()
                }
            };
            Err(FormatError::new(format!("{} is not {WHAT}: {why}", quote(s))))
        }
    }
}

/// Describes the character starting at (or containing) a byte offset reported by the decoder;
/// the offset is a byte index, which may fall inside a multi-byte character.
fn char_at_byte(s: &str, offset: usize) -> String {
    let start = (0..=offset.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    match s[start..].chars().next() {
        Some(c) => describe_char(c),
        None => "a character".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{base64, base64_decode, oid_problem, well_formed_oid};
    use proptest::prelude::*;

    /// Base64 of `bytes`, with `edit` (position, character) written over it: valid text, or
    /// text with one wrong, misplaced or missing character anywhere, blocks included.
    fn base64_text(bytes: &[u8], edit: Option<(usize, char)>) -> String {
        use base64::Engine as _;
        let mut text: Vec<char> = base64::engine::general_purpose::STANDARD.encode(bytes).chars().collect();
        if let Some((at, c)) = edit.filter(|_| !text.is_empty()) {
            let at = at % text.len();
            match c {
                '!' => {
                    text.remove(at);
                }
                _ => text[at] = c,
            }
        }
        text.into_iter().collect()
    }

    /// A block that would decode on its own, padding included, is still refused inside the
    /// text: '=' ends Base64, wherever the blocks fall.
    #[test]
    fn base64_padding_at_the_end_of_a_block_is_refused_inside_the_text() {
        let mut text: Vec<u8> = base64_text(&[7; 1000], None).into_bytes();
        text[1020..1024].copy_from_slice(b"AA==");
        let text = String::from_utf8(text).unwrap();
        assert!(base64_decode(&text).is_err());
        assert_eq!(base64(&text).map_err(|e| e.message), base64_decode(&text).map(|b| b.len()).map_err(|e| e.message));
        // The same four characters at the very end are the text's own padding.
        assert_eq!(base64(&text[1016..1024]), Ok(4));
    }

    proptest! {
        /// Checking Base64 a block at a time agrees with decoding the whole text, in what it
        /// accepts, the length it gives and how it refuses, on both sides of the block size.
        #[test]
        fn base64_by_blocks_agrees(bytes in proptest::collection::vec(any::<u8>(), 0..1600), edit in proptest::option::of((any::<usize>(), proptest::sample::select(vec!['=', '-', 'A', '!', 'é']))) ) {
            let text = base64_text(&bytes, edit);
            let whole = base64_decode(&text).map(|b| b.len());
            prop_assert_eq!(base64(&text), whole, "{}", text);
        }

        /// The one-pass acceptance of OIDs agrees with the check that explains refusals, on
        /// strings of digits and dots (and a stray letter) of every shape.
        #[test]
        fn oid_fast_path_agrees(s in "[0-9.a]{0,12}") {
            prop_assert_eq!(well_formed_oid(s.as_bytes()), oid_problem(&s).is_ok(), "{}", s);
        }
    }

    #[test]
    fn oid_examples() {
        for ok in ["1.2.250.1.213.1.4.10", "2.999", "0.39", "1.0"] {
            assert!(well_formed_oid(ok.as_bytes()) && oid_problem(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1", "1.", ".1", "1..2", "3.1", "1.40", "1.02", "01.2", "1.2a", "12.1"] {
            assert!(!well_formed_oid(bad.as_bytes()) && oid_problem(bad).is_err(), "{bad}");
        }
    }
}
