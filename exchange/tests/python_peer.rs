//! An independent peer: python-hl7's `mllp_send` (PyPI package `hl7`, pinned in `.ci/run`)
//! sends fixtures to `telerad serve`. It strips the final CR of every message and speaks IPv4.
//! The tool's path comes from `TELERAD_MLLP_SEND`; without it the test fails under `CI=true`
//! and is skipped loudly elsewhere.

mod common;

use std::process::Command;

use common::*;

fn mllp_send() -> Option<String> {
    match std::env::var("TELERAD_MLLP_SEND") {
        Ok(p) if std::path::Path::new(&p).exists() => Some(p),
        other => {
            let why = format!("TELERAD_MLLP_SEND is {other:?}: python-hl7's mllp_send is not available (.ci/run installs it)");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}");
            }
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

#[test]
fn python_hl7_mllp_send_gets_our_acks() {
    let Some(tool) = mllp_send() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    let platform = Server::start("platform", "127.0.0.1:0", &store, &[]);
    let port = platform.addr.rsplit_once(':').unwrap().1.to_owned();
    // --loose reads plain files (one or more messages starting with MSH|^~\&|).
    let file = dir.path().join("messages.hl7");
    let mut content = std::fs::read(fixture("flux1_nw_full.hl7")).unwrap();
    content.extend(std::fs::read(fixture("flux1_nw_minimal.hl7")).unwrap());
    content.extend(std::fs::read(fixture("flux2_ca.hl7")).unwrap());
    content.extend(std::fs::read(fixture("flux3_ok_ft.hl7")).unwrap());
    std::fs::write(&file, content).unwrap();
    let out = Command::new("timeout").args(["20", &tool, "--loose", "--file", file.to_str().unwrap(), "--port", &port, "127.0.0.1"]).output().expect("timeout and mllp_send run");
    assert!(out.status.success(), "mllp_send: {:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    let msa: Vec<&str> = printed.lines().filter(|l| l.contains("MSA|")).collect();
    assert_eq!(
        msa.iter().map(|l| &l[l.find("MSA|").unwrap()..]).collect::<Vec<_>>(),
        ["MSA|AA|CHUXF1-20260106-0002", "MSA|AA|CHUXF1-20260106-0001", "MSA|AA|CHUXF2-20260106-0001", "MSA|AE|TLR-F3-20260106-0001"],
        "{printed}"
    );
    assert!(printed.contains("ERR||MSH^1^9^^1|200^Unsupported message type^HL70357|E|"), "{printed}");
    assert!(platform.stop().success());
    let list = orders(&store);
    let states: Vec<(&str, &str)> = list.iter().map(|o| (o["key"].as_str().unwrap(), o["state"].as_str().unwrap())).collect();
    assert_eq!(states, [("CMD-2026-000418^^1.2.250.1.748.12345678.12^ISO", "requested"), ("CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO", "cancelled")]);
}
