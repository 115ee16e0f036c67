//! `telerad orders`, `messages`, `show` and `purge` on both stores: the same exchange through a
//! receiver, then the same answers from the commands.

mod common;

use std::path::{Path, PathBuf};

use common::{run, stdout, Server};

/// Through a receiver on `store`: an order created then cancelled, and another left requested.
/// Then what the commands say.
fn scenario(store: &Path) {
    let s = store.to_str().unwrap();
    let server = Server::start("platform", "127.0.0.1:0", store, &[]);
    for f in ["flux1_nw_full.hl7", "flux2_ca.hl7", "flux1_nw_minimal.hl7"] {
        let out = run(&["send", "--to", &server.addr, common::fixture(f).to_str().unwrap()]);
        assert!(out.status.success(), "{f}: {}", common::stderr(&out));
        assert!(stdout(&out).ends_with("\tAA\n"), "{f}: {}", stdout(&out));
    }
    server.stop();
    let orders = stdout(&run(&["orders", "--store", s]));
    let states: Vec<&str> = orders.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(states, ["CMD-2026-000418^^1.2.250.1.748.12345678.12^ISO\trequested", "CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO\tcancelled"], "{orders}");
    let messages = stdout(&run(&["messages", "--store", s]));
    assert_eq!(messages.lines().count(), 3, "{messages}");
    assert!(messages.lines().all(|l| l.split('\t').nth(7) == Some("AA")), "{messages}");
    let one = stdout(&run(&["messages", "--store", s, "--order", "CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO"]));
    assert_eq!(one.lines().count(), 2, "{one}");
    let first_id = one.lines().next().unwrap().split('\t').next().unwrap().to_owned();
    let shown = run(&["show", "--store", s, &first_id]);
    assert!(shown.status.success());
    let text = stdout(&shown);
    assert!(text.contains("order CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO\tNW: - -> requested") && text.contains("\nack:\nMSH|"), "{text}");
    let missing = run(&["show", "--store", s, "999"]);
    assert_eq!(missing.status.code(), Some(1), "{}", common::stderr(&missing));
    // The cancelled order and its two messages go; the requested one stays.
    let purged = run(&["purge", "--store", s, "--older-than", "0"]);
    assert_eq!(stdout(&purged), "purged 1 order(s), 2 message(s)\n", "{}", common::stderr(&purged));
    assert_eq!(stdout(&run(&["messages", "--store", s])).lines().count(), 1);
    assert_eq!(stdout(&run(&["orders", "--store", s])).lines().filter(|l| !l.starts_with(' ')).count(), 1);
}

#[test]
fn commands_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    scenario(&dir.path().join("store.db"));
}

#[test]
fn commands_on_postgres() {
    if let Some(url) = common::postgres("store_commands") {
        scenario(&PathBuf::from(url));
    }
}

/// `sslmode=require` asks the server for TLS and stops when it has none (the test cluster has
/// none); a password in the URL is never printed.
#[test]
fn postgres_tls_is_asked_and_passwords_are_hidden() {
    let Some(url) = common::postgres("store_tls") else { return };
    let out = run(&["orders", "--store", &format!("{url}?sslmode=require")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("TLS"), "{}", common::stderr(&out));
    let out = run(&["serve", "--role", "platform", "--listen", "127.0.0.1:0", "--store", "postgres://telerad:s3cret@127.0.0.1:1/x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(err.contains("postgres://telerad:***@127.0.0.1:1/x") && !err.contains("s3cret"), "{err}");
}
