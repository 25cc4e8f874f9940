//! The one consumer builder: `check`'s flags and environment, a suite's `[consumers.NAME]` and the demo all
//! describe a consumer the same way (a key, a certificate pair, roots, a proxy) and get it built, checked and
//! its secrets listed here — so a rule about keys or certificates holds for every front-end at once.

use std::sync::Arc;
use std::time::SystemTime;

use reqwest::header::HeaderName;
use rustls::RootCertStore;
use secrecy::{ExposeSecret, SecretString};

use crate::consumer::{ApiKey, Consumer};
use crate::error::Problem;
use crate::identity::ClientIdentity;
use crate::input::{self, Input};
use crate::proxy::Proxy;

/// A certificate or key input, labelled as the user wrote it (a flag, a variable, a file position).
#[derive(Debug)]
pub struct Named {
    pub label: String,
    pub input: Input,
}

impl Named {
    /// Labels an input.
    pub fn new(label: impl Into<String>, input: Input) -> Self {
        Self {
            label: label.into(),
            input,
        }
    }
}

/// A consumer as described, before anything is checked.
pub struct Description {
    /// The suite's name for it; `None` for `heartbeat check`.
    pub name: Option<String>,
    /// The key's header, the key, and the label a problem with the key is reported under.
    pub api_key: Option<(HeaderName, SecretString, String)>,
    /// The certificate and its key; `None` presents no certificate.
    pub pair: Option<(Named, Named)>,
    pub request_id_header: HeaderName,
    pub roots: RootCertStore,
    pub proxy: Option<Proxy>,
}

/// A consumer and every secret it holds, in the forms a server might echo them.
#[derive(Debug)]
pub struct Built {
    pub consumer: Consumer,
    pub secrets: Vec<SecretString>,
}

/// Builds a consumer: the key trimmed as HTTP trims a header value (so what is redacted is what is sent),
/// the certificate pair loaded and valid now. Every problem at once, named, never a value.
pub fn build(description: Description, now: SystemTime) -> Result<Built, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut secrets = Vec::new();
    let api_key = description.api_key.and_then(|(header, key, label)| {
        secrets.push(SecretString::from(key.expose_secret().trim().to_string()));
        let trimmed = key.expose_secret().trim_matches([' ', '\t']);
        secrets.push(SecretString::from(trimmed.to_string()));
        let built = ApiKey::new(header, trimmed);
        if built.is_none() {
            let why = "holds characters not allowed in an HTTP header (a line break?)";
            problems.push(Problem::new(label, why));
        }
        built
    });
    let identity = description.pair.and_then(|(cert, key)| {
        secrets.extend(pair_secrets(&cert, &key));
        let loaded = ClientIdentity::load((&cert.label, &cert.input), (&key.label, &key.input));
        match loaded {
            Ok(identity) => {
                problems.extend(identity.facts.validity_problem(&cert.label, now));
                Some(Arc::new(identity))
            }
            Err(found) => {
                problems.extend(found);
                None
            }
        }
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    secrets.retain(|s| s.expose_secret().len() >= 4);
    let consumer = Consumer {
        name: description.name,
        api_key,
        request_id_header: description.request_id_header,
        identity,
        roots: description.roots,
        proxy: description.proxy,
    };
    Ok(Built { consumer, secrets })
}

/// The default header of the API key.
pub fn default_key_header() -> HeaderName {
    HeaderName::from_static("x-api-key")
}

/// The default header of the request id.
pub fn default_request_id_header() -> HeaderName {
    HeaderName::from_static("x-request-id")
}

/// Lists a pair's secrets: each value as given, and the PEM behind each (from a value or a file).
fn pair_secrets(cert: &Named, key: &Named) -> Vec<SecretString> {
    let mut secrets = Vec::new();
    for named in [cert, key] {
        if let Input::Value(value) = &named.input {
            secrets.push(SecretString::from(value.expose_secret().trim().to_string()));
        }
        if let Ok(pem) = input::read_pem(&named.label, &named.input) {
            secrets.extend(pem_secrets(&pem));
        }
    }
    secrets
}

/// Lists a PEM text's body lines (16 characters or more) and its whole body joined, as secrets.
fn pem_secrets(pem: &[u8]) -> Vec<SecretString> {
    let text = String::from_utf8_lossy(pem);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----") && !l.contains(':'))
        .collect();
    let mut secrets: Vec<SecretString> = lines
        .iter()
        .filter(|l| l.len() >= 16)
        .map(|l| SecretString::from(l.to_string()))
        .collect();
    secrets.push(SecretString::from(lines.concat()));
    secrets
}
