//! Operating the exchange from the command line: `send --verbose`, `respond --dry-run`,
//! `messages`, `show`, `resend`, against real stores filled by `serve`.

mod common;

use common::*;

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn send_verbose_prints_the_err_segments_of_each_ack_not_aa() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("platform", "127.0.0.1:0", &dir.path().join("p.db"), &[]);
    let files = [fixture("flux1_nw_full.hl7"), fixture("flux4_sr.hl7"), fixture("flux3_ok_ft.hl7")];
    let ids: Vec<String> = files.iter().map(|f| control_id_of(f)).collect();
    let out = run(&["send", "--verbose", "--to", &server.addr, path(&files[0]), path(&files[1]), path(&files[2])]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(lines[0], format!("{}\tAA", ids[0]));
    assert_eq!(lines[1], format!("{}\tAE", ids[1]));
    // An SR for an order the platform does not know: 204 at ORC-2.
    let err: Vec<&str> = lines[2].split('\t').collect();
    assert_eq!((err[0], err[1]), ("  ORC^1^2", "204"), "{text}");
    assert!(err[2].starts_with("no order has this placer order number"), "ERR-8: {text}");
    assert_eq!(lines[3], format!("{}\tAE", ids[2]));
    let err: Vec<&str> = lines[4].split('\t').collect();
    assert_eq!((err[0], err[1]), ("  MSH^1^9^^1", "200"), "{text}");
    assert!(err[2].contains("is not received by the platform side"), "{text}");

    // Without --verbose, the lines alone; as JSON, the errors as objects.
    let out = run(&["send", "--to", &server.addr, path(&files[1])]);
    assert_eq!(stdout(&out), format!("{}\tAE\n", ids[1]));
    let out = run(&["send", "--format", "json", "--to", &server.addr, path(&files[0]), path(&files[1])]);
    let objects: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objects.len(), 2, "{}", stdout(&out));
    assert_eq!(objects[0], serde_json::json!({"control_id": ids[0], "msa": "AA", "errors": []}));
    assert_eq!(objects[1]["msa"], "AE");
    let e = &objects[1]["errors"][0];
    assert_eq!((e["location"].as_str(), e["code"].as_str(), e["severity"].as_str()), (Some("ORC^1^2"), Some("204"), Some("E")), "{e}");
    assert!(e["text"].as_str().unwrap().starts_with("no order has this placer order number"), "{e}");
    drop(server);
}

/// Messages stored, and the state of each order.
fn store_state(store: &std::path::Path) -> (i64, Vec<(String, String)>) {
    let conn = rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let count = conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)).unwrap();
    let orders = conn.prepare("SELECT key, state FROM orders ORDER BY key").unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    (count, orders)
}

const ORDER: &str = "CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO";

#[test]
fn respond_dry_run_prints_the_response_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &[]);
    let out = run(&["send", "--to", &server.addr, path(&fixture("flux1_nw_full.hl7"))]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(server.stop().success());
    let before = store_state(&store);
    assert_eq!(before, (1, vec![(ORDER.to_owned(), "requested".to_owned())]));
    let bytes_before = std::fs::read(&store).unwrap();

    let protocol = dir.path().join("protocol.txt");
    std::fs::write(&protocol, "IRM genou gauche").unwrap();
    let identity = identity();
    let args = ["respond", "--store", path(&store), "--order", ORDER, "--accept", "--protocol", path(&protocol), "--identity", path(&identity), "--now", "20260106171205", "--dry-run"];
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let response = stdout(&out);
    assert!(response.starts_with("MSH|^~\\&|SI-TLR|PLAT-TLR|RIS|CHU_X|20260106171205||ORU^R01^ORU_R01|TLR20260106171205-2|"), "{response}");
    assert!(response.contains("\rORC|OK|CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO|"), "{response}");
    assert_eq!(store_state(&store), before, "no message recorded, the order still requested");
    assert_eq!(std::fs::read(&store).unwrap(), bytes_before, "the store file is not written");
    // --dry-run and --to together: a usage error.
    let mut with_to = args.to_vec();
    with_to.extend(["--to", "127.0.0.1:1"]);
    assert_eq!(run(&with_to).status.code(), Some(2));
    // A dry run of an order that cannot be answered fails as the real one would.
    let out = run(&["respond", "--store", path(&store), "--order", "NOPE^^1.2.3^ISO", "--refuse", "--identity", path(&identity), "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // The same without --dry-run records it and moves the order.
    let out = run(&args[..args.len() - 1]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), response, "the same response as the dry run");
    assert_eq!(store_state(&store), (2, vec![(ORDER.to_owned(), "accepted".to_owned())]));
}
