//! `serve` and `send` over TLS with a test PKI: mutual TLS accepted with a client certificate
//! of the trusted CA, refused without one.

mod common;

use common::*;

#[test]
fn mutual_tls_between_send_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    pki.issue("server", &["localhost", "127.0.0.1"], true);
    pki.issue("ris", &["ris.test"], false);
    let p = |n: &str| pki.path(n);

    let store = dir.path().join("platform.db");
    let server = Server::start("platform", "127.0.0.1:0", &store, &["--tls-cert", &p("server.pem"), "--tls-key", &p("server.key"), "--tls-client-ca", &p("ca.pem")]);
    let nw = fixture("flux1_nw_minimal.hl7");
    let out = run(&["send", "--to", &server.addr, "--tls-ca", &p("ca.pem"), "--tls-cert", &p("ris.pem"), "--tls-key", &p("ris.key"), nw.to_str().unwrap()]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), "CHUXF1-20260106-0001\tAA\n".to_owned()), "{}", stderr(&out));
    // Without a client certificate the server refuses the connection: a network error, exit 2.
    let out = run(&["send", "--to", &server.addr, "--tls-ca", &p("ca.pem"), "--attempts", "1", nw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    // Plain TCP to a TLS server gets no ACK either.
    let out = run(&["send", "--to", &server.addr, "--attempts", "1", "--timeout", "5", nw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(server.stop().success());
    // The client certificate's subject is kept with the message.
    let conn = rusqlite::Connection::open(&store).unwrap();
    let subject: Option<String> = conn.query_row("SELECT client_subject FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(subject.as_deref(), Some("CN=ris"));
}
