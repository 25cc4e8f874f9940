//! A local imitation of the HMPPS Integration API over HTTPS with mandatory client certificates: the target
//! of `heartbeat sandbox`, `heartbeat demo` and the project's own tests (there is no second mock).

mod command;
pub mod pki;
pub mod routes;
mod server;
mod verifier;

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{API_KEY, MTLS_CERT, MTLS_KEY, SERVICE_CA_CERT, SERVICE_URL};
use crate::error::Error;
pub use command::command;
use pki::{Pair, Pki};
pub use server::{Options, Record, Sandbox, Shared};

/// A sandbox serving on its own thread until dropped; what the demo and the tests use.
pub struct Handle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    pki: Arc<Pki>,
    api_key: SecretString,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Starts a sandbox on a background thread and returns once it accepts connections.
    pub fn start(options: Options) -> Result<Self, Error> {
        let runtime = crate::runtime()?;
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

/// The path `--write-env` and the demo point SERVICE_URL at.
pub const PERSONS_PATH: &str = "/v1/persons?first_name=Ada";

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
