//! The store's behaviour on both databases: each scenario runs on a SQLite file and on a
//! PostgreSQL database (`TELERAD_TEST_PG`, see `common::postgres`); then what only several
//! receivers on one PostgreSQL database can do: the same message on two receivers at once,
//! a CA and an SR racing for each order, and a receiver that loses the database.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use hl7_runtime::Limits;
use telerad_exchange::clock;
use telerad_exchange::receive::{prepare, Role};
use telerad_exchange::store::{self, Direction, Store, StoreOptions};

fn fixture(name: &str) -> String {
    String::from_utf8(std::fs::read(common::fixture(name)).unwrap()).unwrap()
}

/// `text` with MSH-10 replaced.
fn with_control_id(text: &str, id: &str) -> String {
    let mut fields: Vec<String> = text.split('\r').next().unwrap().split('|').map(str::to_owned).collect();
    fields[9] = id.to_owned();
    let rest = &text[text.find('\r').unwrap()..];
    format!("{}{rest}", fields.join("|"))
}

fn options() -> StoreOptions {
    StoreOptions { clock: clock::fixed("20260106134419"), ..StoreOptions::default() }
}

fn msa(ack: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(ack);
    let msa = text.split('\r').find(|s| s.starts_with("MSA|")).unwrap_or_else(|| panic!("no MSA in {text}"));
    let f: Vec<&str> = msa.split('|').collect();
    (f[1].to_owned(), f.get(2).copied().unwrap_or("").to_owned())
}

fn errs(ack: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(ack).split('\r').filter(|s| s.starts_with("ERR|")).map(str::to_owned).collect()
}

fn receive(store: &Store, text: &str) -> Vec<u8> {
    store.receive_blocking(prepare(text.as_bytes().to_vec(), Role::Platform, &Limits::DEFAULT))
}

/// Where a scenario's store is: a SQLite file in a temporary folder, or a fresh PostgreSQL
/// database.
struct Backend {
    _dir: Option<tempfile::TempDir>,
    location: PathBuf,
}

impl Backend {
    fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        let location = dir.path().join("store.db");
        Backend { _dir: Some(dir), location }
    }

    fn postgres(test: &str) -> Option<Backend> {
        common::postgres(test).map(|url| Backend { _dir: None, location: PathBuf::from(url) })
    }

    /// A store on it: a receiver (PostgreSQL: with its own writer and connection).
    fn open(&self) -> Store {
        Store::open(&self.location, options()).unwrap()
    }
}

/// Runs a scenario once per database.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&super::Backend::sqlite());
            }
            #[test]
            fn postgres() {
                if let Some(b) = super::Backend::postgres(concat!("suite_", stringify!($name))) {
                    super::$name(&b);
                }
            }
        }
    )*};
}

on_both!(duplicates_and_senders, the_workflow, conflicts, concurrent_waiters, unparsable_messages, outbound_records, reopen_keeps_the_schema);

fn duplicates_and_senders(b: &Backend) {
    let store = b.open();
    let nw = fixture("flux1_nw_full.hl7");
    let first = receive(&store, &nw);
    assert_eq!(msa(&first), ("AA".into(), "CHUXF1-20260106-0002".into()));
    assert_eq!(receive(&store, &nw), first, "the stored ACK, byte for byte");
    assert_eq!(store.count(Direction::In).unwrap(), 1);
    // Same MSH-10 from another sender: another message (and a second NW: AE 205).
    let ack = receive(&store, &nw.replacen("|RIS|CHU_X|", "|RIS|CHU_Y|", 1));
    assert_eq!(msa(&ack).0, "AE");
    assert_eq!(store.count(Direction::In).unwrap(), 2);
    // Row ids start at 1 on a new store, and ACKs name them.
    assert!(String::from_utf8_lossy(&first).contains("|ACK1|"), "{}", String::from_utf8_lossy(&first));
    store.close();
}

fn the_workflow(b: &Backend) {
    let store = b.open();
    let ack = receive(&store, &fixture("flux4_sr.hl7"));
    assert!(errs(&ack)[0].starts_with("ERR||ORC^1^2|204^Unknown key identifier^HL70357|E|"), "{:?}", errs(&ack));
    assert_eq!(msa(&receive(&store, &fixture("flux1_nw_full.hl7"))).0, "AA");
    let ack = receive(&store, &with_control_id(&fixture("flux1_nw_full.hl7"), "NW-AGAIN"));
    assert!(errs(&ack)[0].starts_with("ERR||ORC^1^2|205^Duplicate key identifier^HL70357|E|"), "{:?}", errs(&ack));
    let sr = fixture("flux4_sr.hl7").replace("CMD-2026-000470", "CMD-2026-000421");
    let ack = receive(&store, &with_control_id(&sr, "SR-EARLY"));
    assert!(errs(&ack)[0].starts_with("ERR||ORC^1^1|207^Application internal error^HL70357|E|"), "{:?}", errs(&ack));
    assert_eq!(msa(&receive(&store, &fixture("flux2_ca.hl7"))).0, "AA");
    let ack = receive(&store, &with_control_id(&fixture("flux2_ca.hl7"), "CA-AGAIN"));
    assert!(errs(&ack)[0].contains("|207^"), "{:?}", errs(&ack));
    assert_eq!(store.count(Direction::In).unwrap(), 6);
    let orders = store.list_orders().unwrap();
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!((o.key.as_str(), o.state.as_str()), ("CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO", "cancelled"));
    let steps: Vec<(&str, Option<&str>, &str)> = o.history.iter().map(|h| (h.order_control.as_str(), h.from.as_deref(), h.to.as_str())).collect();
    assert_eq!(steps, [("NW", None, "requested"), ("CA", Some("requested"), "cancelled")]);
    assert_eq!(o.history[0].message_control_id, "CHUXF1-20260106-0002");
    assert_eq!(o.history[0].at, "2026-01-06T13:44:19.000Z");
    store.close();
}

fn conflicts(b: &Backend) {
    let store = b.open();
    let first = fixture("flux1_nw_minimal.hl7");
    let ack1 = receive(&store, &first);
    assert_eq!(msa(&ack1).0, "AA");
    let second = first.replace("CMD-2026-000418", "CMD-2026-000999");
    let ack2 = receive(&store, &second);
    assert_eq!(msa(&ack2).0, "AE");
    let e = errs(&ack2);
    assert!(e[0].starts_with("ERR||MSH^1^10|205^Duplicate key identifier^HL70357|E|"), "{e:?}");
    let orders = store.list_orders().unwrap();
    assert_eq!(orders.len(), 1, "nothing of the conflict applied");
    assert_eq!(receive(&store, &first), ack1);
    assert_eq!(receive(&store, &second), ack2, "the conflict sent again: its own stored ACK");
    assert_eq!(store.count(Direction::In).unwrap(), 2);
    let ack3 = receive(&store, &second.replace("CMD-2026-000999", "CMD-2026-000777"));
    assert_eq!(msa(&ack3).0, "AE");
    assert_ne!(ack3, ack2);
    assert_eq!(store.count(Direction::In).unwrap(), 3);
    store.close();
}

fn concurrent_waiters(b: &Backend) {
    let store = b.open();
    let base = fixture("flux1_nw_minimal.hl7");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (store, base) = (store.clone(), base.clone());
            std::thread::spawn(move || {
                for i in 0..25 {
                    let id = format!("T{t}-{i}");
                    let ack = receive(&store, &with_control_id(&base, &id).replace("CMD-2026-000418", &format!("CMD-{t}-{i}")));
                    assert_eq!(msa(&ack), ("AA".to_owned(), id));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.count(Direction::In).unwrap(), 200);
    assert_eq!(store.list_orders().unwrap().len(), 200);
    store.close();
}

fn unparsable_messages(b: &Backend) {
    let store = b.open();
    assert_eq!(msa(&receive(&store, "not HL7 at all")), ("AE".into(), "UNKNOWN".into()));
    receive(&store, "not HL7 at all");
    assert_eq!(store.count(Direction::In).unwrap(), 2, "without MSH-10 it is stored each time");
    store.close();
}

fn outbound_records(b: &Backend) {
    let store = b.open();
    let nw = fixture("flux1_nw_full.hl7");
    assert_eq!(msa(&receive(&store, &nw)).0, "AA");
    let ok = fixture("flux3_ok_ft.hl7");
    let m = hl7_runtime::Message::parse(ok.as_bytes()).unwrap();
    let events = telerad_exchange::workflow::events(&m).unwrap();
    let out = store::Outbound { raw: ok.clone().into_bytes(), sender: Default::default(), control_id: "OK1".into(), profile: Some("flux3_oru_r01"), events, ack: None };
    let id = match store.record_outbound(out.clone(), true).unwrap() {
        store::Recorded::Stored { id } => id,
        other => panic!("{other:?}"),
    };
    assert_eq!(store.record_outbound(out.clone(), true).unwrap(), store::Recorded::AlreadyRecorded { id });
    assert!(matches!(store.record_outbound(store::Outbound { control_id: "OK2".into(), ..out }, true).unwrap(), store::Recorded::Refused { .. }));
    store.set_ack(id, b"MSH|^~\\&|X|Y\rMSA|AA|OK1\r", "AA").unwrap();
    assert_eq!(store.count(Direction::Out).unwrap(), 1);
    assert_eq!(store.list_orders().unwrap()[0].state, "accepted");
    store.close();
}

fn reopen_keeps_the_schema(b: &Backend) {
    let store = b.open();
    assert_eq!(msa(&receive(&store, &fixture("flux1_nw_full.hl7"))).0, "AA");
    store.close();
    // Opened again: already at this version, nothing migrated, nothing lost.
    let store = b.open();
    assert_eq!(store.count(Direction::In).unwrap(), 1);
    store.close();
}

/// Two receivers get the same message at the same moment: it is stored once, and both answer
/// its stored ACK.
#[test]
fn the_same_message_on_two_receivers_is_stored_once() {
    let Some(b) = Backend::postgres("same_message_two_receivers") else { return };
    let (one, two) = (b.open(), b.open());
    let base = fixture("flux1_nw_minimal.hl7");
    let n = 100;
    let barrier = Arc::new(Barrier::new(2));
    let run = |store: Store, barrier: Arc<Barrier>, base: String| {
        std::thread::spawn(move || {
            barrier.wait();
            (0..n).map(|i| receive(&store, &with_control_id(&base, &format!("SAME-{i}")).replace("CMD-2026-000418", &format!("CMD-S{i}")))).collect::<Vec<_>>()
        })
    };
    let a = run(one.clone(), barrier.clone(), base.clone());
    let c = run(two.clone(), barrier, base);
    let (a, c) = (a.join().unwrap(), c.join().unwrap());
    for (i, (x, y)) in a.iter().zip(&c).enumerate() {
        assert_eq!(msa(x), ("AA".to_owned(), format!("SAME-{i}")), "{}", String::from_utf8_lossy(x));
        assert_eq!(x, y, "both receivers answer the one stored ACK");
    }
    assert_eq!(one.count(Direction::In).unwrap(), n);
    let orders = two.list_orders().unwrap();
    assert_eq!(orders.len(), n as usize);
    assert!(orders.iter().all(|o| o.history.len() == 1), "one NW transition per order");
    one.close();
    two.close();
}

/// Racing events: each order, accepted, gets a CA on one receiver and an SR on the other at
/// the same moment. Exactly one applies: the order ends cancelled (NW, OK, CA) or accepted
/// with its exam (NW, OK, SR), and the other message gets the workflow's AE 207.
/// `TELERAD_RACE_ORDERS` sets the count (the issue's 1,000; 300 by default, for time).
#[test]
fn a_ca_and_an_sr_racing_for_one_order_cannot_both_apply() {
    let Some(b) = Backend::postgres("racing_events") else { return };
    let n: usize = std::env::var("TELERAD_RACE_ORDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let (one, two) = (b.open(), b.open());
    let nw = fixture("flux1_nw_full.hl7");
    let ok = fixture("flux3_ok_ft.hl7");
    let ca = fixture("flux2_ca.hl7");
    let sr = fixture("flux4_sr.hl7").replace("CMD-2026-000470", "CMD-2026-000421");
    let key = |i: usize| format!("RACE-{i:05}");
    // Set up: every order created and accepted (16 threads, both receivers).
    let setup: Vec<_> = (0..16)
        .map(|t| {
            let store = if t % 2 == 0 { one.clone() } else { two.clone() };
            let (nw, ok) = (nw.clone(), ok.clone());
            std::thread::spawn(move || {
                for i in (t..n).step_by(16) {
                    let k = key(i);
                    let ack = receive(&store, &with_control_id(&nw, &format!("NW-{i}")).replace("CMD-2026-000421", &k));
                    assert_eq!(msa(&ack).0, "AA", "{}", String::from_utf8_lossy(&ack));
                    let ok = with_control_id(&ok, &format!("OK-{i}")).replace("CMD-2026-000421", &k);
                    let events = telerad_exchange::workflow::events(&hl7_runtime::Message::parse(ok.as_bytes()).unwrap()).unwrap();
                    let out = store::Outbound { raw: ok.into_bytes(), sender: Default::default(), control_id: format!("OK-{i}"), profile: Some("flux3_oru_r01"), events, ack: None };
                    assert!(matches!(store.record_outbound(out, true).unwrap(), store::Recorded::Stored { .. }));
                }
            })
        })
        .collect();
    setup.into_iter().for_each(|t| t.join().unwrap());
    // The race: 16 connections on each receiver, the two of a pair on the same orders in the
    // same order, all starting together.
    let pairs = 16;
    let barrier = Arc::new(Barrier::new(2 * pairs));
    let mut threads = Vec::new();
    for t in 0..pairs {
        for (store, template, kind) in [(one.clone(), ca.clone(), "CA"), (two.clone(), sr.clone(), "SR")] {
            let barrier = barrier.clone();
            threads.push(std::thread::spawn(move || {
                barrier.wait();
                (t..n)
                    .step_by(pairs)
                    .map(|i| {
                        let text = with_control_id(&template, &format!("{kind}-{i}")).replace("CMD-2026-000421", &key(i));
                        (i, kind, receive(&store, &text))
                    })
                    .collect::<Vec<_>>()
            }));
        }
    }
    let mut won = vec![Vec::new(); n];
    for t in threads {
        for (i, kind, ack) in t.join().unwrap() {
            match msa(&ack).0.as_str() {
                "AA" => won[i].push(kind),
                "AE" => {
                    let e = errs(&ack);
                    assert!(e.len() == 1 && e[0].starts_with("ERR||ORC^1^1|207^Application internal error^HL70357|E|"), "{kind} of order {i}: {e:?}");
                }
                other => panic!("{kind} of order {i}: MSA {other}: {}", String::from_utf8_lossy(&ack)),
            }
        }
    }
    let orders = one.list_orders().unwrap();
    assert_eq!(orders.len(), n);
    let (mut cancelled, mut performed) = (0, 0);
    for o in &orders {
        let i: usize = o.key.trim_start_matches("RACE-").split('^').next().unwrap().parse().unwrap();
        assert_eq!(won[i].len(), 1, "order {}: exactly one of CA and SR accepted, got {:?}", o.key, won[i]);
        let steps: Vec<&str> = o.history.iter().map(|h| h.order_control.as_str()).collect();
        match won[i][0] {
            "CA" => {
                assert_eq!((o.state.as_str(), steps.as_slice(), o.exams.len()), ("cancelled", ["NW", "OK", "CA"].as_slice(), 0), "{o:?}");
                cancelled += 1;
            }
            _ => {
                assert_eq!((o.state.as_str(), steps.as_slice(), o.exams.len()), ("accepted", ["NW", "OK", "SR"].as_slice(), 1), "{o:?}");
                performed += 1;
            }
        }
    }
    eprintln!("racing events: {n} orders, {cancelled} cancelled (CA first), {performed} performed (SR first)");
    one.close();
    two.close();
}

/// A receiver that loses the database answers AR (not stored) and stores again once the
/// database is back, without being reopened. The outage: the database refuses connections
/// and the receivers' connections are ended (what a server restart does to them), on a
/// database of this test's own so that the tests running beside it are not touched.
#[test]
fn a_receiver_that_loses_the_database_answers_ar_and_recovers() {
    let Some(b) = Backend::postgres("loses_the_database") else { return };
    let url = b.location.to_str().unwrap().to_owned();
    let db = url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let admin_url = std::env::var("TELERAD_TEST_PG").unwrap();
    let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
    let store = b.open();
    let base = fixture("flux1_nw_minimal.hl7");
    let msg = |i: usize| with_control_id(&base, &format!("OUT-{i}")).replace("CMD-2026-000418", &format!("CMD-O{i}"));
    assert_eq!(msa(&receive(&store, &msg(0))).0, "AA");
    admin.batch_execute(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")).unwrap();
    for i in 1..=3 {
        let ack = receive(&store, &msg(i));
        assert_eq!(msa(&ack).0, "AR", "{}", String::from_utf8_lossy(&ack));
        assert!(errs(&ack)[0].contains("was not stored"), "{:?}", errs(&ack));
    }
    admin.batch_execute(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).unwrap();
    // Back: the next message connects again. The ones answered AR were not stored, and may be
    // sent again.
    let mut stored = false;
    for _ in 0..50 {
        if msa(&receive(&store, &msg(1))).0 == "AA" {
            stored = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(stored, "the receiver stores again once the database is back");
    assert_eq!(store.count(Direction::In).unwrap(), 2, "OUT-0 and OUT-1; nothing of the outage");
    store.close();
}

/// The PostgreSQL schema's versions are the SQLite store's: a database at version 1 (the first
/// step alone) is brought to the current version on open, its rows kept; a newer one is refused
/// and left as it is.
#[test]
fn postgres_migrations_share_the_versions() {
    let Some(b) = Backend::postgres("pg_migrations") else { return };
    let url = b.location.to_str().unwrap().to_owned();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    db.batch_execute(telerad_exchange::pg::MIGRATIONS[0]).unwrap();
    db.batch_execute("CREATE TABLE telerad_schema (version BIGINT NOT NULL); INSERT INTO telerad_schema VALUES (1)").unwrap();
    let store = b.open();
    assert_eq!(msa(&receive(&store, &fixture("flux1_nw_full.hl7"))).0, "AA");
    store.close();
    let version: i64 = db.query_one("SELECT version FROM telerad_schema", &[]).unwrap().get(0);
    assert_eq!(version, store::SCHEMA_VERSION);
    let index: i64 = db.query_one("SELECT count(*) FROM pg_indexes WHERE indexname = 'messages_received_at'", &[]).unwrap().get(0);
    assert_eq!(index, 1, "step 2 applied");
    db.execute("UPDATE telerad_schema SET version = $1", &[&(store::SCHEMA_VERSION + 1)]).unwrap();
    match Store::open(&b.location, options()) {
        Err(e @ store::StoreError::Newer { .. }) => assert!(e.to_string().contains("newer than this telerad's"), "{e}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    let still: i64 = db.query_one("SELECT version FROM telerad_schema", &[]).unwrap().get(0);
    assert_eq!(still, store::SCHEMA_VERSION + 1, "left as it is");
}
