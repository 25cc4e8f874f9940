//! The client's identity and trust: decoding certificate and key inputs (base64 of PEM, PEM, or a file),
//! facts about the certificate (version, validity, key match), and the rustls configuration that presents
//! it. Pure: no network, and nothing here ever formats a secret value into an error.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::{ClientConfig, RootCertStore, SignatureScheme};
use secrecy::{ExposeSecret, SecretString};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;
use zeroize::Zeroizing;

use crate::error::Problem;

/// Where a certificate or key comes from.
#[derive(Debug)]
pub enum Input {
    /// An environment value: base64 of a PEM file, PEM itself, or a path to a file.
    Value(SecretString),
    /// A file named on the command line.
    File(PathBuf),
}

/// Reads an input into PEM text, whatever form it came in. `name` labels every problem.
pub fn read_pem(name: &str, input: &Input) -> Result<Zeroizing<Vec<u8>>, Problem> {
    match input {
        Input::File(path) => read_file(name, path),
        Input::Value(value) => {
            let text = value.expose_secret().trim();
            if text.is_empty() {
                Err(Problem::new(
                    name,
                    "is empty; set it to base64 of a PEM file, PEM, or a file path",
                ))
            } else if text.contains("-----BEGIN") {
                Ok(Zeroizing::new(text.as_bytes().to_vec()))
            } else if looks_like_path(text) {
                read_file(name, Path::new(text))
            } else {
                decode_base64_pem(name, text)
            }
        }
    }
}

fn looks_like_path(text: &str) -> bool {
    // base64 has no spaces but may contain '/', so only an existing file counts as a path.
    text.len() < 4096 && Path::new(text).is_file()
}

fn read_file(name: &str, path: &Path) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let bytes = std::fs::read(path)
        .map_err(|e| Problem::new(name, format!("cannot read {}: {e}", path.display())))?;
    let bytes = Zeroizing::new(bytes);
    if bytes.windows(10).any(|w| w == b"-----BEGIN") {
        return Ok(bytes);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Problem::new(
            name,
            format!("{} is neither PEM nor base64 of PEM", path.display()),
        )
    })?;
    decode_base64_pem(name, text.trim())
}

/// Decodes base64 that may be wrapped over lines or have missing or extra padding, as CI contexts often hold it.
fn decode_base64_pem(name: &str, text: &str) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let positions: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace())
        .map(|(i, _)| i)
        .collect();
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    let unpadded = compact.trim_end_matches('=');
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let decoded = engine.decode(unpadded).map_err(|e| {
        // Name the position only: the offending byte is part of the secret.
        let detail = match e {
            base64::DecodeError::InvalidByte(offset, _) => format!(
                "unexpected character at position {}",
                positions.get(offset).copied().unwrap_or(offset) + 1
            ),
            base64::DecodeError::InvalidLength(_) => "its length is not that of base64".into(),
            base64::DecodeError::InvalidLastSymbol(offset, _) => {
                format!("bad last character at position {}", offset + 1)
            }
            base64::DecodeError::InvalidPadding => "bad padding".into(),
        };
        Problem::new(
            name,
            format!("not PEM, not an existing file, and not valid base64 ({detail}); set it to `base64 -w0 file.pem`"),
        )
    })?;
    let decoded = Zeroizing::new(decoded);
    if decoded.windows(10).any(|w| w == b"-----BEGIN") {
        Ok(decoded)
    } else {
        Err(Problem::new(
            name,
            "is valid base64 but decodes to something other than a PEM file; encode the whole .pem file",
        ))
    }
}

/// Parses every certificate in PEM text; the first is the client's own.
pub fn parse_certificates(name: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Problem> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    match certs {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        Ok(_) => Err(Problem::new(
            name,
            "has no CERTIFICATE block; is this the key instead of the certificate?",
        )),
        Err(e) => Err(Problem::new(
            name,
            format!("is not valid PEM ({})", pem_error(&e)),
        )),
    }
}

/// Parses a private key (PKCS#8, PKCS#1 RSA or SEC1 EC) into a signing key.
pub fn parse_private_key(name: &str, pem: &[u8]) -> Result<Arc<dyn SigningKey>, Problem> {
    if pem.windows(9).any(|w| w == b"ENCRYPTED") {
        return Err(Problem::new(
            name,
            "is an encrypted private key; provide it unencrypted (openssl pkey -in key.pem)",
        ));
    }
    let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        pem::Error::NoItemsFound => Problem::new(
            name,
            "has no PRIVATE KEY block (PKCS#8, PKCS#1 RSA or SEC1 EC); is this the certificate instead of the key?",
        ),
        e => Problem::new(name, format!("is not valid PEM ({})", pem_error(&e))),
    })?;
    rustls::crypto::ring::sign::any_supported_type(&der).map_err(|_| {
        Problem::new(
            name,
            "is not a usable private key (supported: RSA 2048-8192, ECDSA P-256/P-384)",
        )
    })
}

/// Describes a PEM error by its kind only: some variants carry the offending line, which may be secret.
fn pem_error(e: &pem::Error) -> &'static str {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a section has no END line",
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a section's body is not valid base64",
        pem::Error::NoItemsFound => "no PEM section found",
        pem::Error::SectionTooLarge => "a section is too large",
        _ => "unreadable",
    }
}

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
        Ok(Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
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
        (self.not_after - unix_seconds(now)).div_euclid(86_400)
    }

    /// Explains why the certificate is not valid at `now`, with its dates.
    pub fn validity_problem(&self, name: &str, now: SystemTime) -> Option<Problem> {
        let now = unix_seconds(now);
        if now < self.not_before {
            Some(Problem::new(
                name,
                format!(
                    "the client certificate is not valid yet (valid from {}); check the clock or reissue it",
                    rfc3339(self.not_before)
                ),
            ))
        } else if now > self.not_after {
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

fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// Formats Unix seconds as an RFC 3339 date for messages.
pub fn rfc3339(seconds: i64) -> String {
    let time = if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    };
    humantime::format_rfc3339_seconds(time).to_string()
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
        let chain = read_pem(cert.0, cert.1).and_then(|pem| parse_certificates(cert.0, &pem));
        let signer = read_pem(key.0, key.1).and_then(|pem| parse_private_key(key.0, &pem));
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

/// Builds the TLS client configuration: ring, safe protocol versions, the given roots, and the identity.
pub fn client_config(roots: RootCertStore, identity: &ClientIdentity) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(FixedIdentity(Arc::clone(&identity.key))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Input {
        Input::Value(SecretString::from(text.to_string()))
    }

    #[test]
    fn base64_with_line_breaks_and_missing_padding_decodes() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(pem);
        let wrapped: String = encoded
            .trim_end_matches('=')
            .as_bytes()
            .chunks(20)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let decoded = read_pem("MTLS_CERT", &value(&wrapped)).unwrap();
        assert_eq!(decoded.as_slice(), pem.as_bytes());
    }

    #[test]
    fn bad_base64_names_the_position_not_the_value() {
        let problem = read_pem("MTLS_KEY", &value("QUJD%SECRETPART")).unwrap_err();
        assert_eq!(problem.input, "MTLS_KEY");
        assert!(
            problem.message.contains("position 5"),
            "{}",
            problem.message
        );
        assert!(!problem.message.contains("SECRETPART"));
        assert!(!problem.message.contains('%'));
    }

    #[test]
    fn base64_of_something_else_is_refused() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("just text");
        let problem = read_pem("MTLS_CERT", &value(&encoded)).unwrap_err();
        assert!(
            problem.message.contains("other than a PEM"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn malformed_pem_is_described_without_its_lines() {
        let pem = b"-----BEGIN CERTIFICATE-----\nSECRETLINE!!\n-----END CERTIFICATE-----\n";
        let problem = parse_certificates("MTLS_CERT", pem).unwrap_err();
        assert!(
            !problem.message.contains("SECRETLINE"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn days_left_counts_whole_days() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let facts = CertFacts {
            subject: String::new(),
            issuer: String::new(),
            serial: String::new(),
            version: 3,
            key_type: "EC".into(),
            key_bits: 256,
            not_before: 0,
            not_after: 1_000_000 + 86_400 * 3 + 5,
            client_auth: Some(true),
            spki: Vec::new(),
        };
        assert_eq!(facts.days_left(now), 3);
        assert!(facts.validity_problem("MTLS_CERT", now).is_none());
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
