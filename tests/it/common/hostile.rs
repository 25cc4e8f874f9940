//! A hostile HTTPS server on 127.0.0.1 for the tests: each connection's request head is read, then a behaviour
//! writes whatever bytes it likes (absurd headers, echoes of the key, a slow drip, endless headers, redirect
//! loops). Every loop here is bounded, and the server stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use heartbeat::sandbox::pki::Pki;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A request as the hostile server read it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Received {
    /// Returns a header's value by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request: write a response (or anything else) to the connection.
pub type Behaviour = Arc<dyn Fn(&Received, &mut dyn Write) + Send + Sync>;

/// The server, its PKI (for SERVICE_CA_CERT) and what it received.
pub struct Hostile {
    pub port: u16,
    pub pki: Pki,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Hostile {
    /// Starts serving `behaviour` on 127.0.0.1:0.
    pub fn start(behaviour: Behaviour) -> Self {
        let pki = Pki::generate(&heartbeat::sandbox::pki::SERVER_NAMES).expect("a PKI");
        let config = Arc::new(server_config(&pki));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let (requests, stop) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (count, stopped) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (config, behaviour, count) = (
                    Arc::clone(&config),
                    Arc::clone(&behaviour),
                    Arc::clone(&count),
                );
                std::thread::spawn(move || serve(stream, config, behaviour, count));
            }
        });
        Self {
            port,
            pki,
            requests,
            stop,
        }
    }

    /// Builds a URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// Counts the requests whose head was read.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn server_config(pki: &Pki) -> rustls::ServerConfig {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pki.server.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(pki.server.key_pem.as_bytes()).unwrap();
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap()
}

fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    behaviour: Behaviour,
    count: Arc<AtomicUsize>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let Some(received) = read_head(&mut tls) else {
        return;
    };
    count.fetch_add(1, Ordering::SeqCst);
    behaviour(&received, &mut tls);
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// Reads a request head (at most 64 KiB); `None` when the client left first.
fn read_head(stream: &mut impl Read) -> Option<Received> {
    let mut reader = BufReader::new(stream.take(64 * 1024));
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    Some(Received { target, headers })
}

/// Writes a complete response with these extra headers and body.
pub fn respond(out: &mut dyn Write, status: &str, headers: &[(&str, String)], body: &str) {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("connection: close\r\n\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(body.as_bytes());
}

/// The environment for `heartbeat check` against this server: any client pair works, the server asks none.
pub fn vars(server: &Hostile, path: &str, api_key: &str) -> Vec<(&'static str, String)> {
    let client = &server.pki.client;
    vec![
        ("SERVICE_URL", server.url(path)),
        ("API_KEY", api_key.to_string()),
        ("MTLS_CERT", super::b64(&client.cert_pem)),
        ("MTLS_KEY", super::b64(&client.key_pem)),
        ("SERVICE_CA_CERT", super::b64(&server.pki.ca_cert_pem)),
    ]
}

/// A behaviour from a closure.
pub fn behaviour(f: impl Fn(&Received, &mut dyn Write) + Send + Sync + 'static) -> Behaviour {
    Arc::new(f)
}
