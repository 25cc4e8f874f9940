//! The real API's front door as the sandbox imitates it: the team's consumer profiles, a full TLS handshake on
//! every attempt, and proxies (a CONNECT proxy started here on 127.0.0.1, tunnelling or refusing).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::common::*;

/// The variables of a profile consumer (`FULL_ACCESS`, …) as a context for `check`, pointed at `path`.
fn profile(
    sandbox: &heartbeat::sandbox::Handle,
    prefix: &str,
    path: &str,
) -> Vec<(&'static str, String)> {
    let vars = sandbox.profile_environment().expect("profile variables");
    let get = |suffix: &str| {
        vars.iter()
            .find(|(k, _)| *k == format!("{prefix}_{suffix}"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{prefix}_{suffix} missing"))
    };
    let base = &vars
        .iter()
        .find(|(k, _)| k == "SERVICE_BASE_URL")
        .unwrap()
        .1;
    with(
        with(
            with(
                with(vars_of(sandbox), "API_KEY", get("API_KEY")),
                "MTLS_CERT",
                get("CERT"),
            ),
            "MTLS_KEY",
            get("KEY"),
        ),
        "SERVICE_URL",
        format!("{base}{path}"),
    )
}

fn vars_of(sandbox: &heartbeat::sandbox::Handle) -> Vec<(&'static str, String)> {
    vars(sandbox, PERSON)
}

#[test]
fn the_consumer_profiles_behave_as_the_teams_smoke_tests_expect() {
    let sandbox = sandbox();
    let once = ["--attempts", "1"];
    let search = "/v1/persons?first_name=john";
    let name = "/v1/persons/A8451DY/name";
    for path in [PERSON, name, search] {
        let run = check(&profile(&sandbox, "FULL_ACCESS", path), &once);
        assert_eq!(run.code, 0, "full access to {path}: {}", run.stderr);
    }
    let run = check(&profile(&sandbox, "LIMITED_ACCESS", name), &once);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = check(&profile(&sandbox, "LIMITED_ACCESS", search), &once);
    assert_eq!((run.code, class(&run).as_str()), (1, "consumer_forbidden"));
    let run = check(&profile(&sandbox, "NO_ACCESS", PERSON), &once);
    assert_eq!((run.code, class(&run).as_str()), (1, "consumer_forbidden"));
    let expected: Vec<Option<String>> = ["full-access"; 3]
        .into_iter()
        .chain(["limited-access"; 2])
        .chain(["no-access"])
        .map(|cn| Some(format!("CN={cn}")))
        .collect();
    let clients: Vec<Option<String>> = sandbox.records().into_iter().map(|r| r.client).collect();
    assert_eq!(clients, expected);
}

#[test]
fn no_client_certificate_is_refused_at_the_handshake() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &sandbox.pki().ca_cert_pem).unwrap();
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
        .arg(&ca)
        .args(["-H", &format!("x-api-key: {SENTINEL_KEY}")])
        .arg(sandbox.url(PERSON))
        .output()
        .expect("run curl");
    assert!(
        !output.status.success(),
        "curl got in without a certificate"
    );
    assert!(sandbox.records().is_empty(), "a request reached the routes");
    assert_eq!(sandbox.connections(), 1);
}

#[test]
fn every_attempt_is_a_fresh_connection_and_a_full_handshake() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/error"),
        &["--attempts", "3", "--retry-delay", "10ms"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(sandbox.connections(), 3);
    assert!(sandbox.records().iter().all(|r| r.full_handshake));
}

/// A CONNECT proxy on 127.0.0.1 that tunnels to loopback targets, or refuses every tunnel with 403.
struct Proxy {
    port: u16,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start(refuse: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&tunnels);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || tunnel(client, refuse, &seen));
            }
        });
        Self { port, tunnels }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn tunnel(client: TcpStream, refuse: bool, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request = String::new();
    reader.read_line(&mut request).unwrap();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 2 {
        line.clear();
    }
    let target = request
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    seen.lock().unwrap().push(target.clone());
    let mut client = client;
    if refuse || !target.starts_with("127.0.0.1:") {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
        return;
    }
    let upstream = TcpStream::connect(&target).unwrap();
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
    let mut down_write = client.try_clone().unwrap();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up_write);
    });
    let _ = std::io::copy(&mut up_read, &mut down_write);
}

#[test]
fn a_check_goes_through_https_proxy_and_no_proxy_bypasses_it() {
    let sandbox = sandbox();
    let proxy = Proxy::start(false);
    let through = check(
        &with(vars(&sandbox, PERSON), "HTTPS_PROXY", proxy.url()),
        &["--attempts", "1"],
    );
    assert_eq!(through.code, 0, "{}", through.stderr);
    let port = sandbox.url("").rsplit(':').next().unwrap().to_string();
    assert_eq!(
        *proxy.tunnels.lock().unwrap(),
        [format!("127.0.0.1:{port}")]
    );
    let direct = with(
        with(vars(&sandbox, PERSON), "HTTPS_PROXY", proxy.url()),
        "NO_PROXY",
        "localhost,127.0.0.1",
    );
    assert_eq!(check(&direct, &["--attempts", "1"]).code, 0);
    assert_eq!(
        proxy.tunnels.lock().unwrap().len(),
        1,
        "NO_PROXY was ignored"
    );
}

#[test]
fn a_refusing_proxy_is_named_as_the_proxy_not_the_service() {
    let sandbox = sandbox();
    let proxy = Proxy::start(true);
    let run = check(
        &with(vars(&sandbox, PERSON), "HTTPS_PROXY", proxy.url()),
        &["--attempts", "1"],
    );
    assert_eq!((run.code, class(&run).as_str()), (3, "proxy"));
    let message = run.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains(&format!(
            "the proxy http://127.0.0.1:{} (HTTPS_PROXY) refused",
            proxy.port
        )),
        "{message}"
    );
    assert!(run.stderr.contains("check HTTPS_PROXY"), "{}", run.stderr);
    assert_eq!(sandbox.connections(), 0, "the service was reached");
}
