//! The client's identity and trust: facts about the certificate (version, validity, key match), the pair
//! checked to belong together, and the rustls configuration that presents it. Pure: no network, and nothing
//! here ever formats a secret value into an error.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::client::ResolvesClientCert;
use rustls::pki_types::CertificateDer;
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::{ClientConfig, RootCertStore, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::duration::rfc3339;
use crate::error::Problem;
use crate::tls::input::{Input, read_certificates, read_private_key};

/// What a certificate says about itself, for pre-flight checks and `cert inspect`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    /// X.509 version as people say it: 1 or 3.
    pub version: u32,
    pub key_type: String,
    pub key_bits: usize,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// Whether the certificate allows client authentication; `None` when it has no extendedKeyUsage at all.
    pub client_auth: Option<bool>,
    #[serde(skip)]
    spki: Vec<u8>,
}

impl CertFacts {
    /// Reads the facts from a DER certificate.
    pub fn from_der(name: &str, der: &CertificateDer<'_>) -> Result<Self, Problem> {
        let (_, cert) = X509Certificate::from_der(der.as_ref()).map_err(|_| {
            Problem::new(
                name,
                "holds a CERTIFICATE block that is not a valid X.509 certificate",
            )
        })?;
        let (key_type, key_bits) = match cert.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => ("RSA".to_string(), rsa.key_size()),
            Ok(PublicKey::EC(ec)) => ("EC".to_string(), ec.key_size()),
            Ok(other) => (
                format!("{other:?}")
                    .chars()
                    .take_while(|c| c.is_alphanumeric())
                    .collect(),
                0,
            ),
            Err(_) => ("unknown".to_string(), 0),
        };
        let client_auth = match cert.extended_key_usage() {
            Ok(Some(eku)) => Some(eku.value.client_auth || eku.value.any),
            _ => None,
        };
        // Names are chosen by whoever made the certificate: no control or bidi character may reach a terminal.
        Ok(Self {
            subject: crate::redact::printable(&cert.subject().to_string()),
            issuer: crate::redact::printable(&cert.issuer().to_string()),
            serial: cert.raw_serial_as_string(),
            version: cert.version().0 + 1,
            key_type,
            key_bits,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            client_auth,
            spki: cert.public_key().subject_public_key.data.to_vec(),
        })
    }

    /// Counts whole days from `now` until the certificate expires (negative once expired).
    pub fn days_left(&self, now: SystemTime) -> i64 {
        // Toward zero: expired 3 days and 1 second ago is 3 days, as a person counts (not 4).
        (self.not_after - unix_seconds(now)) / 86_400
    }

    /// Tells whether the certificate has expired at `now` (its last valid second is `not_after`).
    pub fn expired(&self, now: SystemTime) -> bool {
        unix_seconds(now) > self.not_after
    }

    /// Explains why the certificate is not valid at `now`, with its dates.
    pub fn validity_problem(&self, name: &str, at: SystemTime) -> Option<Problem> {
        let now = unix_seconds(at);
        if now < self.not_before {
            Some(Problem::new(
                name,
                format!(
                    "the client certificate is not valid yet (valid from {}); check the clock or reissue it",
                    rfc3339(self.not_before)
                ),
            ))
        } else if self.expired(at) {
            Some(Problem::new(
                name,
                format!(
                    "the client certificate expired on {}; issue a new one (scripts/generate-client-certificate.sh)",
                    rfc3339(self.not_after)
                ),
            ))
        } else {
            None
        }
    }

    /// Tells whether the private key belongs to this certificate; `None` when the key cannot say.
    pub fn matches_key(&self, key: &dyn SigningKey) -> Option<bool> {
        let spki = key.public_key()?;
        let (_, parsed) = SubjectPublicKeyInfo::from_der(spki.as_ref()).ok()?;
        Some(parsed.subject_public_key.data.as_ref() == self.spki.as_slice())
    }
}

/// Facts for unit tests elsewhere: a v3 client certificate valid between these seconds since the epoch.
#[cfg(test)]
pub(crate) fn facts_valid(not_before: i64, not_after: i64) -> CertFacts {
    CertFacts {
        subject: String::new(),
        issuer: String::new(),
        serial: String::new(),
        version: 3,
        key_type: "EC".into(),
        key_bits: 256,
        not_before,
        not_after,
        client_auth: Some(true),
        spki: Vec::new(),
    }
}

fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// A client certificate chain with its key, checked to belong together.
pub struct ClientIdentity {
    key: Arc<CertifiedKey>,
    /// Facts about the leaf certificate.
    pub facts: CertFacts,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIdentity([redacted])")
    }
}

impl ClientIdentity {
    /// Builds the identity, collecting every problem with the certificate and the key.
    pub fn load(cert: (&str, &Input), key: (&str, &Input)) -> Result<Self, Vec<Problem>> {
        let chain = read_certificates(cert.0, cert.1);
        let signer = read_private_key(key.0, key.1);
        let facts = chain
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|c| CertFacts::from_der(cert.0, &c[0]));
        match (chain, signer, facts) {
            (Ok(chain), Ok(signer), Ok(facts)) => {
                if facts.matches_key(signer.as_ref()) == Some(false) {
                    return Err(vec![Problem::new(
                        format!("{} and {}", cert.0, key.0),
                        "the private key does not belong to the certificate; check both come from the same pair",
                    )]);
                }
                Ok(Self {
                    key: Arc::new(CertifiedKey::new(chain, signer)),
                    facts,
                })
            }
            (chain, signer, facts) => {
                let mut problems: Vec<Problem> =
                    [chain.err(), facts.err()].into_iter().flatten().collect();
                problems.dedup();
                problems.extend(signer.err());
                Err(problems)
            }
        }
    }
}

/// Presents one fixed identity. rustls' own loader checks the pair by parsing the certificate with webpki,
/// which refuses X.509 v1 certificates; we check the pair ourselves (`CertFacts::matches_key`) and still present v1.
struct FixedIdentity(Arc<CertifiedKey>);

impl std::fmt::Debug for FixedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedIdentity([redacted])")
    }
}

impl ResolvesClientCert for FixedIdentity {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Builds the trust store: the built-in Mozilla roots plus any private CA certificates.
pub fn root_store(name: &str, extra: &[CertificateDer<'static>]) -> Result<RootCertStore, Problem> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for cert in extra {
        roots.add(cert.clone()).map_err(|_| {
            Problem::new(
                name,
                "holds a certificate that cannot be used as a trust anchor",
            )
        })?;
    }
    Ok(roots)
}

/// Builds the TLS client configuration: ring, safe protocol versions, the given roots, and the identity when
/// there is one (without, no client certificate is presented).
pub fn client_config(roots: RootCertStore, identity: Option<&ClientIdentity>) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots);
    let mut config = match identity {
        Some(identity) => {
            builder.with_client_cert_resolver(Arc::new(FixedIdentity(Arc::clone(&identity.key))))
        }
        None => builder.with_no_client_auth(),
    };
    // No session tickets or IDs: every attempt is a full handshake that presents the client certificate,
    // which is what a heartbeat is there to test.
    config.resumption = rustls::client::Resumption::disabled();
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_before_1970_are_negative_seconds() {
        let ten = Duration::from_secs(10);
        assert_eq!(unix_seconds(UNIX_EPOCH + ten), 10);
        assert_eq!(unix_seconds(UNIX_EPOCH - ten), -10);
    }

    #[test]
    fn days_left_counts_whole_days() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let facts = facts_valid(0, 1_000_000 + 86_400 * 3 + 5);
        assert_eq!(facts.days_left(now), 3);
        assert!(facts.validity_problem("MTLS_CERT", now).is_none());
        let last_second = UNIX_EPOCH + Duration::from_secs(facts.not_after as u64);
        assert!(!facts.expired(last_second) && facts.expired(last_second + Duration::from_secs(1)));
        // Expired 3 days and a second (and 3 days less a second) ago: 3 and 2 whole days, toward zero.
        let expired = now + Duration::from_secs(86_400 * 6 + 6);
        assert_eq!(facts.days_left(expired), -3);
        assert_eq!(
            facts.days_left(now + Duration::from_secs(86_400 * 6 + 4)),
            -2
        );
        let later = now + Duration::from_secs(86_400 * 4);
        assert!(
            facts
                .validity_problem("MTLS_CERT", later)
                .unwrap()
                .message
                .contains("expired on")
        );
    }
}
