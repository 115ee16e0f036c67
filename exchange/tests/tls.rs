//! `serve` and `send` over TLS with a test PKI: mutual TLS accepted with a client certificate
//! of the trusted CA, refused without one.

mod common;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};

/// Writes `<name>.pem` and `<name>.key` for a leaf issued by `ca`.
fn issue(dir: &std::path::Path, ca: &CertifiedIssuer<'static, KeyPair>, name: &str, sans: &[&str], usage: ExtendedKeyUsagePurpose) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, &**ca).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}

#[test]
fn mutual_tls_between_send_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "telerad test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(d.join("ca.pem"), ca.pem()).unwrap();
    issue(d, &ca, "server", &["localhost", "127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
    issue(d, &ca, "ris", &["ris.test"], ExtendedKeyUsagePurpose::ClientAuth);
    let p = |n: &str| d.join(n).to_str().unwrap().to_owned();

    let store = d.join("platform.db");
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
}
