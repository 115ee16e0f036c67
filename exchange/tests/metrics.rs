//! `telerad serve --metrics ADDR`: Prometheus metrics scraped during a short load and parsed
//! with a Prometheus text parser, and `/health`, which turns 503 when the store is read-only.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// `GET path` over HTTP/1.1: the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("an HTTP answer: {text}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// Every line is a comment or a sample the parser reads; the samples parsed.
fn scrape(addr: &str) -> prometheus_parse::Scrape {
    let (status, body) = get(addr, "/metrics");
    assert_eq!(status, 200, "{body}");
    for line in body.lines() {
        let info = prometheus_parse::LineInfo::parse(line);
        assert!(line.starts_with('#') || matches!(info, prometheus_parse::LineInfo::Sample { .. }), "not a sample: `{line}`");
    }
    assert!(body.ends_with("# EOF\n"), "{body}");
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `name` whose labels include `labels`.
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.samples.iter().find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))).map(|s| match &s.value {
        prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => *v,
        prometheus_parse::Value::Histogram(h) => h.last().map_or(0.0, |b| b.count),
        prometheus_parse::Value::Summary(_) => f64::NAN,
    })
}

/// Waits (at most 30 s) until `check` holds for a scrape, and returns that scrape.
fn until(addr: &str, what: &str, check: impl Fn(&prometheus_parse::Scrape) -> bool) -> prometheus_parse::Scrape {
    let start = Instant::now();
    loop {
        let s = scrape(addr);
        if check(&s) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{what}: {:?}", s.samples);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn metrics_during_a_load_and_health_with_a_read_only_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let mut child = Command::new(bin())
        .args(["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", store.to_str().unwrap(), "--metrics", "127.0.0.1:0", "--max-connections-per-peer", "8"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mllp = lines.next().unwrap().unwrap();
    let http = lines.next().unwrap().unwrap();
    assert!(http.starts_with("127.0.0.1:"), "the second line is the metrics address: {http}");
    let server = Server { child: Some(child), addr: mllp.clone(), store: store.clone() };

    assert_eq!(get(&http, "/health"), (200, "ok\n".to_owned()));
    // A short load, scraped while it runs (every scrape parses).
    let load = std::thread::spawn({
        let to = mllp.clone();
        move || run(&["load", "--to", &to, "--connections", "4", "--messages", "300"])
    });
    while !load.is_finished() {
        scrape(&http);
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = load.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&["send", "--to", &mllp, fixture("flux3_ok_ft.hl7").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));

    let s = until(&http, "the load's connections closed", |s| value(s, "telerad_open_connections", &[]) == Some(0.0));
    assert_eq!(value(&s, "telerad_messages_total", &[("direction", "in"), ("profile", "flux1_orm_o01_nw"), ("msa", "AA")]), Some(300.0), "{:?}", s.samples);
    assert_eq!(value(&s, "telerad_messages_total", &[("direction", "in"), ("profile", "flux3_oru_r01"), ("msa", "AE")]), Some(1.0));
    assert_eq!(value(&s, "telerad_ack_latency_seconds_count", &[]), Some(301.0));
    assert_eq!(value(&s, "telerad_ack_latency_seconds", &[]), Some(301.0), "the +Inf bucket of the histogram: {:?}", s.samples.iter().map(|x| &x.metric).collect::<Vec<_>>());
    let commits = value(&s, "telerad_store_commit_latency_seconds_count", &[]).unwrap();
    assert!((1.0..=301.0).contains(&commits), "group commit: {commits} transactions");
    assert!(value(&s, "telerad_store_size_bytes", &[]).unwrap() > 0.0);
    assert_eq!(value(&s, "telerad_refused_connections_total", &[("reason", "max_connections_per_peer")]), None, "none refused yet");

    // Nine idle connections from one address, eight allowed: one refused.
    let idle: Vec<TcpStream> = (0..9).map(|_| TcpStream::connect(&mllp).unwrap()).collect();
    until(&http, "one connection refused, eight open", |s| {
        value(s, "telerad_refused_connections_total", &[("reason", "max_connections_per_peer")]) == Some(1.0) && value(s, "telerad_open_connections", &[]) == Some(8.0)
    });
    drop(idle);

    // The store made read-only: 503 with the reason; writable again: 200.
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o444)).unwrap();
    let (status, body) = get(&http, "/health");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("is read-only"), "{body}");
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(get(&http, "/health"), (200, "ok\n".to_owned()));
    assert_eq!(get(&http, "/nope").0, 404);
    assert!(server.stop().success());
    assert!(TcpStream::connect(&http).is_err(), "the metrics listener stops with serve");
}

#[test]
fn metrics_elsewhere_than_loopback_needs_allow_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let out = run(&["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", store.to_str().unwrap(), "--metrics", "192.0.2.1:9464"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--metrics 192.0.2.1:9464 is not a loopback address"), "{}", stderr(&out));
    let out = run(&["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", store.to_str().unwrap(), "--metrics", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--metrics nowhere:"), "{}", stderr(&out));
}
