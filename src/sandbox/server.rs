//! The sandbox's HTTPS server: TLS with mandatory client certificates, one hyper connection per client,
//! the routes' replies carried out (delays, resets), and a record of every request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::Frame;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::SecretString;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::profiles::PROFILES;
use crate::access::Rules;

/// The largest request body the sandbox reads: the API's requests are small JSON documents.
const MAX_REQUEST_BODY: usize = 1024 * 1024;
use super::listener;
use super::peer::{Peer, subject};
use super::pki::Pki;
use super::reply::Reply;
use super::routes::Routes;
use super::verifier;
use crate::error::Error;

/// How to run a sandbox.
pub struct Options {
    pub addr: SocketAddr,
    /// The `heartbeat` consumer's API key.
    pub api_key: SecretString,
    /// The other profile consumers' API keys, by CN; the gateway accepts every one.
    pub profile_keys: Vec<(&'static str, SecretString)>,
    /// Who may call what, as the application decides it.
    pub rules: Rules,
    /// The web application firewall in front of the application (ModSecurity at the ingress).
    pub waf: bool,
    /// Delius is down: reference data answers 500.
    pub delius_down: bool,
    pub pki: Arc<Pki>,
    /// Print a line per request on stderr.
    pub log: bool,
}

impl Options {
    /// Builds options with the team's consumer profiles, a random key for each, and no logging.
    pub fn new(addr: SocketAddr, api_key: SecretString, pki: Arc<Pki>) -> Self {
        let profile_keys = PROFILES
            .iter()
            .filter(|(_, prefixes)| !prefixes.is_empty())
            .map(|(name, _)| (*name, random_key()))
            .collect();
        Self {
            addr,
            api_key,
            profile_keys,
            rules: super::profiles::rules(),
            waf: true,
            delius_down: false,
            pki,
            log: false,
        }
    }

    /// Lists every key the gateway accepts.
    fn api_keys(&self) -> Vec<SecretString> {
        let others = self.profile_keys.iter().map(|(_, k)| k.clone());
        std::iter::once(self.api_key.clone())
            .chain(others)
            .collect()
    }
}

/// Makes a random API key, as Terraform makes one for a consumer.
pub fn random_key() -> SecretString {
    SecretString::from(uuid::Uuid::new_v4().simple().to_string())
}

/// One request as the sandbox saw it, for tests. Holds whether a key came, never the key.
#[derive(Debug, Clone)]
pub struct Record {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub api_key_sent: bool,
    /// The names of the headers received, in order (never their values).
    pub header_names: Vec<String>,
    /// Whether the connection's TLS handshake was a full one (not a resumed session).
    pub full_handshake: bool,
    pub user_agent: Option<String>,
    /// Every content type the request sent, in order (never a secret: a check may not put credentials there).
    pub content_types: Vec<String>,
    pub request_id: Option<String>,
    pub client: Option<String>,
}

/// What the connections share: the routes and the record of what came in.
pub struct Shared {
    routes: Routes,
    records: Mutex<Vec<Record>>,
    connections: AtomicUsize,
    log: bool,
}

impl Shared {
    /// Lists the requests served so far.
    pub fn records(&self) -> Vec<Record> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts the TCP connections accepted so far, handshakes that failed included.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Logs a request line (never the key) when asked to, and keeps the record.
    fn keep(&self, record: Record) {
        if self.log {
            let status = match record.status {
                0 => "reset".to_string(),
                status => status.to_string(),
            };
            let client = record.client.as_deref().unwrap_or("none");
            eprintln!(
                "sandbox: {} {} {status} client={client:?}",
                record.method, record.path
            );
        }
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }
}

/// A bound sandbox, ready to serve.
pub struct Sandbox {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    /// One permit per connection being served (MAX_CONNECTIONS).
    slots: Arc<tokio::sync::Semaphore>,
}

impl Sandbox {
    /// Binds the listener and prepares TLS.
    pub async fn bind(options: &Options) -> Result<Self, Error> {
        let config = server_config(&options.pki)?;
        let listener = TcpListener::bind(options.addr)
            .await
            .map_err(|e| Error::Startup(format!("listening on {}: {e}", options.addr)))?;
        let shared = Arc::new(Shared {
            routes: Routes::new(
                options.api_keys(),
                options.rules.clone(),
                options.waf,
                options.delius_down,
            ),
            records: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            log: options.log,
        });
        Ok(Self {
            listener,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            shared,
            slots: listener::slots(),
        })
    }

    /// Returns what its connections share, to read the record while it serves.
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Returns the address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener::accept(&self.listener, &self.slots) => {
                    let (stream, slot) = accepted;
                    let (acceptor, shared) = (self.acceptor.clone(), Arc::clone(&self.shared));
                    tokio::spawn(async move {
                        connection(stream, acceptor, shared).await;
                        drop(slot);
                    });
                }
            }
        }
    }
}

fn server_config(pki: &Pki) -> Result<rustls::ServerConfig, Error> {
    let tls_error = |what: &str| Error::Startup(format!("its {what} is not usable"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = verifier::ClientVerifier::new(pki.ca_cert_der().clone(), Arc::clone(&provider))
        .map_err(|_| tls_error("CA certificate"))?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pki.server.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|_| tls_error("server certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(pki.server.key_pem.as_bytes())
        .map_err(|_| tls_error("server key"))?;
    // TLS 1.3 only: the v1-tolerant verifier checks handshake signatures against the raw key, a TLS 1.3 API.
    rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|_| tls_error("TLS setup"))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(chain, key)
        .map_err(|_| tls_error("server certificate or key"))
}

/// How long an idle keep-alive connection may wait for the next request's head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take to finish the TLS handshake before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn connection(stream: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    shared.connections.fetch_add(1, Ordering::SeqCst);
    // Without it, Nagle holds the answer back behind the client's delayed ACK of the session tickets (~40 ms).
    let _ = stream.set_nodelay(true);
    let accepted =
        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream).into_fallible()).await;
    let tls = match accepted {
        Ok(Ok(tls)) => tls,
        Ok(Err((e, stream))) => {
            if shared.log {
                eprintln!("sandbox: TLS handshake refused: {e}");
            }
            listener::linger(stream).await;
            return;
        }
        Err(_) => return, // no handshake in time: a half-open connection holds nothing longer
    };
    let session = tls.get_ref().1;
    let full_handshake = session.handshake_kind() != Some(rustls::HandshakeKind::Resumed);
    let client = session
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(subject);
    let peer = Arc::new(Peer {
        client,
        full_handshake,
    });
    let service =
        service_fn(move |request| handle(request, Arc::clone(&shared), Arc::clone(&peer)));
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

/// The error that makes hyper drop the connection without an answer.
#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset on purpose")
    }
}

impl std::error::Error for Reset {}

async fn handle(
    request: hyper::Request<Incoming>,
    shared: Arc<Shared>,
    peer: Arc<Peer>,
) -> Result<hyper::Response<Body>, Reset> {
    let (parts, body) = request.into_parts();
    // A body past the cap, or one that never ends, is read as far as the cap allows: the routes only look.
    let body = http_body_util::Limited::new(body, MAX_REQUEST_BODY)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
    };
    let reply = shared.routes.reply(&super::request::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: query_pairs(&parts.uri),
        api_key: header("x-api-key"),
        on_behalf_of: header("x-on-behalf-of"),
        consumer: peer.client.as_ref().and_then(|c| c.cn.as_deref()),
        serial: peer.client.as_ref().map(|c| c.serial.as_slice()),
        body: &body,
    });
    let record = Record {
        method: parts.method.to_string(),
        path: parts.uri.to_string(),
        status: 0,
        api_key_sent: header("x-api-key").is_some(),
        header_names: parts.headers.keys().map(|k| k.to_string()).collect(),
        full_handshake: peer.full_handshake,
        user_agent: header("user-agent").map(str::to_string),
        content_types: (parts.headers.get_all("content-type").iter())
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect(),
        request_id: header("x-request-id").map(str::to_string),
        client: peer.client.as_ref().map(|c| c.subject.clone()),
    };
    let (status, response) = carry_out(reply).await;
    shared.keep(Record { status, ..record });
    response
}

fn query_pairs(uri: &hyper::Uri) -> std::collections::HashMap<String, String> {
    uri.query()
        .and_then(|q| reqwest::Url::parse(&format!("http://sandbox/?{q}")).ok())
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

/// The body of an answer: whole (with Content-Length) or streamed in chunks (without).
type Body = BoxBody<Bytes, std::convert::Infallible>;

/// Waits out delays, then builds the answer; status 0 stands for a reset.
async fn carry_out(mut reply: Reply) -> (u16, Result<hyper::Response<Body>, Reset>) {
    while let Reply::Later(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    let (status, content_type, headers, body) = match reply {
        Reply::Answer {
            status,
            content_type,
            headers,
            body,
        } => (
            status,
            content_type,
            headers,
            Full::new(Bytes::from(body)).boxed(),
        ),
        Reply::Streamed { status, chunks } => {
            let frames = chunks
                .into_iter()
                .map(|chunk| Ok(Frame::data(Bytes::from(chunk))));
            let stream = StreamBody::new(futures_util::stream::iter(frames));
            (status, "application/json", Vec::new(), stream.boxed())
        }
        _ => return (0, Err(Reset)),
    };
    // As API Gateway does, every answer carries the gateway's request id.
    let mut builder = hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", uuid::Uuid::new_v4().to_string());
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    (status, builder.body(body).map_err(|_| Reset))
}
