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

/// A platform store filled by `serve`: an NW (AA), an SR for an unknown order (AE), a flow 3
/// (AE, not the platform's), an NW from another sender for the same order (AE 205), an
/// invalid NW (AE 103), and the CA of the first (AA). Returns the files sent.
fn filled_store(dir: &std::path::Path) -> (std::path::PathBuf, Vec<std::path::PathBuf>) {
    let store = dir.join("p.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &[]);
    let files = vec![
        fixture("flux1_nw_full.hl7"),
        fixture("flux4_sr.hl7"),
        fixture("flux3_ok_ft.hl7"),
        variant(dir, "other_sender.hl7", "flux1_nw_full.hl7", &[("|RIS|CHU_X|", "|RIS|CHU_Y|")]),
        variant_with_id(dir, "invalid.hl7", "flux1_nw_full.hl7", "BAD-1", &[("|19880512|F|", "|19880512|Q|")]),
        fixture("flux2_ca.hl7"),
    ];
    let mut args = vec!["send", "--to", server.addr.as_str()];
    args.extend(files.iter().map(|f| path(f)));
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().map(|l| l.rsplit('\t').next().unwrap()).collect::<Vec<_>>(), ["AA", "AE", "AE", "AE", "AE", "AA"], "{}", stdout(&out));
    assert!(server.stop().success());
    (store, files)
}

fn listed(store: &std::path::Path, filter: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["messages", "--store", path(store), "--format", "json"];
    args.extend_from_slice(filter);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn ids(list: &[serde_json::Value]) -> Vec<i64> {
    list.iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

#[test]
fn messages_lists_and_filters_what_serve_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (store, files) = filled_store(dir.path());
    let all = listed(&store, &[]);
    assert_eq!(ids(&all), [1, 2, 3, 4, 5, 6]);
    let m = &all[0];
    assert_eq!((m["direction"].as_str(), m["sender_application"].as_str(), m["sender_facility"].as_str()), (Some("in"), Some("RIS"), Some("CHU_X")));
    assert_eq!((m["control_id"].as_str(), m["profile"].as_str(), m["msa"].as_str(), m["errors"].as_u64()), (Some(control_id_of(&files[0]).as_str()), Some("flux1_orm_o01_nw"), Some("AA"), Some(0)));
    assert_eq!(all[3]["errors"].as_u64(), Some(1), "the second NW: 205");
    assert_eq!(all[4]["errors"].as_u64(), Some(1), "the invalid NW: 103");

    assert_eq!(ids(&listed(&store, &["--msa", "AE"])), [2, 3, 4, 5]);
    assert_eq!(ids(&listed(&store, &["--msa", "aa"])), [1, 6]);
    assert!(listed(&store, &["--msa", "AR"]).is_empty());
    assert_eq!(ids(&listed(&store, &["--control-id", "BAD-1"])), [5]);
    assert_eq!(ids(&listed(&store, &["--sender", "CHU_Y"])), [4]);
    assert_eq!(ids(&listed(&store, &["--sender", "SI-TLR"])), [3], "MSH-3 of the flow 3");
    // The order: its NW and its CA (not the refused NW of another sender).
    assert_eq!(ids(&listed(&store, &["--order", ORDER])), [1, 6]);
    assert_eq!(ids(&listed(&store, &["--order", ORDER, "--msa", "AE"])), Vec::<i64>::new());
    // Times: since is inclusive, until exclusive.
    let third = all[2]["received_at"].as_str().unwrap().to_owned();
    assert!(ids(&listed(&store, &["--since", &third])).starts_with(&[3]));
    assert!(!ids(&listed(&store, &["--until", &third])).contains(&3));
    assert!(listed(&store, &["--since", "2999-01-01"]).is_empty());
    assert_eq!(listed(&store, &["--until", "2999-01-01T00:00:00+01:00"]).len(), 6);

    // Text: one tab-separated line per message.
    let out = run(&["messages", "--store", path(&store), "--msa", "AE"]);
    let text = stdout(&out);
    let first: Vec<&str> = text.lines().next().unwrap().split('\t').collect();
    assert_eq!(first[0], "2");
    assert_eq!(&first[2..], ["in", "RIS", "CHU_X", &control_id_of(&files[1]), "flux4_omi_o23", "AE", "1"], "{text}");

    // Bad input: located, exit 2.
    let out = run(&["messages", "--store", path(&store), "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since `yesterday` is neither a date (2026-12-06) nor a time"), "{}", stderr(&out));
    let out = run(&["messages", "--store", path(&store), "--msa", "XX"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["messages", "--store", path(&dir.path().join("none.db"))]);
    assert!(stderr(&out).contains("no store at"), "{}", stderr(&out));
}

#[test]
fn show_prints_the_message_its_findings_as_validate_prints_them_and_its_ack() {
    let dir = tempfile::tempdir().unwrap();
    let (store, files) = filled_store(dir.path());
    // The invalid NW: the same findings as `telerad validate` prints for its file.
    let out = run(&["show", "--store", path(&store), "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let validated = stdout(&run(&["validate", path(&files[4])]));
    let expected: Vec<&str> = validated.lines().filter(|l| l.starts_with("  ")).collect();
    assert!(expected.iter().any(|l| l.starts_with("  error 103 PID[1]-8")), "{validated}");
    let findings: Vec<&str> = text.split("\nfindings: ").nth(1).unwrap().lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert_eq!(findings, expected, "{text}");
    assert!(text.contains("\nfindings: invalid (1 error(s)) [flux1_orm_o01_nw]\n"), "{text}");
    let message = std::fs::read_to_string(&files[4]).unwrap().replace('\r', "\n");
    assert!(text.contains(&format!("\nmessage:\n{message}")), "{text}");
    let ack = text.split("\nack:\n").nth(1).unwrap();
    assert!(ack.starts_with("MSH|^~\\&|SI-TLR|PLAT-TLR|RIS|CHU_X|") && ack.contains("\nMSA|AE|BAD-1\n") && ack.contains("\nERR||PID^1^8|103^"), "{ack}");

    // The NW: valid, the order it created.
    let text = stdout(&run(&["show", "--store", path(&store), "1"]));
    assert!(text.contains(&format!("order {ORDER}\tNW: - -> requested\n")), "{text}");
    assert!(text.contains("\nfindings: valid [flux1_orm_o01_nw]\n"), "{text}");
    // JSON.
    let out = run(&["show", "--store", path(&store), "--format", "json", "2"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let errors: Vec<u64> = v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").map(|f| f["code"].as_u64().unwrap()).collect();
    assert_eq!((v["msa"].as_str(), errors), (Some("AE"), vec![204]), "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("MSH|") && v["ack"].as_str().unwrap().contains("MSA|AE|"), "{v}");
    // A row that is not there: exit 1; not a number: exit 2.
    let out = run(&["show", "--store", path(&store), "99"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no message 99 in"), "{}", stderr(&out));
    assert_eq!(run(&["show", "--store", path(&store), "x"]).status.code(), Some(2));
}

/// MSA-1 and the ACK recorded for row `id`.
fn recorded_ack(store: &std::path::Path, id: i64) -> (String, Vec<u8>) {
    let conn = rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row("SELECT ack_code, ack FROM messages WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
}

#[test]
fn resend_sends_the_same_bytes_and_records_the_new_ack() {
    let dir = tempfile::tempdir().unwrap();
    let ris = dir.path().join("ris.db");
    let training = Server::start("platform", "127.0.0.1:0", &dir.path().join("training.db"), &["--processing-id", "T"]);
    let platform = Server::start("platform", "127.0.0.1:0", &dir.path().join("p.db"), &[]);
    let nw = fixture("flux1_nw_full.hl7");
    let id = control_id_of(&nw);
    // Sent first to a receiver that takes only training messages: AE 202, no order on the RIS.
    let out = run(&["send", "--store", path(&ris), "--to", &training.addr, path(&nw)]);
    assert_eq!(stdout(&out), format!("{id}\tAE\n"), "{}", stderr(&out));
    assert_eq!(recorded_ack(&ris, 1).0, "AE");
    assert_eq!(store_state(&ris), (1, vec![]));

    // Sent again, from the store, to the right receiver: AA, recorded, the order applied.
    let out = run(&["resend", "--store", path(&ris), "1", "--to", &platform.addr]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), format!("{id}\tAA\n")), "{}", stderr(&out));
    let (code, first_ack) = recorded_ack(&ris, 1);
    assert_eq!(code, "AA");
    assert!(String::from_utf8_lossy(&first_ack).contains(&format!("\rMSA|AA|{id}\r")));
    assert_eq!(store_state(&ris), (1, vec![(ORDER.to_owned(), "requested".to_owned())]), "one row, the order applied");
    // The receiver got the same bytes.
    let conn = rusqlite::Connection::open_with_flags(dir.path().join("p.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let received: Vec<u8> = conn.query_row("SELECT raw FROM messages WHERE id = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(received, std::fs::read(&nw).unwrap());
    drop(conn);

    // Once more: the receiver's duplicate detection answers its stored ACK, byte for byte.
    let out = run(&["resend", "--store", path(&ris), "1", "--to", &platform.addr]);
    assert_eq!(stdout(&out), format!("{id}\tAA\n"), "{}", stderr(&out));
    assert_eq!(recorded_ack(&ris, 1), ("AA".to_owned(), first_ack));
    assert_eq!(store_state(&dir.path().join("p.db")).0, 1, "not stored twice by the receiver");

    // To the training receiver again, verbose: its stored AE, with its ERR, recorded.
    let out = run(&["resend", "--verbose", "--store", path(&ris), "1", "--to", &training.addr]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{id}\tAE\n  MSH^1^11\t202\t")), "{text}");
    assert_eq!(recorded_ack(&ris, 1).0, "AE");
    assert_eq!(store_state(&ris).1, vec![(ORDER.to_owned(), "requested".to_owned())], "the order is not undone");

    // Bad input.
    let out = run(&["resend", "--store", path(&ris), "9", "--to", &platform.addr]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no message 9 in"), "{}", stderr(&out));
    let received = dir.path().join("p.db");
    let out = run(&["resend", "--store", path(&received), "1", "--to", &platform.addr]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("message 1 was received, not sent, by this side"), "{}", stderr(&out));
    let out = run(&["resend", "--store", path(&ris), "1", "--to", "127.0.0.1:1", "--attempts", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("message 1 not sent"), "{}", stderr(&out));
    assert_eq!(recorded_ack(&ris, 1).0, "AE", "nothing recorded when nothing was sent");
}
