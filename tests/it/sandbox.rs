//! `heartbeat sandbox` and `heartbeat demo` as users run them: a child process, its env file, curl (an
//! OpenSSL client) with the written certificates, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::*;
use base64::Engine as _;

/// A `heartbeat sandbox --write-env` child process, stopped on drop, with the variables it wrote.
struct SandboxProcess {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
    env_file: std::path::PathBuf,
    vars: Vec<(String, String)>,
}

impl SandboxProcess {
    fn start(args: &[&str]) -> Self {
        Self::start_after(args, |_| {})
    }

    /// Starts the sandbox after `prepare` has had the env file's path (to put something there first).
    fn start_after(args: &[&str], prepare: impl FnOnce(&Path)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let env_file = dir.path().join("sb.env");
        prepare(&env_file);
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("heartbeat"))
            .arg("sandbox")
            .args(args)
            .arg("--write-env")
            .arg(&env_file)
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start heartbeat sandbox");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the sandbox printed its address");
        let url = line
            .trim()
            .strip_prefix("heartbeat sandbox: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        let vars = read_env(&env_file);
        Self {
            child,
            url,
            dir,
            env_file,
            vars,
        }
    }

    fn stop(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status.code().unwrap_or(-1), stderr)
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `export NAME='value'` lines.
fn read_env(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (name, value) = l.strip_prefix("export ").unwrap().split_once('=').unwrap();
            (name.to_string(), value.trim_matches('\'').to_string())
        })
        .collect()
}

fn decode(value: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn the_env_file_holds_a_ready_context_and_a_check_with_it_passes() {
    let sandbox = SandboxProcess::start(&["--api-key", "SENTINEL-sandbox-key-never-logged"]);
    let (vars, env_file) = (&sandbox.vars, &sandbox.env_file);
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "SERVICE_URL",
            "API_KEY",
            "MTLS_CERT",
            "MTLS_KEY",
            "SERVICE_CA_CERT",
            "SERVICE_BASE_URL",
            "DOMAIN",
            "HMPPSID",
            "OBO_TOKEN",
            "FULL_ACCESS_API_KEY",
            "FULL_ACCESS_CERT",
            "FULL_ACCESS_KEY",
            "DEV_SMOKE_TEST_FULL_ACCESS_API_KEY",
            "DEV_SMOKE_TEST_FULL_ACCESS_CERT",
            "DEV_SMOKE_TEST_FULL_ACCESS_KEY",
            "LIMITED_ACCESS_API_KEY",
            "LIMITED_ACCESS_CERT",
            "LIMITED_ACCESS_KEY",
            "DEV_SMOKE_TEST_LIMITED_ACCESS_API_KEY",
            "DEV_SMOKE_TEST_LIMITED_ACCESS_CERT",
            "DEV_SMOKE_TEST_LIMITED_ACCESS_KEY",
            "NO_ACCESS_API_KEY",
            "NO_ACCESS_CERT",
            "NO_ACCESS_KEY",
            "DEV_SMOKE_TEST_NO_ACCESS_API_KEY",
            "DEV_SMOKE_TEST_NO_ACCESS_CERT",
            "DEV_SMOKE_TEST_NO_ACCESS_KEY",
            "REVOKED_API_KEY",
            "REVOKED_CERT",
            "REVOKED_KEY",
            "DEV_SMOKE_TEST_REVOKED_API_KEY",
            "DEV_SMOKE_TEST_REVOKED_CERT",
            "DEV_SMOKE_TEST_REVOKED_KEY",
            "SUSPENDED_API_KEY",
            "SUSPENDED_CERT",
            "SUSPENDED_KEY",
            "PREPROD_SMOKE_TEST_API_KEY",
            "PREPROD_SMOKE_TEST_CERT",
            "PREPROD_SMOKE_TEST_KEY",
            "PROD_SMOKE_TEST_API_KEY",
            "PROD_SMOKE_TEST_CERT",
            "PROD_SMOKE_TEST_KEY",
        ]
    );
    assert_eq!(vars[0].1, format!("{}/v1/persons/A8451DY", sandbox.url));
    assert_eq!(vars[5].1, sandbox.url);
    assert_eq!(vars[1].1, "SENTINEL-sandbox-key-never-logged");
    assert!(decode(&vars[2].1).starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(decode(&vars[3].1).starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(decode(&vars[4].1).starts_with("-----BEGIN CERTIFICATE-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(env_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let binary = assert_cmd::cargo::cargo_bin("heartbeat");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            ". '{}' && '{}' check --quiet",
            env_file.display(),
            binary.display()
        ))
        .env_clear()
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));

    let (code, log) = sandbox.stop();
    assert_eq!(code, 0);
    assert!(
        log.contains("sandbox: GET /v1/persons/A8451DY 200 client=\"CN=heartbeat\""),
        "{log}"
    );
    assert!(log.contains("heartbeat sandbox: stopped"), "{log}");
    assert!(
        !log.contains("SENTINEL-sandbox-key"),
        "the key reached the log: {log}"
    );
}

#[cfg(unix)]
#[test]
fn an_existing_world_readable_env_file_is_replaced_by_a_private_one() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = SandboxProcess::start_after(&[], |path| {
        std::fs::write(path, "old\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    });
    let mode = std::fs::metadata(&sandbox.env_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(sandbox.vars.iter().any(|(name, _)| name == "API_KEY"));
    let leftovers = std::fs::read_dir(sandbox.dir.path()).unwrap().count();
    assert_eq!(
        leftovers, 1,
        "a temporary file was left beside the env file"
    );
}

#[test]
fn a_consumers_file_in_the_teams_shape_sets_the_allow_lists() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("application-dev.yml");
    std::fs::write(
        &yaml,
        "authorisation:\n  consumers:\n    heartbeat:\n      include:\n        - \"/v1/persons/.*/name\"\n",
    )
    .unwrap();
    let sandbox = SandboxProcess::start(&["--consumers", yaml.to_str().unwrap()]);
    let vars: Vec<(&'static str, String)> = sandbox
        .vars
        .iter()
        .filter_map(|(n, v)| {
            [
                "SERVICE_URL",
                "API_KEY",
                "MTLS_CERT",
                "MTLS_KEY",
                "SERVICE_CA_CERT",
            ]
            .into_iter()
            .find(|k| k == n)
            .map(|k| (k, v.clone()))
        })
        .collect();
    let by_id = check(&vars, &["--attempts", "1"]);
    assert_eq!(by_id.code, 1, "{}", by_id.stderr);
    assert_eq!(by_id.json()["class"], "consumer_forbidden");
    let name_url = format!("{}/v1/persons/A8451DY/name", sandbox.url);
    let name = check(&with(vars, "SERVICE_URL", name_url), &["--attempts", "1"]);
    assert_eq!(name.code, 0, "{}", name.stderr);
}

#[test]
fn a_consumers_file_that_is_not_the_teams_shape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("bad.yml");
    std::fs::write(&yaml, "consumers: [1, 2]\n").unwrap();
    let output = heartbeat()
        .args(["sandbox", "--consumers"])
        .arg(&yaml)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("authorisation.consumers"), "{stderr}");
}

#[test]
fn a_consumers_file_that_would_cost_too_much_is_refused_at_once() {
    // 100,000 nested brackets took the YAML parser 43 s; bounded before parsing, it is refused at once.
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("deep.yml");
    let depth = 100_000;
    let text = format!(
        "authorisation:\n  consumers:\n    c: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    std::fs::write(&yaml, text).unwrap();
    let output = heartbeat()
        .args(["sandbox", "--consumers"])
        .arg(&yaml)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nests [ ] or { } more than 64 deep"),
        "{stderr}"
    );
}

#[test]
fn curl_with_the_written_certificates_gets_json_and_curl_without_is_refused() {
    let sandbox = SandboxProcess::start(&[]);
    let (vars, dir) = (&sandbox.vars, sandbox.dir.path());
    let file = |name: &str, value: &str| {
        let path = dir.join(name);
        std::fs::write(&path, decode(value)).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (cert, key, ca) = (
        file("c.pem", &vars[2].1),
        file("k.pem", &vars[3].1),
        file("ca.pem", &vars[4].1),
    );
    let url = &vars[0].1;
    let header = format!("x-api-key: {}", vars[1].1);
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "-H",
            &header,
            url,
        ])
        .output()
        .expect("curl is installed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["data"]["prisonerOffenderSearch"]["firstName"], "Ada");

    let refused = Command::new("curl")
        .args(["--silent", "--cacert", &ca, "-H", &header, url])
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "a client without a certificate got an answer"
    );
    assert!(refused.stdout.is_empty());
    let (_, log) = sandbox.stop();
    assert!(log.contains("TLS handshake refused"), "{log}");
}

#[test]
fn a_sandbox_signed_by_the_teams_ca_accepts_their_v1_certificate() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (ca, key) = (fixtures.join("ca.pem"), fixtures.join("ca.key"));
    // As in the real API, the certificate's CN must be on the allow-list too.
    let dir = tempfile::tempdir().unwrap();
    let consumers = dir.path().join("application-dev.yml");
    std::fs::write(
        &consumers,
        "authorisation:\n  consumers:\n    heartbeat-fixture-v1:\n      include: [\"/v1/persons/[^/]*$\"]\n",
    )
    .unwrap();
    let sandbox = SandboxProcess::start(&[
        "--ca-cert",
        ca.to_str().unwrap(),
        "--ca-key",
        key.to_str().unwrap(),
        "--consumers",
        consumers.to_str().unwrap(),
    ]);
    let vars = &sandbox.vars;
    let output = heartbeat()
        .args([
            "check",
            "--cert",
            fixtures.join("client-v1.pem").to_str().unwrap(),
            "--key",
            fixtures.join("client-v1.key").to_str().unwrap(),
        ])
        .env("SERVICE_URL", &vars[0].1)
        .env("API_KEY", &vars[1].1)
        .env("SERVICE_CA_CERT", &vars[4].1)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (_, log) = sandbox.stop();
    assert!(log.contains("client=\"CN=heartbeat-fixture-v1\""), "{log}");
}

#[test]
fn a_non_loopback_bind_needs_allow_remote() {
    heartbeat()
        .args(["sandbox", "--bind", "0.0.0.0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--bind 0.0.0.0 is not a loopback address; pass --allow-remote",
        ));
}

#[test]
fn the_demo_shows_a_green_and_three_red_checks_and_exits_0() {
    let output = heartbeat()
        .arg("demo")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("── 1. a healthy check") && stdout.contains("heartbeat: healthy: 200"),
        "{stdout}"
    );
    assert!(
        stdout.contains("── 2. the API fails on its side")
            && stdout.contains("userMessage: The persons service is unavailable"),
        "{stdout}"
    );
    assert!(
        stdout.contains("── 3. an expired client certificate")
            && stdout.contains("the client certificate expired on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("── 4. the API gateway refuses a wrong API key")
            && stdout.contains("status 403 Forbidden from the API gateway")
            && stdout.contains("attempts:    1 of 3"),
        "{stdout}"
    );
    assert!(
        stdout.contains("── 5. a suite") && stdout.contains("heartbeat suite: 6 passed, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("all four checks and the suite behaved as expected"),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "no colour when not a terminal");
}

#[test]
fn a_sandbox_that_cannot_listen_is_a_startup_failure_not_a_usage_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = heartbeat()
        .args(["sandbox", "--port", &port])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the sandbox could not start: listening on 127.0.0.1:"),
        "{stderr}"
    );
}

#[test]
fn idle_connections_past_the_cap_neither_stall_the_sandbox_nor_keep_their_slots() {
    // 300 connections that never start a handshake: more than the sandbox serves at once (256). Those it took
    // are dropped after the handshake timeout (10 s), so a real check that queued behind them still passes.
    let sandbox = sandbox();
    let url = reqwest::Url::parse(&sandbox.url("/")).unwrap();
    let addr = (url.host_str().unwrap(), url.port().unwrap());
    let idle: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
        .collect();
    let started = std::time::Instant::now();
    let run = check(
        &vars(&sandbox, PERSON),
        &["--attempts", "1", "--timeout", "25s"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The other side of the timeout: an idle connection the sandbox took has been closed by now.
    let mut first = &idle[0];
    first
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 1];
    let read = std::io::Read::read(&mut first, &mut buf);
    assert!(
        matches!(&read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "an idle connection outlived the handshake timeout ({:?} after {:?})",
        read,
        started.elapsed()
    );
}

/// Runs the prod example against a sandbox process with the variables its --write-env file holds.
fn prod_suite(sandbox: &SandboxProcess) -> (i32, serde_json::Value) {
    let (_dir, example) = crate::smoke::quick_copy("prod");
    let output = heartbeat()
        .arg("suite")
        .arg(example)
        .args(["--format", "json"])
        .envs(sandbox.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap();
    (output.status.code().unwrap(), json)
}

#[test]
fn delius_down_and_the_waf_off_are_flags_and_each_turns_its_check_red() {
    let verdicts = |json: &serde_json::Value| -> Vec<String> {
        let checks = json["checks"].as_array().unwrap();
        checks
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    c["name"].as_str().unwrap(),
                    c["verdict"].as_str().unwrap()
                )
            })
            .collect()
    };
    let (code, json) = prod_suite(&SandboxProcess::start(&[]));
    assert_eq!(code, 0, "{json}");
    let (code, json) = prod_suite(&SandboxProcess::start(&["--delius-down"]));
    assert_eq!(code, 1, "{json}");
    assert!(
        verdicts(&json).contains(&"reference data: failed".to_string()),
        "{json}"
    );
    assert!(
        verdicts(&json).contains(&"the WAF blocks SQL injection: passed".to_string()),
        "{json}"
    );
    let (code, json) = prod_suite(&SandboxProcess::start(&["--no-waf"]));
    assert_eq!(code, 5, "{json}");
    assert!(
        verdicts(&json).contains(&"the WAF blocks SQL injection: failed".to_string()),
        "{json}"
    );
    assert!(
        verdicts(&json).contains(&"reference data: passed".to_string()),
        "{json}"
    );
}
