//! Upgrades: a store written at schema version 1 (the schema of issue 19's starting commit,
//! `user_version` 0, `tests/fixtures/store-v1.sqlite`, made by `store-v1.sh`) is read and
//! brought to the current version.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A copy of the version-1 fixture in `dir` (opening a store may upgrade it in place).
fn v1_store(dir: &Path) -> PathBuf {
    let copy = dir.join("store-v1.sqlite");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1.sqlite"), &copy).unwrap();
    copy
}

fn columns(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')")).unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn the_version_1_fixture_is_a_store_of_the_starting_schema() {
    let dir = tempfile::tempdir().unwrap();
    let store = v1_store(dir.path());
    let conn = rusqlite::Connection::open(&store).unwrap();
    assert_eq!(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), 0, "version 1 predates user_version");
    assert_eq!(
        columns(&conn, "messages"),
        ["id", "direction", "sender_application", "sender_facility", "control_id", "received_at", "profile", "findings", "raw", "ack", "ack_code", "digest", "conflict_of", "client_subject", "refused"]
    );
    drop(conn);
    let states: Vec<(String, String)> = orders(&store).iter().map(|o| (o["key"].as_str().unwrap().to_owned(), o["state"].as_str().unwrap().to_owned())).collect();
    assert_eq!(
        states,
        [
            ("CMD-2026-000418^^1.2.250.1.748.12345678.12^ISO".to_owned(), "accepted".to_owned()),
            ("CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO".to_owned(), "cancelled".to_owned())
        ]
    );
    let out = run(&["messages", "--store", store.to_str().unwrap()]);
    assert_eq!(stdout(&out).lines().count(), 7, "{}", stdout(&out));
}

fn schema(conn: &rusqlite::Connection) -> Vec<(String, String, Option<String>)> {
    conn.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_version_1_store_is_migrated_and_keeps_working() {
    use hl7_runtime::Limits;
    use telerad_exchange::receive::{prepare, Role};
    use telerad_exchange::store::{self, Store, StoreOptions, SCHEMA_VERSION};
    const { assert!(SCHEMA_VERSION >= 2) };
    let dir = tempfile::tempdir().unwrap();
    let path = v1_store(dir.path());
    let stored_ack: Vec<u8> = rusqlite::Connection::open(&path).unwrap().query_row("SELECT ack FROM messages WHERE id = 1", [], |r| r.get(0)).unwrap();
    let store = Store::open(&path, StoreOptions::default()).unwrap();
    // The NW of row 1 again: the ACK stored at version 1, byte for byte; a new message: AA.
    let nw = std::fs::read(fixture("flux1_nw_full.hl7")).unwrap();
    assert_eq!(store.receive_blocking(prepare(nw.clone(), Role::Platform, &Limits::DEFAULT)), stored_ack);
    let other = String::from_utf8(nw).unwrap().replace("CMD-2026-000421", "CMD-2026-000999").replace("CHUXF1-20260106-0002", "AFTER-MIGRATION");
    let ack = store.receive_blocking(prepare(other.into_bytes(), Role::Platform, &Limits::DEFAULT));
    assert!(String::from_utf8_lossy(&ack).contains("\rMSA|AA|AFTER-MIGRATION\r"), "{}", String::from_utf8_lossy(&ack));
    let orders = store.query(|c| store::orders(c).unwrap()).unwrap();
    store.close();
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert_eq!(orders.iter().map(|o| o.state.as_str()).collect::<Vec<_>>(), ["accepted", "cancelled", "requested"]);
    assert_eq!(orders[0].exams.len(), 1, "the exam of version 1 kept");
    assert_eq!(orders[0].history.len(), 3);
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0)).unwrap(), 8);
    // The same schema as a store created new.
    let fresh = dir.path().join("fresh.db");
    Store::open(&fresh, StoreOptions::default()).unwrap().close();
    let fresh_schema = schema(&rusqlite::Connection::open(&fresh).unwrap());
    assert!(fresh_schema.iter().any(|(_, name, _)| name == "messages_received_at"), "{fresh_schema:?}");
    assert_eq!(schema(&conn), fresh_schema);
    assert_eq!(user_version(&fresh), SCHEMA_VERSION);
    // Opening it again changes nothing.
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    Store::open(&path, StoreOptions::default()).unwrap().close();
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert_eq!(std::fs::read(&path).unwrap().len(), before.len());
}

#[test]
fn a_store_of_a_later_version_is_refused_untouched() {
    use telerad_exchange::store::{Store, StoreOptions, SCHEMA_VERSION};
    let dir = tempfile::tempdir().unwrap();
    let path = v1_store(dir.path());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let before = std::fs::read(&path).unwrap();
    let e = Store::open(&path, StoreOptions::default()).err().expect("refused");
    assert_eq!(e.to_string(), format!("store {}: its schema is version 99, newer than this telerad's ({SCHEMA_VERSION}): use a telerad of that version or later", path.display()));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let out = run(&["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("its schema is version 99, newer than this telerad's"), "{}", stderr(&out));
}

#[test]
fn purge_deletes_the_messages_of_final_orders_only_and_compacts() {
    let dir = tempfile::tempdir().unwrap();
    let path = v1_store(dir.path());
    let p = path.to_str().unwrap();
    let listed = |p: &str| -> Vec<i64> { stdout(&run(&["messages", "--store", p, "--format", "json"])).lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_i64().unwrap()).collect() };
    assert_eq!(listed(p), [1, 2, 3, 4, 5, 6, 7]);
    // Nothing is that old.
    let out = run(&["purge", "--store", p, "--older-than", "36500"]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), "purged 0 order(s), 0 message(s)\n".to_owned()), "{}", stderr(&out));
    assert_eq!(listed(p), [1, 2, 3, 4, 5, 6, 7]);
    // Everything is: the cancelled order goes with its NW, the conflict reusing its MSH-10 and
    // its CA; the accepted order (open) keeps its NW, OK and SR; the flow 3 answered AE (no
    // order) stays.
    let out = run(&["purge", "--store", p, "--older-than", "0"]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), "purged 1 order(s), 3 message(s)\n".to_owned()), "{}", stderr(&out));
    assert_eq!(listed(p), [2, 3, 5, 6]);
    let kept = orders(&path);
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0]["state"].as_str(), kept[0]["history"].as_array().unwrap().len(), kept[0]["exams"].as_array().unwrap().len()), (Some("accepted"), 3, 1));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let dangling: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(dangling, 0, "no reference left to a deleted row");
    assert_eq!(conn.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0)).unwrap(), 0, "compacted");
    drop(conn);
    // Again: nothing more.
    assert_eq!(stdout(&run(&["purge", "--store", p, "--older-than", "0"])), "purged 0 order(s), 0 message(s)\n");
    // Bad input.
    let out = run(&["purge", "--store", p, "--older-than", "-3"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["purge", "--store", dir.path().join("none.db").to_str().unwrap(), "--older-than", "1"]);
    assert!(stderr(&out).contains("no store at"), "{}", stderr(&out));
    assert!(!dir.path().join("none.db").exists(), "not created");
}
