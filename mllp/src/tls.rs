//! rustls configurations for MLLP over TLS, from PEM bytes or files.
//!
//! Every configuration is built with the ring provider passed explicitly, so no process-wide
//! default provider has to be installed. TLS 1.2 and 1.3 are enabled (rustls' safe defaults).
//!
//! ```no_run
//! # fn run() -> Result<(), hl7_mllp::tls::TlsError> {
//! use std::path::Path;
//! use hl7_mllp::tls;
//! // Server with mutual TLS: only clients holding a certificate signed by ca.pem get in.
//! let server = tls::server_config_from_files(
//!     Path::new("server.pem"), Path::new("server.key"), Some(Path::new("ca.pem")))?;
//! let acceptor = tokio_rustls::TlsAcceptor::from(server);
//! // Client presenting its own certificate.
//! let client = tls::client_config_from_files(
//!     Path::new("ca.pem"), Some((Path::new("client.pem"), Path::new("client.key"))))?;
//! let tls = Some((tokio_rustls::TlsConnector::from(client), tls::server_name("ris.example")?));
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// A TLS configuration problem, naming the file (or PEM data) and what it should hold.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read the {what} file {path}: {source}", path = path.display())]
    Read {
        /// What the file should hold ("server certificate chain", ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error from the system.
        source: std::io::Error,
    },
    /// The PEM text is malformed.
    #[error("{what} in {origin}: malformed PEM: {source}")]
    Pem {
        /// What the PEM should hold.
        what: &'static str,
        /// The file, or "PEM data".
        origin: Origin,
        /// The PEM decoder's error.
        source: pem::Error,
    },
    /// The PEM holds no `CERTIFICATE` section.
    #[error("{what} in {origin}: no certificate found (expected a -----BEGIN CERTIFICATE----- section)")]
    NoCertificate {
        /// What the PEM should hold.
        what: &'static str,
        /// The file, or "PEM data".
        origin: Origin,
    },
    /// The PEM holds no private key (PKCS#8, PKCS#1 or SEC1).
    #[error("{what} in {origin}: no private key found (expected a -----BEGIN PRIVATE KEY----- section)")]
    NoKey {
        /// What the PEM should hold.
        what: &'static str,
        /// The file, or "PEM data".
        origin: Origin,
    },
    /// rustls refused the certificate chain and key (unsupported key, key not matching the
    /// certificate, ...).
    #[error("{what} rejected: {source}")]
    BadIdentity {
        /// Whose identity ("server certificate and key", "client certificate and key").
        what: &'static str,
        /// rustls' reason.
        source: rustls::Error,
    },
    /// A certificate could not be used as a trust anchor.
    #[error("{what} in {origin}: certificate not usable as a trust anchor: {source}")]
    BadTrustAnchor {
        /// What the PEM should hold.
        what: &'static str,
        /// The file, or "PEM data".
        origin: Origin,
        /// rustls' reason.
        source: rustls::Error,
    },
    /// The client-certificate verifier could not be built from the CA certificates.
    #[error("client CA certificates: {0}")]
    ClientVerifier(#[source] rustls::server::VerifierBuilderError),
    /// rustls refused the protocol versions with the ring provider (should not happen).
    #[error("TLS protocol setup: {0}")]
    Protocol(#[source] rustls::Error),
    /// Not a DNS name or IP address to verify a server certificate against.
    #[error("invalid TLS server name {name:?}: {source}")]
    ServerName {
        /// The name as given.
        name: String,
        /// Why it is invalid.
        source: rustls_pki_types::InvalidDnsNameError,
    },
}

/// Where PEM text came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Bytes passed in memory.
    Bytes,
    /// A file.
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Bytes => f.write_str("PEM data"),
            Origin::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// PEM text and where it came from.
struct Pem<'a> {
    text: &'a [u8],
    origin: Origin,
}

impl Pem<'_> {
    fn bytes(text: &[u8]) -> Pem<'_> {
        Pem { text, origin: Origin::Bytes }
    }

    /// Every certificate, in order; at least one.
    fn certificates(&self, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let certificates = CertificateDer::pem_slice_iter(self.text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TlsError::Pem { what, origin: self.origin.clone(), source })?;
        if certificates.is_empty() {
            return Err(TlsError::NoCertificate { what, origin: self.origin.clone() });
        }
        Ok(certificates)
    }

    /// The first private key.
    fn private_key(&self, what: &'static str) -> Result<PrivateKeyDer<'static>, TlsError> {
        PrivateKeyDer::from_pem_slice(self.text).map_err(|source| match source {
            pem::Error::NoItemsFound => TlsError::NoKey { what, origin: self.origin.clone() },
            source => TlsError::Pem { what, origin: self.origin.clone(), source },
        })
    }

    /// A root store holding every certificate.
    fn roots(&self, what: &'static str) -> Result<RootCertStore, TlsError> {
        let mut roots = RootCertStore::empty();
        for certificate in self.certificates(what)? {
            roots.add(certificate).map_err(|source| TlsError::BadTrustAnchor {
                what,
                origin: self.origin.clone(),
                source,
            })?;
        }
        Ok(roots)
    }
}

/// Holds a file's text for the time of the build.
struct PemFile {
    text: Vec<u8>,
    path: PathBuf,
}

impl PemFile {
    fn read(path: &Path, what: &'static str) -> Result<PemFile, TlsError> {
        let text = std::fs::read(path).map_err(|source| TlsError::Read { what, path: path.to_owned(), source })?;
        Ok(PemFile { text, path: path.to_owned() })
    }

    fn pem(&self) -> Pem<'_> {
        Pem { text: &self.text, origin: Origin::File(self.path.clone()) }
    }
}

const SERVER_CHAIN: &str = "server certificate chain";
const SERVER_KEY: &str = "server private key";
const CLIENT_CA: &str = "client CA certificates";
const TRUST_ROOTS: &str = "trusted CA certificates";
const CLIENT_CHAIN: &str = "client certificate chain";
const CLIENT_KEY: &str = "client private key";

fn ring() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration from PEM text: the certificate chain (leaf first), its private key,
/// and, for mutual TLS, the CA certificates client certificates must chain to (a client without
/// a valid certificate then fails the handshake).
pub fn server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: Option<&[u8]>,
) -> Result<Arc<ServerConfig>, TlsError> {
    build_server(Pem::bytes(cert_chain_pem), Pem::bytes(key_pem), client_ca_pem.map(Pem::bytes))
}

/// [`server_config`] from PEM files.
pub fn server_config_from_files(
    cert_chain: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = PemFile::read(cert_chain, SERVER_CHAIN)?;
    let key = PemFile::read(key, SERVER_KEY)?;
    let client_ca = client_ca.map(|path| PemFile::read(path, CLIENT_CA)).transpose()?;
    build_server(chain.pem(), key.pem(), client_ca.as_ref().map(PemFile::pem))
}

fn build_server(chain: Pem<'_>, key: Pem<'_>, client_ca: Option<Pem<'_>>) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = chain.certificates(SERVER_CHAIN)?;
    let key = key.private_key(SERVER_KEY)?;
    let provider = ring();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocol)?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let roots = Arc::new(ca.roots(CLIENT_CA)?);
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(TlsError::ClientVerifier)?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|source| TlsError::BadIdentity { what: "server certificate and key", source })?;
    Ok(Arc::new(config))
}

/// A client configuration from PEM text: the CA certificates to trust (only these: the system
/// store is not read), and, for mutual TLS, the client's certificate chain and private key.
pub fn client_config(roots_pem: &[u8], identity: Option<(&[u8], &[u8])>) -> Result<Arc<ClientConfig>, TlsError> {
    build_client(Pem::bytes(roots_pem), identity.map(|(chain, key)| (Pem::bytes(chain), Pem::bytes(key))))
}

/// [`client_config`] from PEM files: `identity` is (certificate chain, private key).
pub fn client_config_from_files(roots: &Path, identity: Option<(&Path, &Path)>) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = PemFile::read(roots, TRUST_ROOTS)?;
    let identity = identity
        .map(|(chain, key)| Ok::<_, TlsError>((PemFile::read(chain, CLIENT_CHAIN)?, PemFile::read(key, CLIENT_KEY)?)))
        .transpose()?;
    build_client(roots.pem(), identity.as_ref().map(|(chain, key)| (chain.pem(), key.pem())))
}

fn build_client(roots: Pem<'_>, identity: Option<(Pem<'_>, Pem<'_>)>) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = roots.roots(TRUST_ROOTS)?;
    let builder = ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocol)?
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder
            .with_client_auth_cert(chain.certificates(CLIENT_CHAIN)?, key.private_key(CLIENT_KEY)?)
            .map_err(|source| TlsError::BadIdentity { what: "client certificate and key", source })?,
    };
    Ok(Arc::new(config))
}

/// The name a server certificate is checked against: a DNS name or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_owned()).map_err(|source| TlsError::ServerName { name: host.to_owned(), source })
}
