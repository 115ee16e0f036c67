//! Load and faults: 5,000 messages over 8 connections while the server is killed (SIGKILL)
//! and restarted midway. The client re-sends what was not acknowledged; in the end every
//! message is stored exactly once and every AA the client received is a stored message.
//! Loud store failures: a store that cannot be written stops `serve` at start (exit 2), and
//! failures while serving are logged with their cause once per burst.

mod common;

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
// The load tool is the binary's own module (`telerad load`); the test compiles its source.
#[allow(dead_code)]
#[path = "../src/bin/telerad/load.rs"]
mod load;
use load::Messages;
use telerad_exchange::send::Target;

const MESSAGES: usize = 5_000;
const CONNECTIONS: usize = 8;

fn stored(path: &std::path::Path) -> i64 {
    let Ok(conn) = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else { return 0 };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn sigkill_midway_loses_nothing_and_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &[]);
    let addr = server.addr.clone();

    let config = hl7_mllp::Config { connect_timeout: Duration::from_secs(2), read_timeout: Duration::from_secs(20), ..hl7_mllp::Config::default() };
    // Enough attempts to outlast the restart (a few hundred milliseconds).
    let retry = hl7_mllp::RetryPolicy { attempts: 100, initial_backoff: Duration::from_millis(20), max_backoff: Duration::from_millis(200) };
    let target = Target { addr: addr.clone(), tls: None, config, retry };
    let template = std::fs::read(fixture("flux1_nw_minimal.hl7")).unwrap();
    let messages = Messages::new(&template, "F").unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let client = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let report = rt.block_on(load::run(&target, CONNECTIONS, MESSAGES, &messages));
        let _ = done_tx.send(());
        report
    });

    // Kill once a good part is stored, while the clients are still sending.
    let start = Instant::now();
    while stored(&store) < 1_500 {
        assert!(start.elapsed() < Duration::from_secs(120), "1,500 messages not stored within 120 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    let at_kill = stored(&store);
    assert!(at_kill < MESSAGES as i64, "the load was still running");
    std::thread::sleep(Duration::from_millis(200));
    let server = Server::start("platform", &addr, &store, &[]);

    done_rx.recv_timeout(Duration::from_secs(300)).expect("the load finishes within 300 s");
    let report = client.join().unwrap();
    assert!(server.stop().success());

    assert!(report.connections_opened > CONNECTIONS as u64, "connections were lost and reopened ({})", report.connections_opened);
    assert_eq!(report.outcomes.len(), MESSAGES);
    let not_aa: Vec<_> = report.outcomes.iter().filter(|(_, c)| c.as_deref() != Some("AA")).collect();
    assert!(not_aa.is_empty(), "every message acknowledged AA in the end: {:?}", &not_aa[..not_aa.len().min(5)]);

    let conn = rusqlite::Connection::open(&store).unwrap();
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT control_id, ack_code FROM messages WHERE direction = 'in'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), MESSAGES, "each message stored exactly once (stored at the kill: {at_kill})");
    let ids: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), MESSAGES);
    assert!(rows.iter().all(|(_, code)| code == "AA"));
    for (id, _) in &report.outcomes {
        assert!(ids.contains(id.as_str()), "{id} was acknowledged AA but is not stored");
    }
    let orders: i64 = conn.query_row("SELECT COUNT(*) FROM orders WHERE state = 'requested'", [], |r| r.get(0)).unwrap();
    assert_eq!(orders, MESSAGES as i64);
}

/// Issue 15, item 6: another process holds the store's write lock for longer than `serve`
/// waits for it (5 s): `serve` does not start, exit 2, with the reason.
#[test]
fn an_unwritable_store_stops_serve_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    // An existing store, so that opening it writes nothing.
    telerad_exchange::store::Store::open(&store, telerad_exchange::store::StoreOptions::default()).unwrap().close();
    let other = rusqlite::Connection::open(&store).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO meta VALUES ('held', 'by a test');").unwrap();
    let out = run_for(&["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", store.to_str().unwrap()], Duration::from_secs(60));
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "no address printed: it never listened: {}", stdout(&out));
    assert!(stderr(&out).contains("cannot be written: database is locked"), "{}", stderr(&out));
    // A store path that cannot be created: exit 2 too.
    let out = run_for(&["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", dir.path().join("no-such-dir/x.db").to_str().unwrap()], Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot create the file"), "{}", stderr(&out));
}

/// Issue 15, items 4 and 6: while serving, every message the store cannot keep is answered
/// AR and the failure is logged with its cause once for the burst; the recovery is logged with
/// the count. The files `serve` created are 0600.
#[test]
fn store_failures_are_logged_once_per_burst() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    let log = dir.path().join("serve.log");
    let server = Server::start_logged("platform", "127.0.0.1:0", &store, &[], &log);
    #[cfg(unix)]
    for name in ["platform.db", "platform.db-wal", "platform.db-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}: {mode:o}");
    }
    // Every insert fails, as on a full disk.
    let other = rusqlite::Connection::open(&store).unwrap();
    other.execute_batch("CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk quota exceeded (test)'); END;").unwrap();
    let files: Vec<String> = (1..=4)
        .map(|i| variant_with_id(dir.path(), &format!("m{i}.hl7"), "flux1_nw_minimal.hl7", &format!("LOUD-{i}"), &[("CMD-2026-000418", &format!("CMD-LOUD-{i}"))]).to_str().unwrap().to_owned())
        .collect();
    let mut args = vec!["send", "--to", server.addr.as_str()];
    args.extend(files[..3].iter().map(String::as_str));
    let out = run(&args);
    assert_eq!((out.status.code(), stdout(&out)), (Some(1), "LOUD-1\tAR\nLOUD-2\tAR\nLOUD-3\tAR\n".to_owned()), "{}", stderr(&out));
    other.execute_batch("DROP TRIGGER refuse").unwrap();
    let out = run(&["send", "--to", &server.addr, &files[3]]);
    assert_eq!(stdout(&out), "LOUD-4\tAA\n", "{}", stderr(&out));
    assert!(server.stop().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let store_lines: Vec<&str> = text.lines().filter(|l| l.contains(" telerad::store: ")).collect();
    assert_eq!(store_lines.len(), 2, "one line for the burst, one for the recovery: {text}");
    assert!(store_lines[0].contains(" ERROR telerad::store: store: a message was not stored: disk quota exceeded (test)"), "{text}");
    assert!(store_lines[1].ends_with(" WARN telerad::store: store: storing again after 3 failure(s) (last cause: disk quota exceeded (test))"), "{text}");
}
