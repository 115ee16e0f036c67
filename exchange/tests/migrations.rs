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
