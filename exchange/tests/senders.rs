//! Issue 15, item 5, against a real `telerad serve`: who may send (`--senders`), which receiver
//! a message is for (`--application`, `--facility`), production or training
//! (`--processing-id`), and no plaintext to another host from `send` and `respond --to`.

mod common;

use common::*;

/// The inbound rows of a store: (MSH-10, MSA-1, refused, client certificate subject, ACK).
fn rows(store: &std::path::Path) -> Vec<(String, String, bool, Option<String>, String)> {
    let conn = rusqlite::Connection::open(store).unwrap();
    let mut statement = conn.prepare("SELECT control_id, ack_code, refused, client_subject, ack FROM messages WHERE direction = 'in' ORDER BY id").unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, String::from_utf8_lossy(&r.get::<_, Vec<u8>>(4)?).into_owned())))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn senders_file(dir: &std::path::Path, json: &str) -> String {
    let p = dir.join("senders.json");
    std::fs::write(&p, json).unwrap();
    p.to_str().unwrap().to_owned()
}

/// A sender whose MSH-3/MSH-4 is not allowed from its connection gets AR with ERR-3 207, is
/// stored as refused and applies nothing; once allowed, the same message is taken as new.
#[test]
fn a_sender_not_allowed_from_its_address_is_refused_and_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    let nw = fixture("flux1_nw_minimal.hl7");
    let id = control_id_of(&nw);
    // RIS / CHU_X may send from 192.0.2.10 only; another sender may send from loopback.
    let listed = senders_file(dir.path(), r#"[{"application": "RIS", "facility": "CHU_X", "addresses": ["192.0.2.10"]}, {"application": "OTHER", "facility": "CHU_Y", "addresses": ["127.0.0.1"]}]"#);
    let log = dir.path().join("serve.log");
    let server = Server::start_logged("platform", "127.0.0.1:0", &store, &["--senders", &listed], &log);
    let out = run(&["send", "--to", &server.addr, nw.to_str().unwrap()]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(1), format!("{id}\tAR\n")), "{}", stderr(&out));
    // Sent again: refused again, and stored again (it answers for nothing stored).
    let out = run(&["send", "--to", &server.addr, nw.to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{id}\tAR\n"));
    // A sender that is not listed at all.
    let unlisted = variant(dir.path(), "unlisted.hl7", "flux1_nw_minimal.hl7", &[("|RIS|CHU_X|", "|RIS|CHU_Z|")]);
    let out = run(&["send", "--to", &server.addr, unlisted.to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{id}\tAR\n"), "{}", stderr(&out));
    // The sender allowed from loopback is taken.
    let other = variant(dir.path(), "other.hl7", "flux1_nw_minimal.hl7", &[("|RIS|CHU_X|", "|OTHER|CHU_Y|"), ("CMD-2026-000418", "CMD-2026-000419")]);
    let out = run(&["send", "--to", &server.addr, other.to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{id}\tAA\n"), "{}", stderr(&out));
    assert!(server.stop().success());

    let got = rows(&store);
    assert_eq!(got.iter().map(|r| (r.1.as_str(), r.2)).collect::<Vec<_>>(), [("AR", true), ("AR", true), ("AR", true), ("AA", false)]);
    for (_, _, _, _, ack) in &got[..3] {
        assert!(ack.contains(&format!("\rMSA|AR|{id}\r")), "{ack}");
        assert!(ack.contains("\rERR|||207^Application internal error^HL70357|E||||"), "{ack}");
        assert!(ack.contains("is not allowed to send to this receiver from this connection (address 127.0.0.1, no client certificate)"), "{ack}");
    }
    assert!(got[2].4.contains("`RIS` / `CHU_Z`"), "{}", got[2].4);
    let list = orders(&store);
    assert_eq!(list.len(), 1, "only the allowed sender's order: {list:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains(&format!("MSH-10 `{id}` refused (AR)"))).count(), 3, "{text}");

    // RIS / CHU_X allowed from loopback now: the message refused before is received as new.
    let allowed = senders_file(dir.path(), r#"[{"application": "RIS", "facility": "CHU_X", "addresses": ["::1", "127.0.0.1"]}]"#);
    let server = Server::start("platform", "127.0.0.1:0", &store, &["--senders", &allowed]);
    let out = run(&["send", "--to", &server.addr, nw.to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{id}\tAA\n"), "{}", stderr(&out));
    assert!(server.stop().success());
    assert_eq!(orders(&store).len(), 2);
}

/// A senders file that cannot be read or is wrong stops `serve` at start (exit 2, the reason).
#[test]
fn a_wrong_senders_file_stops_serve_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    let s = store.to_str().unwrap();
    let wrong = senders_file(dir.path(), r#"[{"application": "RIS", "facility": "CHU_X", "adresses": ["127.0.0.1"]}]"#);
    let out = run(&["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", s, "--senders", &wrong]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("senders file") && stderr(&out).contains("unknown field `adresses`"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "no address printed: it never listened");
    let missing = dir.path().join("none.json");
    let out = run(&["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", s, "--senders", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read the senders file"), "{}", stderr(&out));
}

/// With mutual TLS, a sender is tied to its client certificate: the listed certificate is
/// taken (its subject stored with the message), another certificate of the same CA is refused.
#[test]
fn a_sender_is_tied_to_its_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    pki.issue("server", &["localhost", "127.0.0.1"], true);
    pki.issue("ris.chu-x.example", &["ris.chu-x.example"], false);
    pki.issue("intruder.example", &["intruder.example"], false);
    let p = |n: &str| pki.path(n);
    let listed = senders_file(dir.path(), r#"[{"application": "RIS", "facility": "CHU_X", "certificates": ["CN=ris.chu-x.example"]}]"#);
    let store = dir.path().join("platform.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &["--tls-cert", &p("server.pem"), "--tls-key", &p("server.key"), "--tls-client-ca", &p("ca.pem"), "--senders", &listed]);
    let nw = fixture("flux1_nw_minimal.hl7");
    let id = control_id_of(&nw);
    let send = |client: &str| run(&["send", "--to", &server.addr, "--tls-ca", &p("ca.pem"), "--tls-cert", &p(&format!("{client}.pem")), "--tls-key", &p(&format!("{client}.key")), nw.to_str().unwrap()]);
    let out = send("intruder.example");
    assert_eq!(stdout(&out), format!("{id}\tAR\n"), "{}", stderr(&out));
    let out = send("ris.chu-x.example");
    assert_eq!(stdout(&out), format!("{id}\tAA\n"), "{}", stderr(&out));
    assert!(server.stop().success());
    let got = rows(&store);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].1.as_str(), got[0].2, got[0].3.as_deref()), ("AR", true, Some("CN=intruder.example")));
    assert!(got[0].4.contains("client certificate `CN=intruder.example`"), "{}", got[0].4);
    assert_eq!((got[1].1.as_str(), got[1].2, got[1].3.as_deref()), ("AA", false, Some("CN=ris.chu-x.example")));
    assert_eq!(orders(&store).len(), 1);
}

/// `--application` / `--facility`: a message whose MSH-5 or MSH-6 names another receiver is AE
/// 103 at that field, stored, nothing applied.
#[test]
fn a_message_for_another_receiver_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("platform.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &["--application", "SI-TLR", "--facility", "PLAT-TLR"]);
    let for_other = variant_with_id(dir.path(), "other-app.hl7", "flux1_nw_minimal.hl7", "OTHER-APP-1", &[("|SI-TLR|PLAT-TLR|", "|AUTRE-TLR|PLAT-TLR|")]);
    let other_facility = variant_with_id(dir.path(), "other-fac.hl7", "flux1_nw_minimal.hl7", "OTHER-FAC-1", &[("|SI-TLR|PLAT-TLR|", "|SI-TLR|PLAT-AUTRE|")]);
    let mine = fixture("flux1_nw_minimal.hl7");
    for f in [&for_other, &other_facility] {
        let out = run(&["send", "--to", &server.addr, f.to_str().unwrap()]);
        assert_eq!(stdout(&out), format!("{}\tAE\n", control_id_of(f)), "{}", stderr(&out));
    }
    let out = run(&["send", "--to", &server.addr, mine.to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{}\tAA\n", control_id_of(&mine)), "{}", stderr(&out));
    assert!(server.stop().success());
    let got = rows(&store);
    assert_eq!(got.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["AE", "AE", "AA"]);
    assert!(got[0].4.contains("\rERR||MSH^1^5|103^Table value not found^HL70357|E||||MSH-5 (receiving application) `AUTRE-TLR` does not name this receiver, `SI-TLR`"), "{}", got[0].4);
    assert!(got[1].4.contains("\rERR||MSH^1^6|103^Table value not found^HL70357|E||||MSH-6 (receiving facility) `PLAT-AUTRE` does not name this receiver, `PLAT-TLR`"), "{}", got[1].4);
    // The ACK of the taken message comes from this receiver's identity.
    assert!(got[2].4.starts_with("MSH|^~\\&|SI-TLR|PLAT-TLR|RIS|CHU_X|"), "{}", got[2].4);
    assert_eq!(orders(&store).len(), 1);
}

/// `--processing-id`: a training message to a production receiver is AE 202 at MSH-11, and a
/// production message to a training receiver too; `respond` answers a training request in
/// training, which a training RIS takes.
#[test]
fn training_and_production_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let training = variant_with_id(dir.path(), "training.hl7", "flux1_nw_minimal.hl7", "TRAINING-1", &[("|P|2.5.1|", "|T|2.5.1|")]);
    let production = fixture("flux1_nw_minimal.hl7");

    let store = dir.path().join("production.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &[]);
    let out = run(&["send", "--to", &server.addr, training.to_str().unwrap()]);
    assert_eq!(stdout(&out), "TRAINING-1\tAE\n", "{}", stderr(&out));
    assert!(server.stop().success());
    let got = rows(&store);
    assert!(got[0].4.contains("\rERR||MSH^1^11|202^Unsupported processing id^HL70357|E||||MSH-11 (processing id) is `T`; this receiver takes only `P` messages"), "{}", got[0].4);
    assert!(orders(&store).is_empty());

    let store = dir.path().join("training.db");
    let ris_store = dir.path().join("ris.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &["--processing-id", "T"]);
    let out = run(&["send", "--to", &server.addr, production.to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{}\tAE\n", control_id_of(&production)), "{}", stderr(&out));
    // The RIS records what it sends, so that it knows the order the answer is about.
    let out = run(&["send", "--to", &server.addr, "--store", ris_store.to_str().unwrap(), training.to_str().unwrap()]);
    assert_eq!(stdout(&out), "TRAINING-1\tAA\n", "{}", stderr(&out));
    assert!(server.stop().success());
    let got = rows(&store);
    assert!(got[0].4.contains("MSH-11 (processing id) is `P`; this receiver takes only `T` messages"), "{}", got[0].4);
    let list = orders(&store);
    assert_eq!(list.len(), 1);

    // The platform answers the training request; a RIS in training takes the answer.
    let ris = Server::start("ris", "127.0.0.1:0", &ris_store, &["--processing-id", "T"]);
    let key = list[0]["key"].as_str().unwrap().to_owned();
    let out = run(&["respond", "--store", store.to_str().unwrap(), "--order", &key, "--refuse", "--identity", identity().to_str().unwrap(), "--to", &ris.addr]);
    assert!(ris.stop().success());
    assert_eq!(out.status.code(), Some(0), "{}\n{}\n{:?}", stdout(&out), stderr(&out), rows(&ris_store));
    let got = rows(&ris_store);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, "AA", "{}", got[0].4);
    let conn = rusqlite::Connection::open(&ris_store).unwrap();
    let raw: Vec<u8> = conn.query_row("SELECT raw FROM messages WHERE direction = 'in'", [], |r| r.get(0)).unwrap();
    assert!(String::from_utf8_lossy(&raw).contains("|ORU^R01^ORU_R01|") && String::from_utf8_lossy(&raw).contains("|T|2.5.1|"), "the answer is a training message");
}

/// `send` and `respond --to` refuse a peer that is not loopback without TLS, before sending or
/// recording anything, unless `--allow-plaintext`.
#[test]
fn no_plaintext_to_another_host() {
    let dir = tempfile::tempdir().unwrap();
    let nw = fixture("flux1_nw_minimal.hl7");
    let store = dir.path().join("ris.db");
    // 192.0.2.1 is TEST-NET-1: never reached, the command must refuse before connecting.
    let out = run(&["send", "--to", "192.0.2.1:2575", "--store", store.to_str().unwrap(), nw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("192.0.2.1:2575 is not a loopback address: give --tls-ca, or --allow-plaintext to send health data unencrypted"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(!store.exists() || rows(&store).is_empty(), "nothing recorded");

    // respond --to: the platform's store holds an order to answer.
    let platform_store = dir.path().join("platform.db");
    let server = Server::start("platform", "127.0.0.1:0", &platform_store, &[]);
    let out = run(&["send", "--to", &server.addr, nw.to_str().unwrap()]);
    assert!(stdout(&out).ends_with("\tAA\n"), "{}", stderr(&out));
    assert!(server.stop().success());
    let before = orders(&platform_store);
    let key = before[0]["key"].as_str().unwrap().to_owned();
    let out = run(&["respond", "--store", platform_store.to_str().unwrap(), "--order", &key, "--refuse", "--identity", identity().to_str().unwrap(), "--to", "[2001:db8::1]:2575"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("[2001:db8::1]:2575 is not a loopback address: give --tls-ca, or --allow-plaintext"), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(&platform_store).unwrap();
    let outbound: i64 = conn.query_row("SELECT COUNT(*) FROM messages WHERE direction = 'out'", [], |r| r.get(0)).unwrap();
    assert_eq!(outbound, 0, "no response recorded");
    assert_eq!(orders(&platform_store), before, "the order is as it was");
}
