//! A local imitation of the HMPPS Integration API over HTTPS with mandatory client certificates: the target
//! of `heartbeat sandbox`, `heartbeat demo` and the project's own tests (there is no second mock).

pub mod command;
mod data;
mod faults;
mod listener;
mod peer;
pub mod pki;
pub mod profiles;
mod reply;
mod request;
pub mod routes;
mod server;
mod verifier;

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use crate::environment::{API_KEY, MTLS_CERT, MTLS_KEY, SERVICE_CA_CERT, SERVICE_URL};
use crate::error::Error;
use pki::{Pair, Pki};
pub use server::{Options, Record, Sandbox, Shared, random_key};

/// A sandbox serving on its own thread until dropped; what the demo and the tests use.
pub struct Handle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    pki: Arc<Pki>,
    api_key: SecretString,
    profile_keys: Vec<(&'static str, SecretString)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Starts a sandbox on a background thread and returns once it accepts connections.
    pub fn start(options: Options) -> Result<Self, Error> {
        let runtime = crate::process::runtime()?;
        let sandbox = runtime.block_on(Sandbox::bind(&options))?;
        let (addr, shared) = (sandbox.local_addr(), sandbox.shared());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(sandbox.serve(async {
                let _ = stopped.await;
            }))
        });
        Ok(Self {
            addr,
            shared,
            pki: options.pki,
            api_key: options.api_key,
            profile_keys: options.profile_keys,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Builds the URL of a path on this sandbox.
    pub fn url(&self, path_and_query: &str) -> String {
        base_url(self.addr) + path_and_query
    }

    /// Lists the requests served so far.
    pub fn records(&self) -> Vec<Record> {
        self.shared.records()
    }

    /// Counts the TCP connections accepted so far, handshakes that failed included.
    pub fn connections(&self) -> usize {
        self.shared.connections()
    }

    /// Returns the `heartbeat` consumer's API key.
    pub fn api_key(&self) -> &str {
        self.api_key.expose_secret()
    }

    /// Lists the variables of the other profile consumers (`FULL_ACCESS_API_KEY`, …) and `SERVICE_BASE_URL`.
    pub fn profile_environment(&self) -> Result<Vec<(String, String)>, Error> {
        profile_environment(&base_url(self.addr), &self.profile_keys, &self.pki)
    }

    /// Returns the PKI, to issue more client certificates.
    pub fn pki(&self) -> &Pki {
        &self.pki
    }

    /// Lists the variables a CircleCI context would hold for this sandbox, with the given client pair.
    pub fn environment(&self, path_and_query: &str, client: &Pair) -> Vec<(&'static str, String)> {
        environment(&self.url(path_and_query), &self.api_key, &self.pki, client)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn base_url(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => format!("https://{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("https://[{}]:{}", v6.ip(), v6.port()),
    }
}

/// The path `--write-env` and the demo point SERVICE_URL at: a person by id, which the `heartbeat` consumer
/// may call in dev (the search is not on its allow-list).
pub const PERSONS_PATH: &str = "/v1/persons/A8451DY";

/// The variable holding the sandbox's origin, as the team's smoke tests name it.
pub const SERVICE_BASE_URL: &str = "SERVICE_BASE_URL";

/// Issues a client certificate for each profile consumer and lists its variables under the team's names.
fn profile_environment(
    base: &str,
    keys: &[(&'static str, SecretString)],
    pki: &Pki,
) -> Result<Vec<(String, String)>, Error> {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    // The team's workflows name the host DOMAIN (an https origin without the scheme) and the person HMPPSID.
    let domain = base.strip_prefix("https://").unwrap_or(base);
    let mut vars = vec![
        (SERVICE_BASE_URL.to_string(), base.to_string()),
        ("DOMAIN".to_string(), domain.to_string()),
        ("HMPPSID".to_string(), "A8451DY".to_string()),
        // The on-behalf-of token the dev suite sends: any non-empty token, treated as a secret.
        (
            "OBO_TOKEN".to_string(),
            server::random_key().expose_secret().to_string(),
        ),
    ];
    for (name, key) in keys {
        let Some((_, prefixes)) = profiles::PROFILES.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let serial = (*name == "revoked").then_some(&profiles::REVOKED_SERIAL[..]);
        let pair = pki
            .issue_client_with_serial(name, -1, 365, serial)
            .map_err(|e| Error::Startup(format!("issuing the {name} certificate failed: {e}")))?;
        for prefix in *prefixes {
            vars.push((format!("{prefix}_API_KEY"), key.expose_secret().to_string()));
            vars.push((format!("{prefix}_CERT"), b64(&pair.cert_pem)));
            vars.push((format!("{prefix}_KEY"), b64(&pair.key_pem)));
        }
    }
    Ok(vars)
}

/// Lists the five variables, certificates base64-encoded exactly as a CircleCI context holds them.
fn environment(
    url: &str,
    api_key: &SecretString,
    pki: &Pki,
    client: &Pair,
) -> Vec<(&'static str, String)> {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    vec![
        (SERVICE_URL, url.to_string()),
        (API_KEY, api_key.expose_secret().to_string()),
        (MTLS_CERT, b64(&client.cert_pem)),
        (MTLS_KEY, b64(&client.key_pem)),
        (SERVICE_CA_CERT, b64(&pki.ca_cert_pem)),
    ]
}
