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

/// TLS to the database, the server's certificate checked: a cluster of this test's own with
/// `ssl=on` and a certificate for 127.0.0.1 from a test CA. With that CA (`SSL_CERT_FILE`) the
/// store is read over TLS; with the system's roots alone the certificate is refused.
#[test]
fn postgres_over_tls_with_a_checked_certificate() {
    if common::postgres("store_tls_gate").is_none() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/postgres.sh");
    let dir = tempfile::Builder::new().prefix("telerad-pg-tls").tempdir_in("/tmp").unwrap();
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir(&pki_dir).unwrap();
    let pki = common::Pki::new(&pki_dir);
    pki.issue("db", &["127.0.0.1"], true);
    // The server (as `nobody` when the tests run as root) reads its key, which it wants private.
    use std::os::unix::fs::PermissionsExt;
    for p in [dir.path(), pki_dir.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(pki_dir.join("db.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let root = std::process::Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if root {
        assert!(std::process::Command::new("chown").arg("nobody").arg(pki_dir.join("db.key")).status().unwrap().success());
    }
    let cluster = dir.path().join("cluster");
    let opts = format!("-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}", pki.path("db.pem"), pki.path("db.key"));
    let out = std::process::Command::new("bash").arg(&script).arg("start").arg(&cluster).env("PG_SERVER_OPTS", &opts).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    struct Stop<'a>(&'a Path, &'a Path);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("bash").arg(self.0).arg("stop").arg(self.1).status();
        }
    }
    let _stop = Stop(&script, &cluster);
    let exports = String::from_utf8(out.stdout).unwrap();
    let url = exports.lines().find_map(|l| l.strip_prefix("export TELERAD_TEST_PG=")).unwrap().to_owned();
    let tls_url = format!("{url}?sslmode=require");
    // A store created over TLS by a receiver, then read.
    let server = Server::start_env("platform", "127.0.0.1:0", Path::new(&tls_url), &[], &[("SSL_CERT_FILE", &pki.path("ca.pem")), ("RUST_LOG", "warn")]);
    let sent = run(&["send", "--to", &server.addr, common::fixture("flux1_nw_full.hl7").to_str().unwrap()]);
    assert!(stdout(&sent).ends_with("\tAA\n"), "{}", common::stderr(&sent));
    server.stop();
    let read = common::run_env(&["orders", "--store", &tls_url], &[("SSL_CERT_FILE", &pki.path("ca.pem"))]);
    assert!(read.status.success(), "{}", common::stderr(&read));
    assert!(stdout(&read).starts_with("CMD-2026-000421^^1.2.250.1.748.12345678.12^ISO\trequested"), "{}", stdout(&read));
    // Without the test CA the certificate is not trusted.
    let refused = common::run_env(&["orders", "--store", &tls_url], &[("SSL_CERT_FILE", "/nonexistent")]);
    assert_eq!(refused.status.code(), Some(2), "{}", stdout(&refused));
    assert!(common::stderr(&refused).to_lowercase().contains("certificate"), "{}", common::stderr(&refused));
}
