//! Load and faults: 5,000 messages over 8 connections while the server is killed (SIGKILL)
//! and restarted midway. The client re-sends what was not acknowledged; in the end every
//! message is stored exactly once and every AA the client received is a stored message.

mod common;

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use telerad_exchange::load::{self, Messages};
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
