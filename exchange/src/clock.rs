//! Wall-clock time as the exchange writes it: an HL7 DTM in local time with its UTC offset
//! (`20261205141502+0100`) for message headers (MSH-7) and order times (ORC-9), ISO 8601 in
//! UTC for the store. Local time is the system time zone as `jiff` finds it: `TZ` when set
//! (`TZ=Europe/Paris`), else `/etc/localtime`; an unknown `TZ` gives UTC (`+0000`), never a
//! failure. The IANA database is read from `/usr/share/zoneinfo`, with a copy compiled in as
//! a fallback for systems that lack it (`tzdb-bundle-always`). Callers that need reproducible
//! output inject their own clock (`Clock`) instead.

use std::sync::Arc;

use jiff::tz::{Offset, TimeZone};
use jiff::{civil, Timestamp};

/// A source of timestamps: `(HL7 DTM to the second with offset, ISO 8601 UTC with milliseconds)`.
pub type Clock = Arc<dyn Fn() -> Stamp + Send + Sync>;

/// One instant in the two forms the exchange writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// `YYYYMMDDHHMMSS+ZZZZ`, local time and its offset, for MSH-7 and ORC-9.
    pub dtm: String,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC, for the store.
    pub iso: String,
}

impl Stamp {
    /// The DTM without its offset, `YYYYMMDDHHMMSS`: for identifiers made from the time
    /// (default MSH-10 of `respond`, the run id of `load`), where a `+` is unwelcome.
    pub fn digits(&self) -> &str {
        self.dtm.get(..14).unwrap_or(&self.dtm)
    }
}

/// The system clock, in the system time zone.
pub fn system() -> Clock {
    Arc::new(now)
}

/// A clock that always says the same instant (tests, replays).
pub fn fixed(dtm: &str) -> Clock {
    let stamp = stamp_of_dtm(dtm);
    Arc::new(move || stamp.clone())
}

/// Now, in the system time zone.
pub fn now() -> Stamp {
    at(Timestamp::now(), &TimeZone::system())
}

/// The stamp of instant `t`, its DTM in time zone `tz`.
pub fn at(t: Timestamp, tz: &TimeZone) -> Stamp {
    let local = t.to_zoned_datetime(tz.clone());
    let utc = t.to_zoned_datetime(TimeZone::UTC);
    Stamp {
        dtm: local.strftime("%Y%m%d%H%M%S%z").to_string(),
        iso: format!("{}.{:03}Z", utc.strftime("%Y-%m-%dT%H:%M:%S"), t.subsec_millisecond()),
    }
}

/// A fixed DTM's stamp: the DTM as given; the ISO form is its instant in UTC when the DTM is
/// `YYYYMMDDHHMMSS` with an optional `+/-ZZZZ` offset (no offset: taken as UTC), else the
/// digits taken as they are (no validation: it is a test clock).
fn stamp_of_dtm(dtm: &str) -> Stamp {
    if let Some(t) = instant_of_dtm(dtm) {
        return Stamp { dtm: dtm.to_owned(), iso: at(t, &TimeZone::UTC).iso };
    }
    let digit = |r: std::ops::Range<usize>, default: &str| dtm.get(r).filter(|s| s.bytes().all(|b| b.is_ascii_digit())).unwrap_or(default).to_owned();
    let iso = format!("{}-{}-{}T{}:{}:{}.000Z", digit(0..4, "1970"), digit(4..6, "01"), digit(6..8, "01"), digit(8..10, "00"), digit(10..12, "00"), digit(12..14, "00"));
    Stamp { dtm: dtm.to_owned(), iso }
}

/// The instant of `YYYYMMDDHHMMSS[+/-ZZZZ]` (no offset: UTC), `None` for anything else.
fn instant_of_dtm(dtm: &str) -> Option<Timestamp> {
    let (digits, zone) = (dtm.get(..14)?, dtm.get(14..)?);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let local = civil::DateTime::strptime("%Y%m%d%H%M%S", digits).ok()?;
    let offset = match zone.as_bytes() {
        [] => Offset::UTC,
        [sign @ (b'+' | b'-'), h1, h2, m1, m2] if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) => {
            let hours = i32::from(h1 - b'0') * 10 + i32::from(h2 - b'0');
            let minutes = i32::from(m1 - b'0') * 10 + i32::from(m2 - b'0');
            let seconds = (hours * 60 + minutes) * 60;
            Offset::from_seconds(if *sign == b'-' { -seconds } else { seconds }).ok()?
        }
        _ => return None,
    };
    offset.to_timestamp(local).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(secs: i64, millis: i32) -> Timestamp {
        Timestamp::new(secs, millis * 1_000_000).unwrap()
    }

    #[test]
    fn known_instants_in_utc() {
        assert_eq!(at(instant(0, 0), &TimeZone::UTC).iso, "1970-01-01T00:00:00.000Z");
        let s = at(instant(1_767_708_259, 42), &TimeZone::UTC); // 2026-01-06 14:04:19 UTC
        assert_eq!(s.dtm, "20260106140419+0000");
        assert_eq!(s.digits(), "20260106140419");
        assert_eq!(s.iso, "2026-01-06T14:04:19.042Z");
        assert_eq!(at(instant(951_782_400, 0), &TimeZone::UTC).dtm, "20000229000000+0000");
    }

    #[test]
    fn local_time_carries_the_offset_of_the_zone_winter_and_summer() {
        let paris = jiff::tz::db().get("Europe/Paris").expect("Europe/Paris in the tz database (system or bundled)");
        // 2026-12-05 13:15:02 UTC: CET, +0100.
        let winter = at(instant(1_796_476_502, 0), &paris);
        assert_eq!(winter.dtm, "20261205141502+0100");
        assert_eq!(winter.iso, "2026-12-05T13:15:02.000Z");
        // 2026-07-01 10:00:00 UTC: CEST, +0200.
        assert_eq!(at(instant(1_782_900_000, 0), &paris).dtm, "20260701120000+0200");
        let new_york = jiff::tz::db().get("America/New_York").unwrap();
        assert_eq!(at(instant(1_796_476_502, 0), &new_york).dtm, "20261205081502-0500");
    }

    #[test]
    fn fixed_clocks() {
        assert_eq!((fixed("20260106134419"))().iso, "2026-01-06T13:44:19.000Z");
        let with_offset = fixed("20261205141502+0100")();
        assert_eq!((with_offset.dtm.as_str(), with_offset.iso.as_str()), ("20261205141502+0100", "2026-12-05T13:15:02.000Z"));
        assert_eq!(fixed("20261205001502-0530")().iso, "2026-12-05T05:45:02.000Z");
        // Not a DTM to the second: kept, its ISO form from whatever digits there are.
        assert_eq!(fixed("2026")().iso, "2026-01-01T00:00:00.000Z");
        assert_eq!(fixed("20261305141502")().iso, "2026-13-05T14:15:02.000Z");
        assert_eq!(fixed("20261205141502+01")().dtm, "20261205141502+01");
        assert_eq!(fixed("")().digits(), "");
    }
}
