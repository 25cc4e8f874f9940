//! `heartbeat check` against a real OpenSSL-based server: nginx from Debian with `ssl_verify_client on`, as
//! in front of the real API. Started per test on a free loopback port; `scripts/test.sh` installs nginx.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use heartbeat::sandbox::pki::{Pair, Pki, SERVER_NAMES};

struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// The access log's lines so far: `$ssl_session_reused $ssl_client_verify` per request.
    fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
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

/// Accepts on 127.0.0.1:0 and relays each connection to nginx's unix socket, byte for byte (TLS passes through
/// untouched). nginx cannot listen on port 0, and a port found free and released could be taken by another
/// test before nginx binds it; a socket path of our own cannot.
fn forward_to(socket: std::path::PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(upstream) = std::os::unix::net::UnixStream::connect(&socket) else {
                continue;
            };
            let (mut client_read, mut upstream_write) =
                (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            let (mut upstream_read, mut client_write) = (upstream, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut upstream_write);
                let _ = upstream_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut upstream_read, &mut client_write);
                let _ = client_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

/// Starts nginx trusting `client_cas` for client certificates and serving a persons answer behind the key.
fn nginx(server: &Pki, client_cas: &[&str]) -> Nginx {
    let locations = format!(
        r#"location = /v1/persons {{
      default_type application/json;
      if ($http_x_api_key != "{SENTINEL_KEY}") {{
        return 401 '{{"status":401,"userMessage":"Authentication failed","developerMessage":"bad key"}}';
      }}
      return 200 '{{"data":[{{"firstName":"Ada","lastName":"Lovelace"}}],"pagination":{{"count":1}}}}';
    }}"#
    );
    nginx_with(server, client_cas, "on", &locations)
}

/// nginx imitating API Gateway's front door: a wrong key or an untrusted certificate gets the gateway's
/// `403 {"message":"Forbidden"}` with `x-amzn-ErrorType`, every answer has `x-amzn-RequestId`, and
/// `/timeout` is the gateway's 504. `optional_no_ca` lets the handshake finish so the refusal is a 403.
fn gateway(server: &Pki, client_cas: &[&str]) -> Nginx {
    let headers = "add_header x-amzn-RequestId $request_id always;";
    let refuse = format!(
        r#"{headers} add_header x-amzn-ErrorType ForbiddenException always; return 403 '{{"message":"Forbidden"}}';"#
    );
    let locations = format!(
        r#"default_type application/json;
    location /v1/ {{
      if ($ssl_client_verify != SUCCESS) {{ {refuse} }}
      if ($http_x_api_key != "{SENTINEL_KEY}") {{ {refuse} }}
      {headers}
      return 200 '{{"data":{{"prisonerOffenderSearch":{{"firstName":"Ada"}}}}}}';
    }}
    location = /timeout {{
      {headers}
      return 504 '{{"message": "Endpoint request timed out"}}';
    }}"#
    );
    nginx_with(server, client_cas, "optional_no_ca", &locations)
}

/// Starts nginx with these client CAs, `ssl_verify_client` mode and locations. Its access log records
/// `$ssl_session_reused` (`r` resumed, `.` full handshake) and `$ssl_client_verify` per request.
fn nginx_with(server: &Pki, client_cas: &[&str], verify: &str, locations: &str) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(path("server.pem"), &server.server.cert_pem).unwrap();
    std::fs::write(path("server.key"), server.server.key_pem.as_bytes()).unwrap();
    std::fs::write(path("clients.pem"), client_cas.concat()).unwrap();
    let socket = dir.path().join("nginx.sock");
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
error_log {errors} warn;
pid {pid};
events {{ worker_connections 64; }}
http {{
  log_format handshakes '$ssl_session_reused $ssl_client_verify';
  access_log {access} handshakes;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{
    listen unix:{socket} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_client_certificate {clients};
    ssl_verify_client {verify};
    ssl_verify_depth 2;
    {locations}
  }}
}}
"#,
        errors = path("error.log"),
        pid = path("nginx.pid"),
        tmp = dir.path().display(),
        cert = path("server.pem"),
        key = path("server.key"),
        clients = path("clients.pem"),
        access = path("access.log"),
        socket = socket.display(),
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
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}",
            std::fs::read_to_string(path("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Nginx {
        child,
        port: forward_to(socket),
        dir,
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
        &["--retry-delay", "10ms"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["user_message"], "Authentication failed");
    assert_eq!(run.json()["class"], "unauthorized");
    assert_eq!(
        run.json()["attempts"].as_array().unwrap().len(),
        1,
        "a 401 was retried"
    );
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

fn gateway_env(
    server: &Pki,
    port: u16,
    path: &str,
    client: &Pair,
    key: &str,
) -> Vec<(&'static str, String)> {
    with(
        env(server, port, client, key),
        "SERVICE_URL",
        format!("https://127.0.0.1:{port}{path}"),
    )
}

#[test]
fn the_gateways_403_for_a_wrong_key_or_an_untrusted_certificate_names_both_after_one_request() {
    let server = Pki::generate(&SERVER_NAMES).unwrap();
    let nginx = gateway(&server, &[&server.ca_cert_pem]);
    let stranger = Pki::generate(&SERVER_NAMES).unwrap();
    let healthy = check(
        &gateway_env(&server, nginx.port, PERSON, &server.client, SENTINEL_KEY),
        &[],
    );
    assert_eq!(healthy.code, 0, "{}", healthy.stderr);
    let cases = [
        (
            "wrong key",
            &server.client,
            "SENTINEL-wrong-key-for-gateway",
        ),
        ("untrusted certificate", &stranger.client, SENTINEL_KEY),
    ];
    for (what, client, key) in cases {
        let before = nginx.access_log().len();
        let run = check(
            &gateway_env(&server, nginx.port, PERSON, client, key),
            &["--retry-delay", "10ms"],
        );
        assert_eq!(run.code, 1, "{what}: {}", run.stderr);
        let json = run.json();
        assert_eq!(json["class"], "gateway_forbidden", "{what}");
        assert_eq!(nginx.access_log().len() - before, 1, "{what}: retried");
        let gateway_id = json["gateway_request_id"].as_str().unwrap_or_default();
        assert_eq!(gateway_id.len(), 32, "{what}: {json}");
        for words in ["API gateway", "API key", "client certificate", gateway_id] {
            assert!(
                run.stderr.contains(words),
                "{what}: {words:?} missing:\n{}",
                run.stderr
            );
        }
        assert!(!run.stderr.contains("valid but"), "{}", run.stderr);
    }
    assert!(
        nginx.access_log().last().unwrap().contains("FAILED"),
        "{:?}",
        nginx.access_log()
    );
}

#[test]
fn the_gateways_504_is_named_as_the_gateways_and_every_attempt_is_a_full_handshake() {
    let server = Pki::generate(&SERVER_NAMES).unwrap();
    let nginx = gateway(&server, &[&server.ca_cert_pem]);
    let run = check(
        &gateway_env(
            &server,
            nginx.port,
            "/timeout",
            &server.client,
            SENTINEL_KEY,
        ),
        &["--attempts", "3", "--retry-delay", "10ms"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["class"], "gateway_error");
    assert!(
        run.stderr.contains("from the API gateway"),
        "{}",
        run.stderr
    );
    let reused: Vec<String> = nginx
        .access_log()
        .iter()
        .map(|line| line.split(' ').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(reused, [".", ".", "."], "a TLS session was resumed");
}

#[test]
fn a_suite_counts_nginx_refusing_a_missing_or_untrusted_certificate_as_refused() {
    let server = Pki::generate(&SERVER_NAMES).unwrap();
    let nginx = nginx(&server, &[&server.ca_cert_pem]);
    let stranger = Pki::generate(&SERVER_NAMES).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("suite.toml");
    std::fs::write(
        &file,
        format!(
            r#"base_url = "https://127.0.0.1:{port}"
ca_cert = "${{CA}}"
[consumers.good]
api_key = "${{KEY}}"
cert = "${{GOOD_CERT}}"
key = "${{GOOD_KEY}}"
[consumers.nobody]
api_key = "${{KEY}}"
[consumers.stranger]
api_key = "${{KEY}}"
cert = "${{STRANGER_CERT}}"
key = "${{STRANGER_KEY}}"
[[check]]
name = "healthy"
consumer = "good"
path = "/v1/persons"
expect_json = ["$..firstName"]
[[check]]
name = "no certificate"
consumer = "nobody"
path = "/v1/persons"
expect = "refused"
[[check]]
name = "untrusted certificate"
consumer = "stranger"
path = "/v1/persons"
expect = "refused"
"#,
            port = nginx.port
        ),
    )
    .unwrap();
    let output = heartbeat()
        .arg("suite")
        .arg(&file)
        .args(["--format", "json"])
        .env("CA", b64(&server.ca_cert_pem))
        .env("KEY", SENTINEL_KEY)
        .env("GOOD_CERT", b64(&server.client.cert_pem))
        .env("GOOD_KEY", b64(&server.client.key_pem))
        .env("STRANGER_CERT", b64(&stranger.client.cert_pem))
        .env("STRANGER_KEY", b64(&stranger.client.key_pem))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let statuses: Vec<Option<u64>> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_u64())
        .collect();
    assert_eq!(statuses, [Some(200), Some(400), Some(400)], "{stderr}");
    assert!(!stderr.contains(SENTINEL_KEY));
}
