//! Who calls: a consumer's API key (and the header it goes in), its client certificate when it has one, the
//! roots it trusts and the proxy it goes through, and the HTTP clients built from them. And the one builder:
//! `check`'s flags and environment, a suite's `[consumers.NAME]` and the demo all describe a consumer the same
//! way and get it built, checked and its secrets listed here — so a rule about keys or certificates holds for
//! every front-end at once.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Client;
use reqwest::header::{HeaderName, HeaderValue};
use rustls::RootCertStore;
use secrecy::{ExposeSecret, SecretString};

use super::proxy::Proxy;
use crate::error::Problem;
use crate::tls::identity::{self, ClientIdentity};
use crate::tls::input::{self, Input};

/// The API key as sent: the header and its value, validated once and marked sensitive.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub header: HeaderName,
    value: HeaderValue,
}

impl ApiKey {
    /// Builds the header; `None` when the key is not a valid header value.
    pub fn new(header: HeaderName, key: &str) -> Option<Self> {
        let mut value = HeaderValue::from_str(key).ok()?;
        value.set_sensitive(true);
        Some(Self { header, value })
    }

    /// Returns the header value (sensitive, so never logged).
    pub fn value(&self) -> HeaderValue {
        self.value.clone()
    }
}

/// One consumer of the API.
#[derive(Debug)]
pub struct Consumer {
    /// The suite's name for it; `None` for `heartbeat check`.
    pub name: Option<String>,
    pub api_key: Option<ApiKey>,
    pub request_id_header: HeaderName,
    /// No identity means no client certificate is presented.
    pub identity: Option<Arc<ClientIdentity>>,
    /// Headers sent with every request of this consumer (a check's own header of the same name wins).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub roots: RootCertStore,
    pub proxy: Option<Proxy>,
}

impl Consumer {
    /// Builds an HTTP client. `keep_alive` false gives a fresh connection for every request (what `check` and
    /// refused-door checks want); TLS sessions are never resumed either way.
    pub fn client(&self, keep_alive: bool, connect_timeout: Duration) -> Client {
        let tls = identity::client_config(self.roots.clone(), self.identity.as_deref());
        // Proxies come from `environment` through `proxy`, never from reqwest's own lookup.
        let mut builder = Client::builder().no_proxy();
        if let Some(proxy) = &self.proxy {
            // Proxy::for_url checked the URL parses; a proxy reqwest still refuses is simply not used.
            if let Ok(proxy) = reqwest::Proxy::all(proxy.url.clone()) {
                builder = builder.proxy(proxy);
            }
        }
        if !keep_alive {
            builder = builder.pool_max_idle_per_host(0);
        }
        builder
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .user_agent(concat!("heartbeat/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a rustls client with a preconfigured TLS backend builds")
    }
}

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
    /// Headers for every request, already checked against the header policy.
    pub headers: Vec<(HeaderName, HeaderValue)>,
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
        headers: description.headers,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_s_body_lines_and_the_whole_body_are_secrets_but_not_its_armour() {
        let pem = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n\
                    Proc-Type: 4,ENCRYPTED\n\
                    \n\
                    MIIBVQIBADANBgkqhkiG9w0B\n  AQEFAASCAT8wggE7AgEAAkEA  \n\
                    short==\n\
                    -----END ENCRYPTED PRIVATE KEY-----\n";
        let secrets: Vec<String> = pem_secrets(pem)
            .iter()
            .map(|s| s.expose_secret().to_string())
            .collect();
        assert_eq!(
            secrets,
            [
                "MIIBVQIBADANBgkqhkiG9w0B",
                "AQEFAASCAT8wggE7AgEAAkEA",
                "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAshort==",
            ]
        );
        // A line of exactly 16 characters is a secret of its own; 15 is only part of the whole body.
        let edge = b"0123456789abcdef\n0123456789abcde\n";
        let secrets: Vec<String> = pem_secrets(edge)
            .iter()
            .map(|s| s.expose_secret().to_string())
            .collect();
        assert_eq!(
            secrets,
            ["0123456789abcdef", "0123456789abcdef0123456789abcde"]
        );
    }
}
