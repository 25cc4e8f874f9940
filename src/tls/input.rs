//! Where a certificate or key comes from and how it is read: base64 of a PEM file (what a CircleCI context
//! holds, line breaks and padding quirks tolerated), PEM itself, or a file path. Errors name the input and a
//! position, never a byte of the value.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::SigningKey;
use secrecy::{ExposeSecret, SecretString};
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
            let text = value.expose_secret().trim_start_matches('\u{FEFF}').trim();
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

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn looks_like_path(text: &str) -> bool {
    // base64 has no spaces but may contain '/', so only an existing file counts as a path.
    text.len() < 4096 && Path::new(text).is_file()
}

fn read_file(name: &str, path: &Path) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let bytes = std::fs::read(path)
        .map_err(|e| Problem::new(name, format!("cannot read {}: {e}", path.display())))?;
    let mut bytes = Zeroizing::new(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::new(
            name,
            format!(
                "{} is empty; it should hold a PEM file or base64 of one",
                path.display()
            ),
        ));
    }
    // Editors on Windows may start a file with a byte-order mark; it is not part of the PEM.
    if bytes.starts_with(UTF8_BOM) {
        bytes.drain(..UTF8_BOM.len());
    }
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

/// Reads an input and parses its certificates, in order; the first is the leaf.
pub fn read_certificates(
    name: &str,
    input: &Input,
) -> Result<Vec<CertificateDer<'static>>, Problem> {
    read_pem(name, input).and_then(|pem| parse_certificates(name, &pem))
}

/// Reads an input and parses its private key into a signing key.
pub fn read_private_key(name: &str, input: &Input) -> Result<Arc<dyn SigningKey>, Problem> {
    read_pem(name, input).and_then(|pem| parse_private_key(name, &pem))
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
}
