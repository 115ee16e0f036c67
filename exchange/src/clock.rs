//! Wall-clock time as the exchange writes it, without a date library: HL7 DTM for message
//! headers, ISO 8601 for the store. Callers that need reproducible output inject their own
//! clock (`Clock`) instead.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of timestamps: `(HL7 DTM to the second, ISO 8601 UTC with milliseconds)`.
pub type Clock = Arc<dyn Fn() -> Stamp + Send + Sync>;

/// One instant in the two forms the exchange writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// `YYYYMMDDHHMMSS`, for MSH-7 and ORC-9.
    pub dtm: String,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, for the store.
    pub iso: String,
}

/// The system clock, UTC.
pub fn system() -> Clock {
    Arc::new(now)
}

/// A clock that always says the same instant (tests, replays).
pub fn fixed(dtm: &str) -> Clock {
    let stamp = stamp_of_dtm(dtm);
    Arc::new(move || stamp.clone())
}

/// Now, UTC.
pub fn now() -> Stamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    at(d.as_secs(), d.subsec_millis())
}

/// The stamp of `secs` seconds and `millis` milliseconds after 1970-01-01T00:00:00Z.
pub fn at(secs: u64, millis: u32) -> Stamp {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil(days as i64);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    Stamp { dtm: format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}"), iso: format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z") }
}

/// A fixed DTM's ISO form, digits taken as they are (no validation: it is a test clock).
fn stamp_of_dtm(dtm: &str) -> Stamp {
    let digit = |r: std::ops::Range<usize>, default: &str| dtm.get(r).filter(|s| s.bytes().all(|b| b.is_ascii_digit())).unwrap_or(default).to_owned();
    let iso = format!("{}-{}-{}T{}:{}:{}.000Z", digit(0..4, "1970"), digit(4..6, "01"), digit(6..8, "01"), digit(8..10, "00"), digit(10..12, "00"), digit(12..14, "00"));
    Stamp { dtm: dtm.to_owned(), iso }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_instants() {
        assert_eq!(super::at(0, 0).iso, "1970-01-01T00:00:00.000Z");
        let s = super::at(1_767_708_259, 42); // 2026-01-06 14:04:19 UTC
        assert_eq!(s.dtm, "20260106140419");
        assert_eq!(s.iso, "2026-01-06T14:04:19.042Z");
        assert_eq!(super::at(951_782_400, 0).dtm, "20000229000000");
        assert_eq!((super::fixed("20260106134419"))().iso, "2026-01-06T13:44:19.000Z");
    }
}
