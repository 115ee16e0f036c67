//! MLLP over TLS with certificates made at test time: a CA, a server certificate for
//! localhost and 127.0.0.1, a client certificate, and a second CA nobody trusts.

use std::path::PathBuf;
use std::time::Duration;

use hl7_mllp::tls::{self, TlsError};
use hl7_mllp::{Client, ClientError, Config, Stage};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::ServerName;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::support::*;

const MSG: &[u8] = b"MSH|^~\\&|RIS|HOSP|PLAT|TLR|20260106||ORM^O01^ORM_O01|1|P|2.5.1\r";

/// A certificate and its key, in PEM.
struct Identity {
    chain: String,
    key: String,
}

/// A certificate authority able to sign leaf certificates.
struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        Authority { issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap() }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Identity {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("client"));
        params.extended_key_usages = vec![usage];
        let certificate = params.signed_by(&key, &*self.issuer).unwrap();
        Identity { chain: certificate.pem(), key: key.serialize_pem() }
    }
}

struct Pki {
    ca: Authority,
    server: Identity,
    client: Identity,
    /// Signed by a CA the server does not trust.
    stranger: Identity,
}

fn pki() -> Pki {
    let ca = Authority::new("test CA");
    let server = ca.issue(&["localhost", "127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
    let client = ca.issue(&["ris.test"], ExtendedKeyUsagePurpose::ClientAuth);
    let stranger = Authority::new("other CA").issue(&["stranger.test"], ExtendedKeyUsagePurpose::ClientAuth);
    Pki { ca, server, client, stranger }
}

fn acceptor(pki: &Pki, mutual: bool) -> TlsAcceptor {
    let client_ca = pki.ca.pem();
    let config = tls::server_config(
        pki.server.chain.as_bytes(),
        pki.server.key.as_bytes(),
        mutual.then_some(client_ca.as_bytes()),
    )
    .unwrap();
    TlsAcceptor::from(config)
}

fn connector(pki: &Pki, identity: Option<&Identity>, name: &str) -> Option<(TlsConnector, ServerName<'static>)> {
    let config =
        tls::client_config(pki.ca.pem().as_bytes(), identity.map(|id| (id.chain.as_bytes(), id.key.as_bytes())))
            .unwrap();
    Some((TlsConnector::from(config), tls::server_name(name).unwrap()))
}

/// Connects and sends one message.
async fn exchange(
    addr: std::net::SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    config: &Config,
) -> Result<Vec<u8>, ClientError> {
    bounded(async {
        let mut client = Client::connect(addr, tls, config).await?;
        let answer = client.send(MSG).await?;
        client.close().await;
        Ok(answer)
    })
    .await
}

fn ack() -> Vec<u8> {
    [b"ACK:".as_slice(), MSG].concat()
}

#[tokio::test]
async fn round_trip_over_tls_by_name_and_by_address() {
    let pki = pki();
    let server = Server::start(test_config(), Some(acceptor(&pki, false)), Recorder::default()).await;
    assert_eq!(exchange(server.addr, connector(&pki, None, "localhost"), &test_config()).await.unwrap(), ack());
    assert_eq!(exchange(server.addr, connector(&pki, None, "127.0.0.1"), &test_config()).await.unwrap(), ack());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_by_the_client() {
    let pki = pki();
    let server = Server::start(test_config(), Some(acceptor(&pki, false)), Recorder::default()).await;
    let error = exchange(server.addr, connector(&pki, None, "ris.example"), &test_config()).await.unwrap_err();
    assert!(matches!(error, ClientError::Tls { .. }), "{error:?}");
    assert!(!error.is_retryable());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn mutual_tls_needs_a_client_certificate_from_the_trusted_ca() {
    let pki = pki();
    let server = Server::start(test_config(), Some(acceptor(&pki, true)), Recorder::default()).await;
    // With TLS 1.3 the client finishes its side of the handshake before the server checks the
    // certificate: the server's alert then arrives on the first read, still as a TLS error.
    let without = exchange(server.addr, connector(&pki, None, "localhost"), &test_config()).await;
    assert!(matches!(&without, Err(ClientError::Tls { .. })), "{without:?}");
    let stranger = exchange(server.addr, connector(&pki, Some(&pki.stranger), "localhost"), &test_config()).await;
    assert!(matches!(&stranger, Err(ClientError::Tls { .. })), "{stranger:?}");
    server
        .handler
        .wait_for(|seen| seen.iter().filter(|s| **s == Seen::Closed("tls handshake".into())).count() == 2)
        .await;
    assert!(!server.handler.seen().iter().any(|s| matches!(s, Seen::Message(_))), "nothing reached the handler");
    let with = exchange(server.addr, connector(&pki, Some(&pki.client), "localhost"), &test_config()).await;
    assert_eq!(with.unwrap(), ack());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_plaintext_client_against_a_tls_server_fails_cleanly() {
    let pki = pki();
    let server = Server::start(test_config(), Some(acceptor(&pki, false)), Recorder::default()).await;
    let error = exchange(server.addr, None, &test_config()).await.unwrap_err();
    // The server answers the bad handshake with an alert (bytes outside any frame) and closes.
    assert!(matches!(error, ClientError::Frame(_) | ClientError::Closed | ClientError::Io(_)), "{error:?}");
    server.handler.wait_for(|seen| seen.contains(&Seen::Closed("tls handshake".into()))).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_tls_client_against_a_plaintext_server_fails_cleanly() {
    let pki = pki();
    // The hello is bytes outside any frame to a plaintext server, dropped after read_timeout.
    let config = Config { read_timeout: Duration::from_millis(200), ..test_config() };
    let server = Server::start(config, None, Recorder::default()).await;
    let error = exchange(server.addr, connector(&pki, None, "localhost"), &test_config()).await.unwrap_err();
    assert!(matches!(error, ClientError::Tls { .. }), "{error:?}");
    server.handler.wait_for(|seen| seen.iter().any(|s| matches!(s, Seen::Invalid(_)))).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn connect_timeout_covers_a_handshake_that_never_ends() {
    let pki = pki();
    // Accepts and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mute = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
        drop(stream);
    });
    let config = Config { connect_timeout: Duration::from_millis(300), ..test_config() };
    let error = bounded(Client::connect(addr, connector(&pki, None, "localhost"), &config)).await.unwrap_err();
    assert!(matches!(error, ClientError::Timeout { stage: Stage::Connect, .. }), "{error:?}");
    assert_eq!(error.to_string(), "timed out connecting after 300ms");
    mute.abort();
}

/// A fresh folder for PEM files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hl7-mllp-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn configurations_from_files_work_end_to_end() {
    let pki = pki();
    let dir = scratch("files");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let ca = write("ca.pem", &pki.ca.pem());
    let server_chain = write("server.pem", &pki.server.chain);
    let server_key = write("server.key", &pki.server.key);
    let client_chain = write("client.pem", &pki.client.chain);
    let client_key = write("client.key", &pki.client.key);
    let server_config = tls::server_config_from_files(&server_chain, &server_key, Some(&ca)).unwrap();
    let client_config = tls::client_config_from_files(&ca, Some((&client_chain, &client_key))).unwrap();
    let server = Server::start(test_config(), Some(TlsAcceptor::from(server_config)), Recorder::default()).await;
    let tls = Some((TlsConnector::from(client_config), tls::server_name("localhost").unwrap()));
    assert_eq!(exchange(server.addr, tls, &test_config()).await.unwrap(), ack());
    server.stop().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn configuration_errors_say_what_is_wrong_and_where() {
    let pki = pki();
    let (chain, key) = (pki.server.chain.as_bytes(), pki.server.key.as_bytes());

    let error = tls::server_config(b"", key, None).unwrap_err();
    assert!(matches!(error, TlsError::NoCertificate { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "server certificate chain in PEM data: no certificate found (expected a -----BEGIN CERTIFICATE----- section)"
    );

    let error = tls::server_config(chain, chain, None).unwrap_err();
    assert!(matches!(error, TlsError::NoKey { .. }), "{error:?}");

    let error =
        tls::server_config(chain, b"-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n", None).unwrap_err();
    assert!(matches!(error, TlsError::Pem { .. }), "{error:?}");

    // The client's key does not belong to the server's certificate.
    let error = tls::server_config(chain, pki.client.key.as_bytes(), None).unwrap_err();
    assert!(matches!(error, TlsError::BadIdentity { .. }), "{error:?}");

    let error = tls::client_config(b"no PEM here", None).unwrap_err();
    assert!(matches!(error, TlsError::NoCertificate { what: "trusted CA certificates", .. }), "{error:?}");

    let missing = std::path::Path::new("/nonexistent/hl7-mllp/server.pem");
    let error = tls::server_config_from_files(missing, missing, None).unwrap_err();
    assert!(matches!(error, TlsError::Read { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("cannot read the server certificate chain file /nonexistent/hl7-mllp/server.pem: "),
        "{error}"
    );

    let dir = scratch("errors");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let error = tls::client_config_from_files(&empty, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "trusted CA certificates in file {}: no certificate found (expected a -----BEGIN CERTIFICATE----- section)",
            empty.display()
        )
    );
    std::fs::remove_dir_all(dir).unwrap();

    assert!(matches!(tls::server_name("not a host name!"), Err(TlsError::ServerName { .. })));
}

#[tokio::test]
async fn a_handshake_takes_no_slot_and_has_its_own_timeout() {
    let pki = pki();
    let config = Config { max_connections: 2, handshake_timeout: Duration::from_millis(800), ..test_config() };
    let server = Server::start(config, Some(acceptor(&pki, false)), Recorder::default()).await;
    // Connects and never starts the handshake: it holds one of the handshake slots, not one of
    // the two connection slots.
    let mut mute = bounded(tokio::net::TcpStream::connect(server.addr)).await.unwrap();
    server.handler.wait_for(|seen| seen.contains(&Seen::Accepted)).await;
    let mut first = bounded(Client::connect(server.addr, connector(&pki, None, "localhost"), &test_config())).await.unwrap();
    assert_eq!(bounded(first.send(MSG)).await.unwrap(), ack());
    let mut second = bounded(Client::connect(server.addr, connector(&pki, None, "localhost"), &test_config())).await.unwrap();
    assert_eq!(bounded(second.send(MSG)).await.unwrap(), ack(), "two connections served beside a pending handshake");
    // The mute one is closed at the handshake timeout, not the idle timeout.
    expect_closed(&mut mute).await;
    server.handler.wait_for(|seen| seen.contains(&Seen::Closed("tls handshake timeout".into()))).await;
    first.close().await;
    second.close().await;
    server.stop().await.unwrap();
}
