//! Times the exchange writes are local time with the UTC offset of the process's time zone
//! (`TZ`): MSH-7 and ORC-9 of `respond`, MSH-7 of the ACKs of `serve`.

mod common;

use common::*;
use jiff::Timestamp;

const ORDER: &str = "CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO";

/// The `+/-HHMM` offsets `zone` may have around now (two if it changes during the test).
fn offsets_now(zone: &str) -> Vec<String> {
    let tz = jiff::tz::db().get(zone).unwrap();
    let now = Timestamp::now();
    let later = now.checked_add(jiff::SignedDuration::from_secs(120)).unwrap();
    [now, later].iter().map(|t| t.to_zoned_datetime(tz.clone()).strftime("%z").to_string()).collect()
}

/// Checks `dtm` is `YYYYMMDDHHMMSS` + one of `offsets`, within two minutes of now.
fn assert_local_now(dtm: &str, offsets: &[String], what: &str) {
    assert_eq!(dtm.len(), 19, "{what}: `{dtm}`");
    let (digits, offset) = dtm.split_at(14);
    assert!(offsets.iter().any(|o| o == offset), "{what}: `{dtm}` has not the offset {offsets:?}");
    let local = jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", digits).unwrap();
    let hours: i32 = offset[1..3].parse().unwrap();
    let minutes: i32 = offset[3..5].parse().unwrap();
    let seconds = (hours * 60 + minutes) * 60 * if offset.starts_with('-') { -1 } else { 1 };
    let instant = jiff::tz::Offset::from_seconds(seconds).unwrap().to_timestamp(local).unwrap();
    let skew = Timestamp::now().duration_since(instant).as_secs().abs();
    assert!(skew < 120, "{what}: `{dtm}` is {skew} s away from now");
}

fn field(segment_line: &str, n: usize) -> String {
    segment_line.split('|').nth(n).unwrap_or("").to_owned()
}

fn segment<'a>(message: &'a str, id: &str) -> &'a str {
    message.split(['\r', '\n']).find(|l| l.starts_with(&format!("{id}|"))).unwrap_or_else(|| panic!("no {id} in {message:?}"))
}

#[test]
fn respond_and_serve_write_local_time_with_the_offset_of_tz() {
    let dir = tempfile::tempdir().unwrap();
    let (pstore, rstore) = (dir.path().join("platform.db"), dir.path().join("ris.db"));
    let paris = [("TZ", "Europe/Paris")];
    let new_york = [("TZ", "America/New_York")];
    let platform = Server::start_env("platform", "127.0.0.1:0", &pstore, &[], &paris);
    let ris = Server::start_env("ris", "127.0.0.1:0", &rstore, &[], &new_york);

    let nw = fixture("flux1_nw_full.hl7");
    let out = run(&["send", "--to", &platform.addr, "--store", rstore.to_str().unwrap(), nw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let protocol = dir.path().join("protocol.txt");
    std::fs::write(&protocol, "IRM genou gauche\n").unwrap();
    let identity = identity();
    let out = run_env(
        &["respond", "--store", pstore.to_str().unwrap(), "--order", ORDER, "--accept", "--protocol", protocol.to_str().unwrap(), "--identity", identity.to_str().unwrap(), "--to", &ris.addr],
        &paris,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The default MSH-10 takes the time's digits, not its offset.
    let line = stdout(&out);
    let (control_id, code) = line.trim_end().split_once('\t').unwrap();
    assert_eq!(code, "AA");
    let (digits, row) = control_id.strip_prefix("TLR").and_then(|rest| rest.split_once('-')).unwrap_or_else(|| panic!("{control_id}"));
    assert!(digits.len() == 14 && digits.bytes().all(|b| b.is_ascii_digit()) && row == "2", "{control_id}");

    assert!(platform.stop().success());
    assert!(ris.stop().success());

    let read = |store: &std::path::Path, sql: &str| -> Vec<(String, String)> {
        let c = rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut s = c.prepare(sql).unwrap();
        s.query_map([], |r| Ok((String::from_utf8_lossy(&r.get::<_, Vec<u8>>(0)?).into_owned(), String::from_utf8_lossy(&r.get::<_, Option<Vec<u8>>>(1)?.unwrap_or_default()).into_owned())))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let (paris_now, new_york_now) = (offsets_now("Europe/Paris"), offsets_now("America/New_York"));
    // The platform (TZ=Europe/Paris): its ACK of the request, and the response it sent.
    let platform_rows = read(&pstore, "SELECT raw, ack FROM messages ORDER BY id");
    assert_eq!(platform_rows.len(), 2);
    assert_local_now(&field(segment(&platform_rows[0].1, "MSH"), 6), &paris_now, "MSH-7 of the platform's ACK");
    let response = &platform_rows[1].0;
    assert_local_now(&field(segment(response, "MSH"), 6), &paris_now, "MSH-7 of respond");
    assert_local_now(&field(segment(response, "ORC"), 9), &paris_now, "ORC-9 of respond");
    // The RIS (TZ=America/New_York): its ACK of the response carries its own offset.
    let ris_rows = read(&rstore, "SELECT raw, ack FROM messages WHERE direction = 'in'");
    assert_eq!(ris_rows.len(), 1);
    assert_local_now(&field(segment(&ris_rows[0].1, "MSH"), 6), &new_york_now, "MSH-7 of the RIS's ACK");
    assert_ne!(paris_now, new_york_now);

    // And the ACKs with an offset pass the ACK profile.
    let ack = dir.path().join("ack.hl7");
    std::fs::write(&ack, &platform_rows[0].1).unwrap();
    let out = run(&["validate", "--original", nw.to_str().unwrap(), ack.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
}
