//! Issue 15, items 2 and 3, against a real `telerad serve` on loopback: the memory budget for
//! frames being read, the whole-frame deadline, the per-address connection limit and the
//! accept loop under descriptor exhaustion. Every client is bounded (socket timeouts, joined
//! threads) and stops by itself.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

/// A line of `/proc/<pid>/status`, in kB (`VmRSS`, `VmHWM`).
fn status_kb(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's /proc status");
    let line = text.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap_or_else(|| panic!("{field} in {text}"));
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{line}"))
}

/// Reads whatever arrives until the peer closes, `limit` passes, or an error; returns it and
/// whether the peer closed.
fn read_until_closed(mut stream: &TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

/// A message file framed for MLLP.
fn framed(path: &Path) -> Vec<u8> {
    let mut frame = vec![0x0B];
    frame.extend_from_slice(&std::fs::read(path).unwrap());
    frame.extend_from_slice(b"\x1C\x0D");
    frame
}

/// Sends one framed message on `stream` and returns the answer's payload text.
fn exchange(stream: &mut TcpStream, message: &Path) -> String {
    stream.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(&framed(message)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\x1C\x0D") {
        let n = stream.read(&mut byte).expect("the answer within 20 s");
        assert_eq!(n, 1, "closed before the end of the answer: {}", String::from_utf8_lossy(&answer));
        answer.push(byte[0]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

const STALLERS: usize = 16;
const STALLED_FRAME: usize = 60_000_000;

/// Sixteen connections each send 60 MB of one frame and stall before its end (each at most
/// 120 s, the default frame deadline, which they never reach). The frame limit
/// is raised to 64 MiB (the former default) so that only the budget (128 MiB by default) stops
/// them: without it the server would hold 960 MB.
#[test]
fn sixteen_stalled_60_mb_frames_stay_within_the_budget_and_a_17th_sender_gets_its_aa() {
    let answers = stalled_frames(&["--max-message-bytes", "67108864"], "MLLP frame refused at");
    // At most two 60 MB frames fit in 128 MiB: the others were answered AE, refused.
    let refused = answers.iter().filter(|a| a.contains("MSA|AE|") && a.contains("it was not read")).count();
    assert!(refused >= STALLERS - 2, "{refused} of {STALLERS} stalled frames answered AE: {answers:?}");
}

/// The same with the defaults: every 60 MB frame passes the 16 MiB frame limit and is refused,
/// by the limit or, while several are near it, by the budget.
#[test]
fn with_the_defaults_sixteen_stalled_60_mb_frames_are_all_refused() {
    let answers = stalled_frames(&[], "MLLP frame larger than the limit of 16777216 bytes");
    let refused = answers.iter().filter(|a| a.contains("MSA|AE|") && a.contains("it was not read")).count();
    assert_eq!(refused, STALLERS, "{answers:?}");
}

/// Runs the stallers against a `serve` with `extra` arguments, checks the resident memory
/// and the 17th sender's AA, and that `logged` is in the log; returns what each staller was
/// answered.
fn stalled_frames(extra: &[&str], logged: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let server = Server::start_logged("platform", "127.0.0.1:0", &dir.path().join("p.db"), extra, &log);
    let pid = server.child.as_ref().unwrap().id();
    let before_kb = status_kb(pid, "VmRSS");
    let addr: SocketAddr = server.addr.parse().unwrap();

    let (written_tx, written_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Arc::new(std::sync::Mutex::new(release_rx));
    let stallers: Vec<_> = (0..STALLERS)
        .map(|_| {
            let written_tx = written_tx.clone();
            let release_rx = std::sync::Arc::clone(&release_rx);
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream.set_write_timeout(Some(Duration::from_secs(120))).unwrap();
                let chunk = vec![b'A'; 1 << 20];
                let mut sent = 0;
                let mut wrote = stream.write_all(&[0x0B]);
                while wrote.is_ok() && sent < STALLED_FRAME {
                    let n = chunk.len().min(STALLED_FRAME - sent);
                    wrote = stream.write_all(&chunk[..n]);
                    sent += n;
                }
                let _ = written_tx.send(wrote.is_ok());
                // Stalled: no end block. Whatever the server answered meanwhile is read now.
                let (answer, _) = read_until_closed(&stream, Duration::from_secs(2));
                // Held open until the 17th sender has its answer.
                let _ = release_rx.lock().unwrap().recv_timeout(Duration::from_secs(300));
                String::from_utf8_lossy(&answer).into_owned()
            })
        })
        .collect();
    drop(written_tx);
    let start = Instant::now();
    let mut all_written = 0;
    for _ in 0..STALLERS {
        let ok = written_rx.recv_timeout(Duration::from_secs(300)).expect("every staller writes its 60 MB within 300 s");
        all_written += usize::from(ok);
    }
    eprintln!("16 x 60 MB written in {:?}", start.elapsed());
    assert_eq!(all_written, STALLERS, "the server read (or discarded) every byte: no writer was stuck");

    let out = run(&["send", "--to", &server.addr, fixture("flux1_nw_minimal.hl7").to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{}\tAA\n", control_id_of(&fixture("flux1_nw_minimal.hl7"))), "{}", stderr(&out));

    let (rss_kb, peak_kb) = (status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM"));
    eprintln!("serve {extra:?}: resident memory {before_kb} kB at start, {rss_kb} kB now, {peak_kb} kB at the peak");
    for _ in 0..STALLERS {
        let _ = release_tx.send(());
    }
    let answers: Vec<String> = stallers.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(peak_kb < 256 * 1024, "peak resident memory {peak_kb} kB, over 256 MB");
    assert!(server.stop().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(logged), "{text}");
    answers
}

/// A sender trickling a byte a second keeps each read within the 30 s read timeout, but the
/// whole frame must come within `--frame-timeout` (3 s here).
#[test]
fn a_sender_trickling_a_byte_a_second_is_cut_at_the_frame_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("platform", "127.0.0.1:0", &dir.path().join("p.db"), &["--frame-timeout", "3"]);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    stream.write_all(b"\x0BMSH|^~\\&|").unwrap();
    let mut answer = Vec::new();
    let mut closed = false;
    // Bounded: 30 bytes, one a second, at most.
    for _ in 0..30 {
        let (got, gone) = read_until_closed(&stream, Duration::from_secs(1));
        answer.extend_from_slice(&got);
        if gone || stream.write_all(b"X").is_err() {
            closed = true;
            break;
        }
    }
    let elapsed = start.elapsed();
    eprintln!("trickling sender cut after {elapsed:?} (frame deadline 3 s)");
    let answer = String::from_utf8_lossy(&answer);
    assert!(closed, "still open after 30 s: {answer}");
    assert!(elapsed >= Duration::from_millis(2500) && elapsed < Duration::from_secs(20), "closed after {elapsed:?}, the deadline is 3 s");
    assert!(answer.contains("MSA|AE|") && answer.contains("cut short"), "{answer}");
    assert!(server.stop().success());
}

/// 200 idle sockets from 127.0.0.1 against `--max-connections 50`: with 10 per address, they
/// take 10 slots and the others are closed at once; a sender from 127.0.0.2 gets its AA.
#[test]
fn two_hundred_idle_sockets_from_one_address_do_not_block_another_address() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let server = Server::start_logged("platform", "127.0.0.1:0", &dir.path().join("p.db"), &["--max-connections", "50", "--max-connections-per-peer", "10"], &log);
    let addr: SocketAddr = server.addr.parse().unwrap();
    let idle: Vec<TcpStream> = (0..200).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // The ones over the address's limit are closed at once (each refusal is logged).
    let refusal = "connection refused event=\"refused\" peer=127.0.0.1:";
    let start = Instant::now();
    while std::fs::read_to_string(&log).unwrap().matches(refusal).count() < 190 {
        assert!(start.elapsed() < Duration::from_secs(30), "190 refusals within 30 s: {}", std::fs::read_to_string(&log).unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    let closed = idle.iter().filter(|s| !is_open(s)).count();
    assert_eq!(closed, 190, "the 190 idle sockets over the address's limit are closed at once");

    let socket = tokio_socket_from("127.0.0.2", addr);
    let mut other = socket;
    let answer = exchange(&mut other, &fixture("flux1_nw_minimal.hl7"));
    assert!(answer.contains("MSA|AA|"), "{answer}");
    // The idle ones from 127.0.0.1 that were served still are.
    let open = idle.iter().filter(|s| is_open(s)).count();
    assert_eq!(open, 10, "the address's 10 slots stay served");
    drop(idle);
    assert!(server.stop().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches(refusal).count(), 190, "{text}");
    assert_eq!(text.matches("reason=10 connections already open from 127.0.0.1").count(), 190, "{text}");
}

/// True when nothing arrives on `stream` within 300 ms and it is not closed.
fn is_open(mut stream: &TcpStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
}

/// A client socket bound to `local` (any port), connected to `addr`.
fn tokio_socket_from(local: &str, addr: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), socket.connect(addr)).await.expect("connected within 10 s").unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Under an open-file limit of 64, 100 connections exhaust the descriptors: `accept` fails
/// with EMFILE again and again. The failures are logged once per 10 s (not once per attempt),
/// and once descriptors are free again the server serves.
#[test]
fn accept_failures_are_backed_off_and_logged_once_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let log = dir.path().join("serve.log");
    let mut child = Command::new("bash")
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\"", bin(), "serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", store.to_str().unwrap(), "--max-connections-per-peer", "1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr: SocketAddr = line.trim().parse().unwrap_or_else(|_| panic!("the bound address: `{line}`"));
    let server = Server { child: Some(child), addr: addr.to_string(), store };
    let held: Vec<TcpStream> = (0..100).filter_map(|_| TcpStream::connect(addr).ok()).collect();
    assert!(held.len() >= 80, "the connections queue in the backlog: {}", held.len());
    std::thread::sleep(Duration::from_secs(3));
    let text = std::fs::read_to_string(&log).unwrap();
    let failures = text.lines().filter(|l| l.contains("accept failed")).count();
    assert!((1..=2).contains(&failures), "EMFILE logged {failures} times in 3 s:\n{text}");
    assert!(text.contains("Too many open files"), "{text}");
    drop(held);
    let out = run(&["send", "--to", &server.addr, fixture("flux1_nw_minimal.hl7").to_str().unwrap()]);
    assert!(stdout(&out).ends_with("\tAA\n"), "{}\n{}", stderr(&out), std::fs::read_to_string(&log).unwrap());
    assert!(server.stop().success());
}

/// `--handshake-timeout`: a socket that never starts its TLS handshake is closed after it (1 s
/// here, not the 300 s idle timeout), and a TLS sender is served after it.
#[test]
fn a_tls_handshake_that_never_starts_is_closed_at_the_handshake_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(d);
    pki.issue("server", &["localhost", "127.0.0.1"], true);
    let p = |n: &str| pki.path(n);
    let log = d.join("serve.log");
    let server = Server::start_logged("platform", "127.0.0.1:0", &d.join("p.db"), &["--tls-cert", &p("server.pem"), "--tls-key", &p("server.key"), "--handshake-timeout", "1", "--verbose"], &log);
    let mute = TcpStream::connect(&server.addr).unwrap();
    let start = Instant::now();
    let (said, closed) = read_until_closed(&mute, Duration::from_secs(20));
    let elapsed = start.elapsed();
    assert!(closed && said.is_empty(), "closed without a word: {said:?}");
    assert!(elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(15), "closed after {elapsed:?}, the handshake timeout is 1 s");
    let nw = fixture("flux1_nw_minimal.hl7");
    let out = run(&["send", "--to", &server.addr, "--tls-ca", &p("ca.pem"), nw.to_str().unwrap()]);
    assert!(stdout(&out).ends_with("\tAA\n"), "{}", stderr(&out));
    assert!(server.stop().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().any(|l| l.contains("connection closed") && l.ends_with("reason=TLS handshake timeout")), "{text}");
}
