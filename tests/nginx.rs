//! `heartbeat check` against a real OpenSSL-based server: nginx from Debian with `ssl_verify_client on`, as
//! in front of the real API. Started per test on a free loopback port; `scripts/test.sh` installs nginx.

mod common;

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use heartbeat::sandbox::pki::{Pair, Pki, SERVER_NAMES};

struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> &'static str {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is not installed: run the README's test command (scripts/test.sh), which installs it")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts nginx trusting `client_cas` for client certificates and serving a persons answer behind the key.
fn nginx(server: &Pki, client_cas: &[&str]) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(path("server.pem"), &server.server.cert_pem).unwrap();
    std::fs::write(path("server.key"), server.server.key_pem.as_bytes()).unwrap();
    std::fs::write(path("clients.pem"), client_cas.concat()).unwrap();
    let port = free_port();
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
error_log {errors} warn;
pid {pid};
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_client_certificate {clients};
    ssl_verify_client on;
    ssl_verify_depth 2;
    location = /v1/persons {{
      default_type application/json;
      if ($http_x_api_key != "{api_key}") {{
        return 401 '{{"status":401,"userMessage":"Authentication failed","developerMessage":"bad key"}}';
      }}
      return 200 '{{"data":[{{"firstName":"Ada","lastName":"Lovelace"}}],"pagination":{{"count":1}}}}';
    }}
  }}
}}
"#,
        errors = path("error.log"),
        pid = path("nginx.pid"),
        tmp = dir.path().display(),
        cert = path("server.pem"),
        key = path("server.key"),
        clients = path("clients.pem"),
        api_key = SENTINEL_KEY,
    );
    std::fs::File::create(path("nginx.conf"))
        .unwrap()
        .write_all(conf.as_bytes())
        .unwrap();
    let child = Command::new(nginx_binary())
        .args([
            "-p",
            &path(""),
            "-e",
            &path("error.log"),
            "-c",
            &path("nginx.conf"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let started = Instant::now();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}",
            std::fs::read_to_string(path("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Nginx {
        child,
        port,
        _dir: dir,
    }
}

fn env(server: &Pki, port: u16, client: &Pair, api_key: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "SERVICE_URL",
            format!("https://127.0.0.1:{port}/v1/persons?first_name=Ada"),
        ),
        ("API_KEY", api_key.to_string()),
        ("MTLS_CERT", b64(&client.cert_pem)),
        ("MTLS_KEY", b64(&client.key_pem)),
        ("SERVICE_CA_CERT", b64(&server.ca_cert_pem)),
    ]
}

#[test]
fn healthy_through_nginx_with_ec_v3_and_the_teams_v1_pkcs1_certificate() {
    let server = Pki::generate(&SERVER_NAMES).unwrap();
    let nginx = nginx(&server, &[&server.ca_cert_pem, &fixture("ca.pem")]);
    let (v1, rsa) = (fixture_pair("client-v1"), fixture_pair("client-v3-rsa"));
    for (what, pair) in [
        ("generated EC v3", &server.client),
        ("team v1 PKCS#1", &v1),
        ("RSA v3", &rsa),
    ] {
        let run = check(&env(&server, nginx.port, pair, SENTINEL_KEY), &[]);
        assert_eq!(run.code, 0, "{what}: {}", run.stderr);
    }
}

#[test]
fn nginx_refusing_the_client_certificate_is_recognised_as_a_tls_failure() {
    let server = Pki::generate(&SERVER_NAMES).unwrap();
    let nginx = nginx(&server, &[&server.ca_cert_pem]);
    let stranger = Pki::generate(&SERVER_NAMES).unwrap();
    let run = check(
        &env(&server, nginx.port, &stranger.client, SENTINEL_KEY),
        &["--retry-delay", "10ms"],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["class"], "client_certificate_rejected");
    assert_eq!(json["status"], 400);
    assert_eq!(json["attempts"].as_array().unwrap().len(), 1);
    assert!(
        run.stderr
            .contains("check MTLS_CERT is signed by this environment's CA"),
        "{}",
        run.stderr
    );
}

#[test]
fn nginx_answering_401_shows_the_user_message() {
    let server = Pki::generate(&SERVER_NAMES).unwrap();
    let nginx = nginx(&server, &[&server.ca_cert_pem]);
    let run = check(
        &env(
            &server,
            nginx.port,
            &server.client,
            "SENTINEL-wrong-key-for-nginx",
        ),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["user_message"], "Authentication failed");
}

#[test]
fn nginx_with_an_untrusted_certificate_is_a_tls_failure() {
    let server = Pki::generate(&SERVER_NAMES).unwrap();
    let nginx = nginx(&server, &[&server.ca_cert_pem]);
    let vars = without(
        env(&server, nginx.port, &server.client, SENTINEL_KEY),
        &["SERVICE_CA_CERT"],
    );
    let run = check(&vars, &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.json()["class"], "server_certificate_invalid");
}
