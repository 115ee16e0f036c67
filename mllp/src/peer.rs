//! Who is at the other end of a TLS connection: the subject of the client certificate.
//!
//! With mutual TLS (a server configuration built with client CA certificates, see
//! [`crate::tls::server_config`]), the certificate the client presented in the handshake has
//! been verified by rustls before any frame is read. While the server runs [`Handler::handle`]
//! for an event of that connection, [`client_certificate_subject`] returns the certificate's
//! subject; it returns `None` on a plain TCP connection, on a TLS connection without a client
//! certificate, and outside a handler (it reads a value scoped to the connection's task, so a
//! handler that wants it on another task reads it first and passes it on).
//!
//! # The subject's text
//!
//! The relative distinguished names in the certificate's order (as `openssl x509 -subject`
//! lists them, not reversed as RFC 4514 does), separated by `, `, the attributes of a
//! multi-valued one by ` + `; each attribute is `<short name>=<value>` (`CN`, `O`, `OU`, `C`,
//! `L`, `ST`, … or the dotted OID when the name is unknown), e.g.
//! `C=FR, O=CHU X, CN=ris.chu-x.example`. In a value, the characters `,` `+` `"` `\` `<` `>`
//! `;` `=`, a leading `#` or space and a trailing space are escaped with `\` (as RFC 4514
//! does), so that no value can pass for another attribute. A value that is not a string type
//! (or not valid UTF-8) is written `#` followed by its bytes in hexadecimal.
//!
//! [`Handler::handle`]: crate::Handler::handle

use std::fmt::Write as _;
use std::future::Future;

use x509_parser::objects::{oid2abbrev, oid_registry};
use x509_parser::prelude::{FromDer, X509Certificate};

tokio::task_local! {
    static CLIENT_SUBJECT: Option<String>;
}

/// The subject of the TLS client certificate of the connection whose event the current
/// handler is handling (see the [module documentation](self)); `None` when there is none.
pub fn client_certificate_subject() -> Option<String> {
    CLIENT_SUBJECT.try_with(Clone::clone).ok().flatten()
}

/// Runs `connection` with `subject` as the connection's [`client_certificate_subject`].
pub(crate) async fn with_client_subject<F: Future>(subject: Option<String>, connection: F) -> F::Output {
    CLIENT_SUBJECT.scope(subject, connection).await
}

/// The subject of the certificate a TLS client presented, if any.
pub(crate) fn client_subject<S>(stream: &tokio_rustls::server::TlsStream<S>) -> Option<String> {
    let (_, connection) = stream.get_ref();
    subject_of_certificate(connection.peer_certificates()?.first()?.as_ref())
}

/// The subject of a DER-encoded X.509 certificate, as the [module documentation](self) writes
/// it; `None` when the bytes are not a certificate.
pub fn subject_of_certificate(der: &[u8]) -> Option<String> {
    let (_, certificate) = X509Certificate::from_der(der).ok()?;
    let mut out = String::new();
    for (i, rdn) in certificate.subject().iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        for (j, attribute) in rdn.iter().enumerate() {
            if j > 0 {
                out.push_str(" + ");
            }
            let oid = attribute.attr_type();
            match oid2abbrev(oid, oid_registry()) {
                Ok(name) => out.push_str(name),
                Err(_) => out.push_str(&oid.to_id_string()),
            }
            out.push('=');
            match attribute.as_str() {
                Ok(value) => escape_into(value, &mut out),
                Err(_) => {
                    out.push('#');
                    for byte in attribute.as_slice() {
                        let _ = write!(out, "{byte:02x}");
                    }
                }
            }
        }
    }
    Some(out)
}

/// Appends `value` with RFC 4514's escapes (and `=` escaped too).
fn escape_into(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair};

    fn certificate(dn: &[(DnType, &str)]) -> Vec<u8> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (kind, value) in dn {
            params.distinguished_name.push(kind.clone(), *value);
        }
        params.self_signed(&KeyPair::generate().unwrap()).unwrap().der().to_vec()
    }

    #[test]
    fn subjects_in_certificate_order_with_escapes() {
        let der = certificate(&[(DnType::CountryName, "FR"), (DnType::OrganizationName, "CHU X"), (DnType::CommonName, "ris.chu-x.example")]);
        assert_eq!(subject_of_certificate(&der).as_deref(), Some("C=FR, O=CHU X, CN=ris.chu-x.example"));
        // A value cannot pass for another attribute.
        let der = certificate(&[(DnType::OrganizationName, "a, CN=ris.chu-x.example")]);
        assert_eq!(subject_of_certificate(&der).as_deref(), Some("O=a\\, CN\\=ris.chu-x.example"));
        let der = certificate(&[(DnType::CommonName, " #x+y;z ")]);
        assert_eq!(subject_of_certificate(&der).as_deref(), Some("CN=\\ #x\\+y\\;z\\ "));
        assert_eq!(subject_of_certificate(&certificate(&[])).as_deref(), Some(""));
    }

    #[test]
    fn not_a_certificate() {
        assert_eq!(subject_of_certificate(b""), None);
        assert_eq!(subject_of_certificate(b"\x30\x03\x02\x01\x01"), None);
        let der = certificate(&[(DnType::CommonName, "x")]);
        for cut in [1, der.len() / 2, der.len() - 1] {
            assert_eq!(subject_of_certificate(&der[..cut]), None, "cut at {cut}");
        }
    }

    #[tokio::test]
    async fn the_subject_is_scoped_to_the_connection() {
        assert_eq!(client_certificate_subject(), None);
        let seen = with_client_subject(Some("CN=a".into()), async { client_certificate_subject() }).await;
        assert_eq!(seen.as_deref(), Some("CN=a"));
        assert_eq!(with_client_subject(None, async { client_certificate_subject() }).await, None);
        assert_eq!(client_certificate_subject(), None);
    }
}
