//! End to end with the built binary: a platform and a RIS on loopback, flow 1 sent, answered
//! with `respond --accept`, flow 4 sent, the orders on both sides; framing problems; the
//! plaintext guard; SIGTERM.

mod common;

use std::time::Duration;

use common::*;

const ORDER: &str = "CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO";

#[test]
fn request_response_complement_between_a_platform_and_a_ris() {
    let dir = tempfile::tempdir().unwrap();
    let (pstore, rstore) = (dir.path().join("platform.db"), dir.path().join("ris.db"));
    let platform = Server::start("platform", "127.0.0.1:0", &pstore, &["--application", "SI-TLR", "--facility", "PLAT-TLR"]);
    let ris = Server::start("ris", "127.0.0.1:0", &rstore, &["--application", "RIS", "--facility", "CHU_X"]);
    let (p, r) = (platform.addr.clone(), ris.addr.clone());
    let rs = rstore.to_str().unwrap();

    // Flow 1, RIS → platform, recorded on the RIS side.
    let nw = fixture("flux1_nw_full.hl7");
    let out = run(&["send", "--to", &p, "--store", rs, nw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "CHUXF1-20260106-0002\tAA\n");
    // Sent again: the platform recognises it and answers the same; nothing changes.
    let again = run(&["send", "--to", &p, "--store", rs, nw.to_str().unwrap()]);
    assert_eq!(stdout(&again), "CHUXF1-20260106-0002\tAA\n");

    // Flow 3, platform → RIS: accepted with a text protocol.
    let protocol = dir.path().join("protocol.txt");
    std::fs::write(&protocol, "IRM genou gauche\nSagittale DP FS, coronale DP FS\n").unwrap();
    let ps = pstore.to_str().unwrap();
    let identity = identity();
    let out = run(&["respond", "--store", ps, "--order", ORDER, "--accept", "--protocol", protocol.to_str().unwrap(), "--identity", identity.to_str().unwrap(), "--control-id", "TLR-OK-1", "--to", &r]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "TLR-OK-1\tAA\n");
    // A second answer to the same order is refused locally (exit 1), before anything is sent.
    let out = run(&["respond", "--store", ps, "--order", ORDER, "--refuse", "--identity", identity.to_str().unwrap(), "--to", &r]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is accepted: only a requested order can be answered"), "{}", stderr(&out));

    // Flow 4, RIS → platform, for the same order.
    let sr = variant(dir.path(), "sr.hl7", "flux4_sr.hl7", &[("CMD-2026-000470", "CMD-2026-000421")]);
    let out = run(&["send", "--to", &p, "--store", rs, sr.to_str().unwrap()]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), "CHUXF4-20260112-0001\tAA\n".to_owned()), "{}", stderr(&out));
    // A CA after the SR is refused by the platform: AE, exit 1; the RIS keeps its order.
    let ca = fixture("flux2_ca.hl7");
    let out = run(&["send", "--to", &p, "--store", rs, ca.to_str().unwrap()]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(1), "CHUXF2-20260106-0001\tAE\n".to_owned()), "{}", stderr(&out));

    // Both sides agree on the order.
    for (store, directions) in [(&pstore, ["in", "out", "in"]), (&rstore, ["out", "in", "out"])] {
        let list = orders(store);
        assert_eq!(list.len(), 1, "{list:?}");
        let o = &list[0];
        assert_eq!(o["key"], ORDER);
        assert_eq!(o["state"], "accepted");
        let history = o["history"].as_array().unwrap();
        let steps: Vec<(String, String, String)> = history
            .iter()
            .map(|h| (h["order_control"].as_str().unwrap().to_owned(), h["direction"].as_str().unwrap().to_owned(), h["to"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            steps,
            [("NW".into(), directions[0].into(), "requested".into()), ("OK".into(), directions[1].into(), "accepted".into()), ("SR".into(), directions[2].into(), "accepted".into())],
            "{}",
            store.display()
        );
        assert_eq!(history[1]["message_control_id"], "TLR-OK-1");
        assert_eq!(o["exams"], serde_json::json!([{"accession": "ACN-2026-0470-01^^1.2.250.1.748.12345678.20^ISO", "study_instance_uid": "1.2.250.1.213.4.5.2.1.470001"}]));
    }
    // The text form too.
    let out = run(&["orders", "--store", ps]);
    assert!(stdout(&out).starts_with(&format!("{ORDER}\taccepted\n")), "{}", stdout(&out));

    assert!(platform.stop().success(), "SIGTERM: exit 0");
    assert!(ris.stop().success());
}

#[test]
fn a_refusal_printed_without_to() {
    let dir = tempfile::tempdir().unwrap();
    let pstore = dir.path().join("platform.db");
    let platform = Server::start("platform", "127.0.0.1:0", &pstore, &[]);
    let nw = fixture("flux1_nw_escapes.hl7");
    assert_eq!(run(&["send", "--to", &platform.addr, nw.to_str().unwrap()]).status.code(), Some(0));
    let out = run(&["respond", "--store", pstore.to_str().unwrap(), "--order", "CMD-2026-000433^^1.2.250.1.748.12345678.12^ISO", "--refuse", "--reason", "Contre-indication", "--identity", identity().to_str().unwrap(), "--now", "20260107094512"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let oru = out.stdout;
    assert!(String::from_utf8_lossy(&oru).contains("\rORC|OC|CMD-2026-000433^^1.2.250.1.748.12345678.12^ISO|||||||20260107094512|"));
    let file = dir.path().join("oru.hl7");
    std::fs::write(&file, &oru).unwrap();
    let v = run(&["validate", "--profile", "flux3_oru_r01", file.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert_eq!(orders(&pstore)[0]["state"], "refused");
    // An order the store does not know: exit 1, nothing printed.
    let out = run(&["respond", "--store", pstore.to_str().unwrap(), "--order", "CMD-UNKNOWN^^1.2.3^ISO", "--refuse", "--identity", identity().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no order `CMD-UNKNOWN^^1.2.3^ISO`"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(platform.stop().success());
    // A store that does not exist: exit 2.
    let out = run(&["orders", "--store", dir.path().join("missing.db").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no store at"), "{}", stderr(&out));
}

/// Messages this side does not take, and messages that do not parse, are stored and answered
/// AE with a located ERR; a batch file is split into its messages.
#[test]
fn unsupported_unparsable_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let rstore = dir.path().join("ris.db");
    let ris = Server::start("ris", "127.0.0.1:0", &rstore, &[]);
    // A request sent to the RIS: 200 at MSH-9.1. The OK for an order the RIS never sent: 204.
    let batch = dir.path().join("batch.hl7");
    let mut content = b"FHS|^~\\&|TEST\rBHS|^~\\&|TEST\r".to_vec();
    content.extend(std::fs::read(fixture("flux1_nw_minimal.hl7")).unwrap());
    content.extend(std::fs::read(fixture("flux3_ok_ed.hl7")).unwrap());
    content.extend(b"BTS|2\rFTS|1\r");
    std::fs::write(&batch, content).unwrap();
    let out = run(&["send", "--to", &ris.addr, batch.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "CHUXF1-20260106-0001\tAE\nTLR-F3-20260106-0002\tAE\n");
    let garbage = dir.path().join("garbage.hl7");
    std::fs::write(&garbage, "MSH|^~\\&|A|B|C|D|1||ORU^R01^ORU_R01|G1|P|2.5.1\rPID|||1\\XZZ\\\r").unwrap();
    let out = run(&["send", "--to", &ris.addr, garbage.to_str().unwrap()]);
    assert_eq!(stdout(&out), "G1\tAE\n");
    assert!(ris.stop().success());
    let conn = rusqlite::Connection::open(&rstore).unwrap();
    let rows: Vec<(String, String, String)> = conn
        .prepare("SELECT control_id, ack_code, CAST(ack AS TEXT) FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].2.contains("ERR||MSH^1^9^^1|200^Unsupported message type^HL70357|E|"), "{}", rows[0].2);
    assert!(rows[1].2.contains("ERR||ORC^1^2|204^Unknown key identifier^HL70357|E|"), "{}", rows[1].2);
    assert!(rows[2].2.contains("invalid escape"), "{}", rows[2].2);
    assert_eq!(rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["AE", "AE", "AE"]);
}

/// A frame that is not HL7 gets AE with MSA-2 UNKNOWN and is stored; a frame over the limit
/// gets AE and the connection goes on; the server keeps serving.
#[test]
fn garbage_and_oversized_frames() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    let platform = Server::start("platform", "127.0.0.1:0", &store, &["--max-message-bytes", "8192"]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = hl7_mllp::Config { read_timeout: Duration::from_secs(20), ..hl7_mllp::Config::default() };
    let (garbage, big, good) = rt.block_on(async {
        let mut c = hl7_mllp::Client::connect(platform.addr.as_str(), None, &config).await.unwrap();
        let garbage = c.send(b"\x00\x01 this is not HL7").await.unwrap();
        let big = c.send(&vec![b'A'; 20_000]).await.unwrap();
        let good = c.send(&std::fs::read(fixture("flux1_nw_minimal.hl7")).unwrap()).await.unwrap();
        c.close().await;
        (garbage, big, good)
    });
    let (garbage, big, good) = (String::from_utf8_lossy(&garbage).into_owned(), String::from_utf8_lossy(&big).into_owned(), String::from_utf8_lossy(&good).into_owned());
    assert!(garbage.contains("\rMSA|AE|UNKNOWN\r"), "MSA-2 unknown: {garbage}");
    assert!(garbage.contains("ERR|||100^Segment sequence error^HL70357|E||||the message does not parse: segment 1 (byte 0): not an HL7 v2 message"), "{garbage}");
    assert!(big.contains("\rMSA|AE|UNKNOWN\r") && big.contains("the message is larger than 8192 bytes"), "{big}");
    assert!(good.contains("\rMSA|AA|CHUXF1-20260106-0001\r"), "{good}");
    assert!(platform.stop().success());
    let conn = rusqlite::Connection::open(&store).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2, "the garbage frame and the good message; the oversized frame was never read");
}

#[test]
fn plaintext_needs_loopback_or_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let out = run(&["serve", "--role", "platform", "--listen", "0.0.0.0:0", "--store", store.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a loopback address: give --tls-cert and --tls-key, or --allow-plaintext"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    // Unreachable peer: exit 2 after the retries.
    let nw = fixture("flux1_nw_minimal.hl7");
    let out = run(&["send", "--to", "127.0.0.1:1", "--attempts", "2", nw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot connect to 127.0.0.1:1"), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 message(s) not sent"), "{}", stderr(&out));
}

/// Issue 15, item 1: two different messages with one MSH-10 from one sender, through a real
/// `serve`: the second is AE 205 at MSH-10, both are in the store, and only the first order.
#[test]
fn a_reused_control_id_through_serve() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &[]);
    let first = fixture("flux1_nw_minimal.hl7");
    let second = variant(dir.path(), "second.hl7", "flux1_nw_minimal.hl7", &[("CMD-2026-000418", "CMD-2026-000999")]);
    let id = control_id_of(&first);
    assert_eq!(control_id_of(&second), id);
    let out = run(&["send", "--to", &server.addr, first.to_str().unwrap()]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), format!("{id}\tAA\n")), "{}", stderr(&out));
    let out = run(&["send", "--to", &server.addr, second.to_str().unwrap()]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(1), format!("{id}\tAE\n")), "{}", stderr(&out));
    // The first sent again is still the first's AA.
    let out = run(&["send", "--to", &server.addr, first.to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{id}\tAA\n"));
    assert!(server.stop().success());
    let conn = rusqlite::Connection::open(&store).unwrap();
    let rows: Vec<(String, String, Option<i64>, Vec<u8>)> = conn
        .prepare("SELECT control_id, ack_code, conflict_of, ack FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2, "both stored, once each");
    assert_eq!((rows[0].1.as_str(), rows[0].2), ("AA", None));
    assert_eq!((rows[1].0.as_str(), rows[1].1.as_str(), rows[1].2), (id.as_str(), "AE", Some(1)));
    let ack = String::from_utf8_lossy(&rows[1].3);
    assert!(ack.contains("\rERR||MSH^1^10|205^Duplicate key identifier^HL70357|E|"), "{ack}");
    let list = orders(&store);
    assert_eq!(list.len(), 1, "nothing of the second applied: {list:?}");
    assert!(list[0]["key"].as_str().unwrap().starts_with("CMD-2026-000418"));
}

/// flux1_nw_minimal as a Windows-1252 file labelled 8859/15, with the surname `CŒUR`
/// (Œ = 0x8C in Windows-1252, a C1 control code in ISO 8859).
fn windows_1252_file(dir: &std::path::Path) -> std::path::PathBuf {
    let text = String::from_utf8(std::fs::read(fixture("flux1_nw_minimal.hl7")).unwrap()).unwrap().replace("UNICODE UTF-8", "8859/15").replace("LEFEBVRE^CAMILLE", "CŒUR^CAMILLE");
    let bytes: Vec<u8> = text.chars().map(|c| if c == 'Œ' { 0x8C } else { u8::try_from(u32::from(c)).expect("Latin-1 text") }).collect();
    assert!(bytes.contains(&0x8C));
    let p = dir.join("w1252.hl7");
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Issue 15, item 8: the Windows-1252 surname is an error at PID[1]-5 that names
/// Windows-1252, from `validate` and from a running `serve`; read as Windows-1252 only when
/// asked (`--charset-fallback windows-1252`), with a warning.
#[test]
fn a_windows_1252_file_labelled_8859_15() {
    let dir = tempfile::tempdir().unwrap();
    let file = windows_1252_file(dir.path());
    let f = file.to_str().unwrap();
    let id = control_id_of(&file);
    for lenient in [&[][..], &["--lenient"][..]] {
        let mut args = vec!["validate"];
        args.extend_from_slice(lenient);
        args.push(f);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        assert!(stdout(&out).contains("error 102 PID[1]-5: the message does not parse: PID-5 (byte "), "{}", stdout(&out));
        assert!(stdout(&out).contains("): byte 0x8C is a C1 control code, not text, in the declared character set 8859/15"), "{}", stdout(&out));
        assert!(stdout(&out).contains("probably Windows-1252 (where 0x8C is `Œ`)"), "{}", stdout(&out));
    }
    let out = run(&["validate", "--charset-fallback", "windows-1252", f]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("valid [flux1_orm_o01_nw]\n  warning 102 MSH[1]-18: MSH-18 names an ISO 8859 set but the message holds bytes 0x80-0x9F: it was read as Windows-1252"), "{}", stdout(&out));

    // A running serve: AE with the located ERR, nothing applied.
    let store = dir.path().join("platform.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &[]);
    let out = run(&["send", "--to", &server.addr, f]);
    assert_eq!(stdout(&out), format!("{id}\tAE\n"), "{}", stderr(&out));
    assert!(server.stop().success());
    let conn = rusqlite::Connection::open(&store).unwrap();
    let ack: Vec<u8> = conn.query_row("SELECT ack FROM messages", [], |r| r.get(0)).unwrap();
    let ack = String::from_utf8_lossy(&ack).into_owned();
    assert!(ack.contains("\rERR||PID^1^5|102^Data type error^HL70357|E||||the message does not parse: PID-5 (byte "), "{ack}");
    assert!(ack.contains("): byte 0x8C is a C1 control code"), "{ack}");
    assert!(ack.contains("the message is probably Windows-1252"), "{ack}");
    assert!(orders(&store).is_empty());

    // With the fallback: accepted, the warning stored with the message, the name read right.
    let store = dir.path().join("fallback.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &["--charset-fallback", "windows-1252"]);
    let out = run(&["send", "--to", &server.addr, f]);
    assert_eq!(stdout(&out), format!("{id}\tAA\n"), "{}", stderr(&out));
    assert!(server.stop().success());
    let conn = rusqlite::Connection::open(&store).unwrap();
    let findings: String = conn.query_row("SELECT findings FROM messages", [], |r| r.get(0)).unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_str(&findings).unwrap();
    assert_eq!(findings[0]["rule"], "charset-fallback", "{findings:?}");
    assert_eq!(findings[0]["severity"], "warning", "{findings:?}");
    assert_eq!(orders(&store).len(), 1);
}
