//! A local imitation of the HMPPS Integration API over HTTPS with mandatory client certificates: the target
//! of `heartbeat sandbox`, `heartbeat demo` and the project's own tests (there is no second mock).

pub mod pki;
pub mod routes;
mod verifier;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use zeroize::Zeroizing;

use crate::cli::SandboxArgs;
use crate::config::{API_KEY, MTLS_CERT, MTLS_KEY, SERVICE_CA_CERT, SERVICE_URL};
use crate::error::{Error, ExitCode};
use pki::{Pair, Pki};
use routes::{Reply, Routes};

/// How to run a sandbox.
pub struct Options {
    pub addr: SocketAddr,
    pub api_key: SecretString,
    pub pki: Arc<Pki>,
    /// Print a line per request on stderr.
    pub log: bool,
}

/// One request as the sandbox saw it, for tests. Holds whether a key came, never the key.
#[derive(Debug, Clone)]
pub struct Record {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub api_key_sent: bool,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub client: Option<String>,
}

struct Shared {
    routes: Routes,
    records: Mutex<Vec<Record>>,
    connections: AtomicUsize,
    log: bool,
}

/// A bound sandbox, ready to serve.
pub struct Sandbox {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
}

impl Sandbox {
    /// Binds the listener and prepares TLS.
    pub async fn bind(options: &Options) -> Result<Self, Error> {
        let config = server_config(&options.pki)?;
        let listener = TcpListener::bind(options.addr)
            .await
            .map_err(|e| Error::io(format!("listening on {}", options.addr), e))?;
        let shared = Arc::new(Shared {
            routes: Routes::new(options.api_key.clone()),
            records: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            log: options.log,
        });
        Ok(Self {
            listener,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            shared,
        })
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
                accepted = self.listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(connection(stream, self.acceptor.clone(), Arc::clone(&self.shared)));
                    }
                }
            }
        }
    }
}

fn server_config(pki: &Pki) -> Result<rustls::ServerConfig, Error> {
    let tls_error = |what: &str| Error::Usage(format!("the sandbox's {what} is not usable"));
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

async fn connection(stream: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    shared.connections.fetch_add(1, Ordering::SeqCst);
    let tls = match acceptor.accept(stream).await {
        Ok(tls) => tls,
        Err(e) => {
            if shared.log {
                eprintln!("sandbox: TLS handshake refused: {e}");
            }
            return;
        }
    };
    let client = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(subject);
    let service = service_fn(move |request| handle(request, Arc::clone(&shared), client.clone()));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

fn subject(cert: &CertificateDer<'_>) -> Option<String> {
    use x509_parser::prelude::FromDer;
    x509_parser::prelude::X509Certificate::from_der(cert.as_ref())
        .ok()
        .map(|(_, c)| c.subject().to_string())
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
    client: Option<String>,
) -> Result<hyper::Response<Full<Bytes>>, Reset> {
    let uri = request.uri().clone();
    let query = uri
        .query()
        .map(|q| reqwest::Url::parse(&format!("http://sandbox/?{q}")))
        .and_then(Result::ok);
    let query = query
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
    };
    let api_key = header("x-api-key");
    let reply = shared.routes.reply(&routes::Request {
        path: uri.path(),
        query,
        api_key,
    });
    let record = |status| Record {
        method: request.method().to_string(),
        path: uri.to_string(),
        status,
        api_key_sent: api_key.is_some(),
        user_agent: header("user-agent").map(str::to_string),
        request_id: header("x-request-id").map(str::to_string),
        client: client.clone(),
    };
    let mut reply = reply;
    while let Reply::Later(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    let (status, response) = match reply {
        Reply::Answer {
            status,
            content_type,
            headers,
            body,
        } => {
            let mut builder = hyper::Response::builder()
                .status(status)
                .header("content-type", content_type);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            (
                status,
                builder
                    .body(Full::new(Bytes::from(body)))
                    .map_err(|_| Reset),
            )
        }
        _ => (0, Err(Reset)),
    };
    let record = record(status);
    if shared.log {
        let client = record.client.as_deref().unwrap_or("none");
        let status = if status == 0 {
            "reset".to_string()
        } else {
            status.to_string()
        };
        eprintln!(
            "sandbox: {} {} {status} client={client:?}",
            record.method, record.path
        );
    }
    shared
        .records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(record);
    response
}

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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the sandbox runtime", e))?;
        let sandbox = runtime.block_on(Sandbox::bind(&options))?;
        let (addr, shared) = (sandbox.local_addr(), Arc::clone(&sandbox.shared));
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
        self.shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts the TCP connections accepted so far, handshakes that failed included.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
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

/// Runs `heartbeat sandbox` until Ctrl-C or SIGTERM.
pub fn command(args: &SandboxArgs) -> Result<ExitCode, Error> {
    if !args.bind.is_loopback() && !args.allow_remote {
        return Err(Error::Usage(format!(
            "--bind {} is not a loopback address; pass --allow-remote to listen on it",
            args.bind
        )));
    }
    let mut names: Vec<String> = pki::SERVER_NAMES.iter().map(|s| s.to_string()).collect();
    names.push(args.bind.to_string());
    names.dedup();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let pki = Arc::new(load_pki(args, &names)?);
    let api_key = SecretString::from(
        args.api_key
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
    );
    let options = Options {
        addr: SocketAddr::new(args.bind, args.port),
        api_key,
        pki,
        log: true,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    runtime.block_on(async {
        let sandbox = Sandbox::bind(&options).await?;
        let url = base_url(sandbox.local_addr());
        if let Some(path) = &args.write_env {
            let vars = environment(
                &format!("{url}{PERSONS_PATH}"),
                &options.api_key,
                &options.pki,
                &options.pki.client,
            );
            write_env(path, &vars)?;
        }
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "heartbeat sandbox: listening on {url}");
        let _ = stdout.flush();
        sandbox.serve(shutdown_signal()).await;
        eprintln!("heartbeat sandbox: stopped");
        Ok(ExitCode::Healthy)
    })
}

fn load_pki(args: &SandboxArgs, names: &[&str]) -> Result<Pki, Error> {
    let (Some(cert), Some(key)) = (&args.ca_cert, &args.ca_key) else {
        return Pki::generate(names)
            .map_err(|e| Error::Usage(format!("generating the sandbox PKI failed: {e}")));
    };
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))
    };
    let (cert_pem, key_pem) = (read(cert)?, Zeroizing::new(read(key)?));
    Pki::from_ca(&cert_pem, &key_pem, names).map_err(|_| {
        Error::Config(vec![crate::error::Problem::new(
            "--ca-cert/--ca-key",
            "cannot sign with this CA; give a PEM CA certificate and its PKCS#8 key (openssl pkcs8 -topk8 -nocrypt converts a PKCS#1 key)",
        )])
    })
}

/// Writes the variables as a file to source, readable by its owner only: it holds a key.
fn write_env(path: &Path, vars: &[(&str, String)]) -> Result<(), Error> {
    let mut text = Zeroizing::new(String::from(
        "# heartbeat sandbox: `. ./this-file` then `heartbeat check`\n",
    ));
    for (name, value) in vars {
        text.push_str(&format!(
            "export {name}='{}'\n",
            value.replace('\'', r"'\''")
        ));
    }
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path)?.write_all(text.as_bytes())
    };
    write().map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
