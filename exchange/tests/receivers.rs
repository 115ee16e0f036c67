//! Several `telerad serve` on one PostgreSQL database, as processes: one receiver killed with
//! SIGKILL in the middle of a load and restarted, and the database server restarted during a
//! load. Senders retry on the other receiver, as a sending system with two addresses does.
//!
//! Scaled down by default for the test run's time; `TELERAD_RECEIVERS_MESSAGES=20000` runs
//! the count.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;

fn messages(default: usize) -> usize {
    std::env::var("TELERAD_RECEIVERS_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Flow-1 NW number `i`: its own MSH-10 and order.
fn nw(template: &str, i: usize) -> Vec<u8> {
    let mut fields: Vec<String> = template.split('\r').next().unwrap().split('|').map(str::to_owned).collect();
    fields[9] = format!("RCV-{i:06}");
    let rest = &template[template.find('\r').unwrap()..];
    format!("{}{rest}", fields.join("|")).replace("CMD-2026-000418", &format!("CMD-R{i:06}")).into_bytes()
}

/// One message over MLLP on `stream`, its ACK's MSA-1.
fn exchange(stream: &mut TcpStream, msg: &[u8]) -> std::io::Result<String> {
    let mut frame = vec![0x0b];
    frame.extend_from_slice(msg);
    frame.extend_from_slice(&[0x1c, 0x0d]);
    stream.write_all(&frame)?;
    let mut ack = Vec::new();
    let mut buf = [0u8; 4096];
    while !ack.ends_with(&[0x1c, 0x0d]) {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before the ACK"));
        }
        ack.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&ack);
    let msa = text.split('\r').find(|s| s.starts_with("MSA|")).unwrap_or("MSA|?");
    Ok(msa.split('|').nth(1).unwrap_or("?").to_owned())
}

/// What the senders saw.
#[derive(Default)]
struct Seen {
    /// Messages answered AR (not stored) at least once.
    ar: usize,
    /// Sendings that got no answer (connection lost or refused).
    no_answer: usize,
    /// The final MSA-1 of each message (after retries).
    last: Vec<Option<String>>,
}

/// Sends `n` messages over `connections` connections spread over `addrs` (connection `c`
/// starts on `addrs[c % 2]`); a message that gets no answer or AR is sent again, on the other
/// receiver, until AA or AE or `deadline`. `progress` counts the messages done.
fn load(addrs: &[Arc<Mutex<String>>; 2], template: &str, n: usize, connections: usize, progress: &Arc<AtomicUsize>, deadline: Duration) -> Seen {
    let seen = Arc::new(Mutex::new(Seen { last: vec![None; n], ..Seen::default() }));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let (addrs, template, seen, next, progress) = (addrs.clone(), template.to_owned(), seen.clone(), next.clone(), progress.clone());
            std::thread::spawn(move || {
                let mut side = c % 2;
                let mut stream: Option<TcpStream> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let msg = nw(&template, i);
                    loop {
                        assert!(start.elapsed() < deadline, "message {i} still not acknowledged after {deadline:?}");
                        if stream.is_none() {
                            let addr = addrs[side].lock().unwrap().clone();
                            match TcpStream::connect(&addr) {
                                Ok(s) => {
                                    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                                    stream = Some(s);
                                }
                                Err(_) => {
                                    seen.lock().unwrap().no_answer += 1;
                                    side = 1 - side;
                                    std::thread::sleep(Duration::from_millis(20));
                                    continue;
                                }
                            }
                        }
                        let Some(s) = stream.as_mut() else { continue };
                        match exchange(s, &msg) {
                            Ok(code) if code == "AR" => {
                                seen.lock().unwrap().ar += 1;
                                std::thread::sleep(Duration::from_millis(50));
                            }
                            Ok(code) => {
                                seen.lock().unwrap().last[i] = Some(code);
                                break;
                            }
                            Err(_) => {
                                // Lost: the other receiver, on a new connection.
                                seen.lock().unwrap().no_answer += 1;
                                stream = None;
                                side = 1 - side;
                            }
                        }
                    }
                    progress.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap()
}

/// Every message acknowledged AA is stored exactly once, and its order has exactly one NW.
fn check_stored_once(url: &str, seen: &Seen) {
    let mut db = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let rows = db.query("SELECT control_id, count(*) FROM messages WHERE direction = 'in' GROUP BY control_id", &[]).unwrap();
    let stored: std::collections::HashMap<String, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for (i, last) in seen.last.iter().enumerate() {
        let id = format!("RCV-{i:06}");
        assert_eq!(last.as_deref(), Some("AA"), "message {id}: answered {last:?}");
        assert_eq!(stored.get(&id).copied(), Some(1), "message {id}, acknowledged AA, stored exactly once");
    }
    assert_eq!(stored.len(), seen.last.len(), "nothing stored that was not sent");
    let twice: i64 = db.query_one("SELECT count(*) FROM (SELECT order_key FROM order_history WHERE order_control = 'NW' GROUP BY order_key HAVING count(*) <> 1) t", &[]).unwrap().get(0);
    assert_eq!(twice, 0, "every order has exactly one NW transition");
    let orders: i64 = db.query_one("SELECT count(*) FROM orders", &[]).unwrap().get(0);
    assert_eq!(orders as usize, seen.last.len());
}

fn start(url: &str, listen: &str) -> Server {
    Server::start("platform", listen, Path::new(url), &[])
}

/// Two receivers on one database, 16 connections; receiver A is killed (SIGKILL) halfway and
/// restarted on its address a second later.
#[test]
fn two_receivers_one_killed_midway() {
    let Some(url) = common::postgres("receivers_kill") else { return };
    let n = messages(2_000);
    let template = String::from_utf8(std::fs::read(common::fixture("flux1_nw_minimal.hl7")).unwrap()).unwrap();
    let a = start(&url, "127.0.0.1:0");
    let b = start(&url, "127.0.0.1:0");
    let addrs = [Arc::new(Mutex::new(a.addr.clone())), Arc::new(Mutex::new(b.addr.clone()))];
    let progress = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (progress, url, addr) = (progress.clone(), url.clone(), a.addr.clone());
        std::thread::spawn(move || {
            while progress.load(Ordering::Relaxed) < n / 2 {
                std::thread::sleep(Duration::from_millis(5));
            }
            a.kill();
            std::thread::sleep(Duration::from_secs(1));
            start(&url, &addr)
        })
    };
    let seen = load(&addrs, &template, n, 16, &progress, Duration::from_secs(600));
    let restarted = killer.join().unwrap();
    eprintln!("two receivers, one killed: {n} messages, {} sendings without an answer, {} AR", seen.no_answer, seen.ar);
    assert!(seen.no_answer > 0, "the kill was seen by some sender");
    check_stored_once(&url, &seen);
    restarted.stop();
    b.stop();
}

/// The database server is restarted (a cluster of this test's own) during a load on two
/// receivers: messages during the outage get AR or no answer, none acknowledged AA is lost,
/// and the receivers go on storing without being restarted.
#[test]
fn the_database_restarts_during_a_load() {
    // The shared server's presence decides skip or fail as for the other PostgreSQL tests;
    // the restart itself is on a cluster of its own, not to disturb the tests beside it.
    if common::postgres("receivers_restart_gate").is_none() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/postgres.sh");
    let dir = tempfile::Builder::new().prefix("telerad-pg-restart").tempdir_in("/tmp").unwrap();
    let cluster = dir.path().join("cluster");
    let out = std::process::Command::new("bash").arg(&script).arg("start").arg(&cluster).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exports = String::from_utf8(out.stdout).unwrap();
    let url = exports.lines().find_map(|l| l.strip_prefix("export TELERAD_TEST_PG=")).unwrap().to_owned();
    struct Stop<'a>(&'a Path, &'a Path);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("bash").arg(self.0).arg("stop").arg(self.1).status();
        }
    }
    let _stop = Stop(&script, &cluster);
    let n = messages(1_500);
    let template = String::from_utf8(std::fs::read(common::fixture("flux1_nw_minimal.hl7")).unwrap()).unwrap();
    let a = start(&url, "127.0.0.1:0");
    let b = start(&url, "127.0.0.1:0");
    let addrs = [Arc::new(Mutex::new(a.addr.clone())), Arc::new(Mutex::new(b.addr.clone()))];
    let progress = Arc::new(AtomicUsize::new(0));
    let restarter = {
        let (progress, script, cluster) = (progress.clone(), script.clone(), cluster.clone());
        std::thread::spawn(move || {
            while progress.load(Ordering::Relaxed) < n / 3 {
                std::thread::sleep(Duration::from_millis(5));
            }
            let out = std::process::Command::new("bash").arg(&script).arg("restart").arg(&cluster).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            progress.load(Ordering::Relaxed)
        })
    };
    let seen = load(&addrs, &template, n, 8, &progress, Duration::from_secs(600));
    let at = restarter.join().unwrap();
    eprintln!("database restarted after {at} messages: {} AR, {} sendings without an answer", seen.ar, seen.no_answer);
    assert!(at < n, "the restart happened during the load");
    assert!(seen.ar + seen.no_answer > 0, "the outage was seen by the senders");
    check_stored_once(&url, &seen);
    a.stop();
    b.stop();
}
