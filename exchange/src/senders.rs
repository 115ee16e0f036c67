//! Who may send to a receiver: the `--senders` file of `telerad serve`.
//!
//! A JSON array, one object per sender:
//!
//! ```json
//! [
//!   { "application": "RIS", "facility": "CHU_X",
//!     "certificates": ["C=FR, O=CHU X, CN=ris.chu-x.example"],
//!     "addresses": ["192.0.2.10", "127.0.0.1"] }
//! ]
//! ```
//!
//! `application` and `facility` are MSH-3 and MSH-4 as the message writes them (every
//! component, as the store keeps them: `RIS`, or `RIS^1.2.250.1.71^ISO`). A message from that
//! sender is allowed when its connection presented a TLS client certificate whose subject is
//! one of `certificates` (the text of [`hl7_mllp::peer`], compared exactly), **or** came from
//! one of `addresses` (IPv4 or IPv6; an IPv4-mapped IPv6 address counts as the IPv4 one). A
//! sender that is not listed is not allowed. Unknown keys, a sender listed twice, or a sender
//! with neither certificates nor addresses are errors (`serve` exits 2).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use crate::receive::Sender;

/// One sender of the file (or of a `[[sender]]` table of `telerad serve --config`).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// MSH-3, as the message writes it.
    pub application: String,
    /// MSH-4, as the message writes it.
    pub facility: String,
    /// Subjects of the TLS client certificates it may send with.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Source addresses it may send from.
    #[serde(default)]
    pub addresses: Vec<IpAddr>,
}

/// The connections allowed for one sender.
#[derive(Clone, Debug, Default)]
struct Allowed {
    certificates: HashSet<String>,
    addresses: HashSet<IpAddr>,
}

/// Where a message came from: what a senders file can recognise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The source address of the connection.
    pub address: Option<IpAddr>,
    /// The subject of the TLS client certificate ([`hl7_mllp::client_certificate_subject`]).
    pub certificate: Option<String>,
}

/// The senders allowed, by (MSH-3, MSH-4).
#[derive(Clone, Debug, Default)]
pub struct Senders {
    allowed: HashMap<(String, String), Allowed>,
}

impl Senders {
    /// Reads a senders file.
    pub fn load(path: &Path) -> Result<Senders, String> {
        let text = std::fs::read(path).map_err(|e| format!("cannot read the senders file {}: {e}", path.display()))?;
        Senders::parse(&text).map_err(|e| format!("senders file {}: {e}", path.display()))
    }

    /// Parses the JSON text of a senders file.
    pub fn parse(text: &[u8]) -> Result<Senders, String> {
        let entries: Vec<Entry> = serde_json::from_slice(text).map_err(|e| e.to_string())?;
        Senders::from_entries(entries)
    }

    /// The senders of a parsed file; the same checks as [`Senders::parse`].
    pub fn from_entries(entries: Vec<Entry>) -> Result<Senders, String> {
        let mut allowed = HashMap::new();
        for (i, e) in entries.into_iter().enumerate() {
            let name = format!("sender {} (`{}` / `{}`)", i + 1, e.application, e.facility);
            if e.application.trim().is_empty() || e.facility.trim().is_empty() {
                return Err(format!("{name}: application and facility must not be empty"));
            }
            if e.certificates.is_empty() && e.addresses.is_empty() {
                return Err(format!("{name}: give certificates or addresses (a sender that is not listed is not allowed anyway)"));
            }
            if e.certificates.iter().any(|c| c.trim().is_empty()) {
                return Err(format!("{name}: an empty certificate subject"));
            }
            let entry = Allowed { certificates: e.certificates.into_iter().collect(), addresses: e.addresses.into_iter().map(|a| a.to_canonical()).collect() };
            if allowed.insert((e.application.clone(), e.facility.clone()), entry).is_some() {
                return Err(format!("{name} is listed twice"));
            }
        }
        Ok(Senders { allowed })
    }

    /// Whether `sender` may send from `origin`.
    pub fn allows(&self, sender: &Sender, origin: &Origin) -> bool {
        let Some(allowed) = self.allowed.get(&(sender.application.clone(), sender.facility.clone())) else {
            return false;
        };
        origin.certificate.as_ref().is_some_and(|c| allowed.certificates.contains(c)) || origin.address.is_some_and(|a| allowed.addresses.contains(&a.to_canonical()))
    }

    /// How many senders are listed.
    pub fn len(&self) -> usize {
        self.allowed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(application: &str, facility: &str) -> Sender {
        Sender { application: application.into(), facility: facility.into() }
    }

    fn origin(address: Option<&str>, certificate: Option<&str>) -> Origin {
        Origin { address: address.map(|a| a.parse().unwrap()), certificate: certificate.map(Into::into) }
    }

    #[test]
    fn a_sender_is_allowed_by_its_certificate_or_its_address() {
        let s = Senders::parse(
            br#"[{"application": "RIS", "facility": "CHU_X", "certificates": ["C=FR, CN=ris"], "addresses": ["192.0.2.10"]},
                 {"application": "RIS^1.2.3^ISO", "facility": "CHU_Y", "addresses": ["::1"]}]"#,
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        let ris = sender("RIS", "CHU_X");
        assert!(s.allows(&ris, &origin(Some("127.0.0.1"), Some("C=FR, CN=ris"))));
        assert!(s.allows(&ris, &origin(Some("192.0.2.10"), None)));
        assert!(s.allows(&ris, &origin(Some("::ffff:192.0.2.10"), None)), "IPv4-mapped");
        assert!(!s.allows(&ris, &origin(Some("127.0.0.1"), None)));
        assert!(!s.allows(&ris, &origin(Some("127.0.0.1"), Some("CN=ris"))), "the whole subject");
        assert!(!s.allows(&ris, &origin(None, Some("c=fr, cn=ris"))));
        // Another sender's connection does not make this one allowed.
        assert!(!s.allows(&sender("RIS", "CHU_Y"), &origin(Some("192.0.2.10"), Some("C=FR, CN=ris"))));
        assert!(s.allows(&sender("RIS^1.2.3^ISO", "CHU_Y"), &origin(Some("::1"), None)));
        assert!(!s.allows(&sender("RIS", "CHU_Y"), &origin(Some("::1"), None)), "MSH-3 as written, every component");
        assert!(!s.allows(&sender("", ""), &origin(Some("::1"), None)));
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        for (text, says) in [
            (&b"{}"[..], "invalid type"),
            (b"[{\"application\": \"RIS\", \"facility\": \"X\", \"addresses\": [\"localhost\"]}]", "invalid IP address"),
            (b"[{\"application\": \"RIS\", \"facility\": \"X\"}]", "give certificates or addresses"),
            (b"[{\"application\": \"RIS\", \"facility\": \"X\", \"addresses\": [\"::1\"], \"adresses\": []}]", "unknown field"),
            (b"[{\"application\": \"\", \"facility\": \"X\", \"addresses\": [\"::1\"]}]", "must not be empty"),
            (b"[{\"application\": \"R\", \"facility\": \"X\", \"certificates\": [\" \"]}]", "empty certificate"),
            (b"[{\"application\": \"R\", \"facility\": \"X\", \"addresses\": [\"::1\"]}, {\"application\": \"R\", \"facility\": \"X\", \"addresses\": [\"::2\"]}]", "listed twice"),
            (b"\xff", "expected value"),
        ] {
            let e = Senders::parse(text).unwrap_err();
            assert!(e.contains(says), "{}: {e}", String::from_utf8_lossy(text));
        }
        assert!(Senders::parse(b"[]").unwrap().is_empty());
    }
}
