//! `heartbeat suite` end to end against the sandbox's consumer profiles: doors that open, doors that stay
//! locked, one left open, failures of every kind, an invalid file, filters, JSON and JUnit.

use std::path::Path;

use crate::common::*;
use heartbeat::sandbox::Handle;

/// The environment a suite runs with: the sandbox's profile consumers, plus an untrusted pair.
fn suite_env(sandbox: &Handle) -> Vec<(String, String)> {
    let mut env = sandbox.profile_environment().unwrap();
    env.push(("SERVICE_CA_CERT".into(), b64(&sandbox.pki().ca_cert_pem)));
    let stranger =
        heartbeat::sandbox::pki::Pki::generate(&heartbeat::sandbox::pki::SERVER_NAMES).unwrap();
    env.push(("STRANGER_CERT".into(), b64(&stranger.client.cert_pem)));
    env.push(("STRANGER_KEY".into(), b64(&stranger.client.key_pem)));
    env
}

const CONSUMERS: &str = r#"
base_url = "${SERVICE_BASE_URL}"
ca_cert = "${SERVICE_CA_CERT}"

[defaults]
attempts = 2
retry_delay = "50ms"
concurrency = 8

[consumers.full]
api_key = "${FULL_ACCESS_API_KEY}"
cert = "${FULL_ACCESS_CERT}"
key = "${FULL_ACCESS_KEY}"

[consumers.limited]
api_key = "${LIMITED_ACCESS_API_KEY}"
cert = "${LIMITED_ACCESS_CERT}"
key = "${LIMITED_ACCESS_KEY}"

[consumers.none]
api_key = "${NO_ACCESS_API_KEY}"
cert = "${NO_ACCESS_CERT}"
key = "${NO_ACCESS_KEY}"

[consumers.anonymous]
api_key = "${NO_ACCESS_API_KEY}"

[consumers.stranger]
api_key = "${FULL_ACCESS_API_KEY}"
cert = "${STRANGER_CERT}"
key = "${STRANGER_KEY}"
"#;

fn check_block(name: &str, consumer: &str, path: &str, extra: &str) -> String {
    format!(
        "\n[[check]]\nname = \"{name}\"\nconsumer = \"{consumer}\"\npath = \"{path}\"\n{extra}\n"
    )
}

/// The run of one suite: exit code, outputs and the JUnit file.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    junit: String,
}

impl Ran {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

fn run_suite(text: &str, env: &[(String, String)], flags: &[&str]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let (file, junit) = (dir.path().join("suite.toml"), dir.path().join("suite.xml"));
    std::fs::write(&file, text).unwrap();
    let output = heartbeat()
        .arg("suite")
        .arg(&file)
        .args(flags)
        .args(["--format", "json", "--junit"])
        .arg(&junit)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let ran = Ran {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        junit: std::fs::read_to_string(&junit).unwrap_or_default(),
    };
    // No secret of any consumer reaches any output.
    for (name, value) in env {
        if (name.ends_with("_KEY") || name.ends_with("_CERT")) && value.len() >= 16 {
            for text in [&ran.stdout, &ran.stderr, &ran.junit] {
                assert!(!text.contains(value.as_str()), "{name} leaked:\n{text}");
            }
        }
    }
    ran
}

/// Sixty checks in the shape of the team's profiles: full access everywhere, limited access on /name and
/// refused on search, no access refused, no certificate and an untrusted one refused at the door.
fn sixty_checks() -> String {
    let mut text = CONSUMERS.to_string();
    for n in 0..30 {
        let id = format!("A{n:04}DY");
        text += &check_block(
            &format!("full person {n}"),
            "full",
            &format!("/v1/persons/{id}"),
            "expect_json = [\"$..firstName\"]",
        );
    }
    for n in 0..10 {
        text += &check_block(
            &format!("full name {n}"),
            "full",
            &format!("/v1/persons/G{n:04}VK/name"),
            "",
        );
    }
    text += &check_block(
        "full search",
        "full",
        "/v1/persons?first_name=john",
        "expect_json = [\"$.data[0].firstName=john\"]",
    );
    text += &check_block(
        "full visit",
        "full",
        "/v1/visit",
        "method = \"POST\"\njson = { prisonerId = \"A8451DY\", visitType = \"SOCIAL\" }",
    );
    for n in 0..6 {
        text += &check_block(
            &format!("limited name {n}"),
            "limited",
            &format!("/v1/persons/B{n:04}XY/name"),
            "",
        );
    }
    for n in 0..6 {
        text += &check_block(
            &format!("limited search {n}"),
            "limited",
            "/v1/persons?first_name=john",
            "expect_status = 403",
        );
    }
    for n in 0..3 {
        text += &check_block(
            &format!("no access {n}"),
            "none",
            "/v1/persons/A8451DY",
            "expect_status = [403]",
        );
    }
    text += &check_block(
        "no certificate is refused",
        "anonymous",
        "/v1/persons/A8451DY",
        "expect = \"refused\"",
    );
    text += &check_block(
        "no certificate on name is refused",
        "anonymous",
        "/v1/persons/A8451DY/name",
        "expect = \"refused\"",
    );
    text += &check_block(
        "untrusted certificate is refused",
        "stranger",
        "/v1/persons/A8451DY",
        "expect = \"refused\"",
    );
    text
}

#[test]
fn sixty_checks_across_the_profiles_pass_with_sixty_testcases() {
    let sandbox = sandbox();
    let text = sixty_checks();
    let ran = run_suite(&text, &suite_env(&sandbox), &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let json = ran.json();
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(60), Some(0)),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.junit.matches("<testcase ").count(), 60, "{}", ran.junit);
    assert!(
        ran.junit.contains("classname=\"heartbeat.limited\""),
        "{}",
        ran.junit
    );
    assert!(
        ran.stderr.contains("heartbeat suite: 60 passed, 0 failed"),
        "{}",
        ran.stderr
    );
    // Each check has its line as it finishes, once, with its consumer.
    let lines = ran.stderr.lines().filter(|l| l.starts_with("  ✓ ")).count();
    assert_eq!(lines, 60, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("  ✓ no certificate is refused [anonymous] refused in "),
        "{}",
        ran.stderr
    );
    // Checks of one consumer share connections; locked-door checks each open their own.
    assert!(
        sandbox.connections() < 60,
        "{} connections for 60 checks",
        sandbox.connections()
    );
}

#[test]
fn a_door_left_open_exits_5_and_is_named() {
    let sandbox = sandbox();
    let text = CONSUMERS.to_string()
        + &check_block("person", "full", "/v1/persons/A8451DY", "")
        + &check_block(
            "full access must be refused here",
            "full",
            "/v1/persons/A8451DY/name",
            "expect = \"refused\"",
        );
    let ran = run_suite(&text, &suite_env(&sandbox), &[]);
    assert_eq!(ran.code, 5, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("DOOR OPEN: \"full access must be refused here\" [full]"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.json()["verdict"], "door_open");
    let door = &ran.json()["checks"][1];
    assert_eq!(
        (door["class"].as_str(), door["status"].as_u64()),
        (Some("door_open"), Some(200))
    );
}

#[test]
fn a_tls_failure_beside_a_500_exits_4() {
    let sandbox = sandbox();
    let text = CONSUMERS.to_string()
        + &check_block("fails on its side", "full", "/fault/error", "")
        + &check_block(
            "untrusted certificate expecting to get in",
            "stranger",
            "/v1/persons/A8451DY",
            "",
        );
    let ran = run_suite(&text, &suite_env(&sandbox), &[]);
    assert_eq!(ran.code, 4, "{}", ran.stderr);
    let json = ran.json();
    let classes: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap())
        .collect();
    assert_eq!(
        classes,
        ["unexpected_status", "client_certificate_rejected"]
    );
}

#[test]
fn a_literal_key_and_an_unknown_consumer_are_named_without_values_and_nothing_is_sent() {
    let sandbox = sandbox();
    let text = "base_url = \"${SERVICE_BASE_URL}\"\n\n[consumers.full]\napi_key = \"SENTINEL-literal-key-in-git\"\n\n[[check]]\nname = \"a\"\nconsumer = \"ghost\"\npath = \"/v1/persons/A8451DY\"\nexpect_json = [\"$..[\"]\ntimeout = \"forever\"\nunknown_key = 1\n";
    let ran = run_suite(text, &suite_env(&sandbox), &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    for expected in [
        "suite.toml:4:11: consumers.full.api_key holds a literal value",
        "suite.toml:8:12: unknown consumer \"ghost\"",
        "suite.toml:10:16: ",
        "suite.toml:11:11: timeout:",
        "suite.toml:12:1: unknown key \"unknown_key\"",
    ] {
        assert!(
            ran.stderr.contains(expected),
            "{expected:?} missing:\n{}",
            ran.stderr
        );
    }
    assert!(!ran.stderr.contains("SENTINEL-literal"), "{}", ran.stderr);
    assert!(!ran.junit.contains("SENTINEL-literal"), "{}", ran.junit);
    assert_eq!(sandbox.connections(), 0, "something was sent");
}

#[test]
fn list_sends_nothing_and_filters_pick_checks() {
    let sandbox = sandbox();
    let text = CONSUMERS.to_string()
        + &check_block("one", "full", "/v1/persons/A8451DY", "")
        + &check_block("two", "limited", "/v1/persons/A8451DY/name", "")
        + &check_block(
            "three",
            "limited",
            "/v1/persons?first_name=john",
            "expect_status = 403",
        );
    let env = suite_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, &text).unwrap();
    let listed = heartbeat()
        .arg("suite")
        .arg(&file)
        .arg("--list")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0));
    assert!(
        stdout.contains("two  [limited]  GET https://127.0.0.1:") && stdout.contains("3 checks"),
        "{stdout}"
    );
    assert_eq!(sandbox.connections(), 0);
    let ran = run_suite(&text, &env, &["--consumer", "limited", "--only", "three"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let json = ran.json();
    let names: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["three"]);
    let unknown = run_suite(&text, &env, &["--only", "four"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("--only \"four\" names no check"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn the_example_files_plan_against_the_sandbox_with_a_ca_file() {
    let sandbox = sandbox();
    let mut env = sandbox.profile_environment().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &sandbox.pki().ca_cert_pem).unwrap();
    env.push(("SERVICE_CA_CERT".into(), "set-but-overridden".into()));
    for (name, checks) in [("dev", 42), ("preprod", 5), ("prod", 5)] {
        let example = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("examples/hmpps-integration-api/{name}.toml"));
        let output = heartbeat()
            .arg("suite")
            .arg(&example)
            .args(["--list", "--ca-cert"])
            .arg(&ca)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        let listed = String::from_utf8_lossy(&output.stdout);
        assert!(
            listed.contains(&format!("{checks} checks, sending nothing")),
            "{name}: {listed}"
        );
    }
    assert_eq!(sandbox.connections(), 0, "--list sends nothing");
}

#[test]
fn service_ca_cert_means_to_a_suite_what_it_means_to_check() {
    let sandbox = sandbox();
    let text = CONSUMERS.replace("ca_cert = \"${SERVICE_CA_CERT}\"\n", "")
        + &check_block(
            "name",
            "limited",
            "/v1/persons/A8451DY/name",
            "attempts = 1",
        );
    let env = suite_env(&sandbox);
    // A file without ca_cert trusts SERVICE_CA_CERT from the environment, as `check` does.
    let trusted = run_suite(&text, &env, &[]);
    assert_eq!(trusted.code, 0, "{}", trusted.stderr);
    let line = trusted
        .stderr
        .lines()
        .find(|l| l.contains("name [limited]"))
        .unwrap();
    let unit = regex_lite::Regex::new(r"200 in [0-9.]+ ms$").unwrap();
    assert!(unit.is_match(line), "one unit, once: {line}");
    // The other side: without it the sandbox's private CA is not trusted, and that is a TLS failure.
    let without: Vec<_> = env
        .into_iter()
        .filter(|(k, _)| k != "SERVICE_CA_CERT")
        .collect();
    let untrusted = run_suite(&text, &without, &[]);
    assert_eq!(untrusted.code, 4, "{}", untrusted.stderr);
    assert_eq!(
        untrusted.json()["checks"][0]["class"],
        "server_certificate_invalid"
    );
}

/// Plans (and, when the plan is sound, runs) a suite; exit 2 means nothing was sent.
fn planned(sandbox: &Handle, text: &str, flags: &[&str]) -> Ran {
    let ran = run_suite(text, &suite_env(sandbox), flags);
    if ran.code == 2 {
        assert_eq!(
            sandbox.connections(),
            0,
            "exit 2 must mean nothing was sent"
        );
    }
    ran
}

fn port(sandbox: &Handle) -> String {
    let env = suite_env(sandbox);
    let base = &env.iter().find(|(k, _)| k == "SERVICE_BASE_URL").unwrap().1;
    base.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string()
}

#[test]
fn a_path_never_leaves_base_urls_origin() {
    let sandbox = sandbox();
    let port = port(&sandbox);
    for path in [
        format!("@127.0.0.2:{port}/v1/persons/A8451DY"),
        format!("//127.0.0.2:{port}/v1/persons/A8451DY"),
        ":1/v1/persons/A8451DY".to_string(),
        "\\\\127.0.0.2/v1/persons/A8451DY".to_string(),
        "/\\\\127.0.0.2/v1/persons/A8451DY".to_string(),
    ] {
        let text = CONSUMERS.to_string() + &check_block("leave", "full", &path, "");
        let ran = planned(&sandbox, &text, &[]);
        assert_eq!(ran.code, 2, "{path}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("path: must start with a single /")
                || ran.stderr.contains("would leave base_url's origin"),
            "{path}: {}",
            ran.stderr
        );
    }
    // The other side: a path on the origin is sent.
    let text = CONSUMERS.to_string() + &check_block("stay", "full", "/v1/persons/A8451DY", "");
    assert_eq!(planned(&sandbox, &text, &[]).code, 0);
}

#[test]
fn a_url_on_another_origin_needs_the_consumer_to_list_it() {
    let sandbox = sandbox();
    // localhost is another origin than 127.0.0.1, on the same sandbox (its certificate names both).
    let other = format!("https://localhost:{}", port(&sandbox));
    let check = format!(
        "\n[[check]]\nname = \"elsewhere\"\nconsumer = \"full\"\nurl = \"{other}/v1/persons/A8451DY\"\n"
    );
    let refused = planned(&sandbox, &(CONSUMERS.to_string() + &check), &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "{other} is not an origin this check's consumer belongs to"
        )),
        "{}",
        refused.stderr
    );
    let listed = CONSUMERS.replace(
        "[consumers.full]\n",
        &format!("[consumers.full]\norigins = [\"{other}\"]\n"),
    ) + &check;
    let ran = planned(&sandbox, &listed, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(sandbox.connections() > 0);
}

#[test]
fn a_check_sets_no_credential_framing_or_hop_by_hop_header() {
    let sandbox = sandbox();
    let text = CONSUMERS.replace(
        "[consumers.limited]\n",
        "[consumers.limited]\napi_key_header = \"x-token\"\n",
    );
    for (consumer, header) in [
        ("full", "x-api-key"),
        ("full", "Authorization"),
        ("full", "cookie"),
        ("full", "x-on-behalf-of"),
        ("limited", "x-token"),
        ("full", "te"),
        ("full", "upgrade"),
        ("full", "expect"),
        ("full", "keep-alive"),
        ("full", "host"),
        ("full", "transfer-encoding"),
    ] {
        let file = text.clone()
            + &check_block(
                "h",
                consumer,
                "/v1/persons/A8451DY/name",
                &format!("headers = {{ \"{header}\" = \"SENTINEL-literal\" }}"),
            );
        let ran = planned(&sandbox, &file, &[]);
        assert_eq!(ran.code, 2, "{header}: {}", ran.stderr);
        let lower = header.to_ascii_lowercase();
        assert!(
            ran.stderr.contains(&format!("headers may not set {lower}"))
                || ran
                    .stderr
                    .contains(&format!("headers may set {lower} only to a reference")),
            "{header}: {}",
            ran.stderr
        );
        assert!(!ran.stderr.contains("SENTINEL-literal"));
    }
    // The other side: an ordinary header is sent, and the renamed key still opens the door.
    let file = text
        + &check_block(
            "h",
            "limited",
            "/v1/persons/A8451DY/name",
            "headers = { \"x-correlation-id\" = \"abc\" }",
        );
    let ran = planned(&sandbox, &file, &[]);
    assert_eq!(
        ran.code, 1,
        "the sandbox's gateway reads x-api-key: {}",
        ran.stderr
    );
    assert_eq!(ran.json()["checks"][0]["status"], 403);
}

#[test]
fn a_consumers_headers_are_sent_unless_the_check_sets_the_same_one() {
    let sandbox = sandbox();
    let consumer = "api_key = \"${FULL_ACCESS_API_KEY}\"\n";
    let text = CONSUMERS.replace(
        &format!("[consumers.full]\n{consumer}"),
        &format!("[consumers.full]\n{consumer}headers = {{ \"content-type\" = \"text/x-consumer\", \"x-correlation-id\" = \"c\" }}\n"),
    ) + &check_block(
        "own type",
        "full",
        "/v1/visit",
        "method = \"POST\"\njson = { prisonerId = \"A8451DY\" }\nheaders = { \"content-type\" = \"application/vnd.visit+json\" }",
    );
    assert!(
        text.contains("text/x-consumer"),
        "the consumer's headers are in the file"
    );
    let ran = planned(&sandbox, &text, &[]);
    assert!(ran.code == 0 || ran.code == 1, "{}", ran.stderr);
    let records = sandbox.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].content_types, ["application/vnd.visit+json"]);
    assert!(
        records[0]
            .header_names
            .iter()
            .any(|n| n == "x-correlation-id"),
        "{records:?}"
    );
}

#[test]
fn defaults_hold_no_path_or_url_and_urls_need_a_host() {
    let sandbox = sandbox();
    let with_path = CONSUMERS.replace(
        "[defaults]\n",
        "[defaults]\npath = \"/v1/persons/A8451DY\"\n",
    ) + &check_block("a", "full", "/v1/persons/A8451DY", "");
    let ran = planned(&sandbox, &with_path, &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("unknown key \"path\""),
        "{}",
        ran.stderr
    );
    let hostless = CONSUMERS.replace(
        "base_url = \"${SERVICE_BASE_URL}\"",
        "base_url = \"https:///v1\"",
    ) + &check_block("a", "full", "/v1/persons/A8451DY", "");
    let ran = planned(&sandbox, &hostless, &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("base_url: has no host"),
        "{}",
        ran.stderr
    );
    let checked = heartbeat()
        .args(["check", "--url", "https:///v1/persons/A8451DY"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&checked.stderr).contains("has no host"));
}

#[test]
fn filters_select_alone_and_together_and_never_select_nothing() {
    let sandbox = sandbox();
    let text = CONSUMERS.to_string()
        + &check_block("one", "full", "/v1/persons/A8451DY", "")
        + &check_block("two", "limited", "/v1/persons/A8451DY/name", "")
        + &check_block("three", "limited", "/v1/persons/G6333VK/name", "");
    let names = |ran: &Ran| -> Vec<String> {
        ran.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let by_consumer = planned(&sandbox, &text, &["--consumer", "limited"]);
    assert_eq!(by_consumer.code, 0, "{}", by_consumer.stderr);
    assert_eq!(names(&by_consumer), ["two", "three"]);
    let by_name = planned(&sandbox, &text, &["--only", "one"]);
    assert_eq!(names(&by_name), ["one"]);
    let both = planned(
        &sandbox,
        &text,
        &["--only", "three", "--consumer", "limited"],
    );
    assert_eq!(names(&both), ["three"]);
    let fresh = crate::common::sandbox();
    let disjoint = planned(&fresh, &text, &["--only", "one", "--consumer", "limited"]);
    assert_eq!(disjoint.code, 2, "{}", disjoint.stderr);
    assert!(
        disjoint.stderr.contains("select no check"),
        "{}",
        disjoint.stderr
    );
}

#[test]
fn a_consumer_that_cannot_be_built_is_reported_once() {
    let sandbox = sandbox();
    let text = CONSUMERS.to_string()
        + "\n[consumers.broken]\napi_key = \"${FULL_ACCESS_API_KEY}\"\ncert = \"${FULL_ACCESS_KEY}\"\nkey = \"${FULL_ACCESS_KEY}\"\n"
        + &check_block("a", "broken", "/v1/persons/A8451DY", "")
        + &check_block("b", "broken", "/v1/persons/A8451DY/name", "")
        + &check_block("c", "ghost", "/v1/persons/A8451DY", "");
    let ran = planned(&sandbox, &text, &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert_eq!(
        ran.stderr.matches("consumers.broken.cert").count(),
        1,
        "{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains("unknown consumer \"broken\""),
        "{}",
        ran.stderr
    );
    // The other side: a consumer the file does not define is still named, with those it does.
    assert!(
        ran.stderr
            .contains("unknown consumer \"ghost\"; the file defines: anonymous, broken, full"),
        "{}",
        ran.stderr
    );
}

/// A server on 127.0.0.1 that is no TLS front door: it answers plain HTTP, or resets every connection.
fn not_a_front_door(reset: bool) -> std::net::SocketAddr {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            if reset {
                // SO_LINGER 0: close with a reset, as a crashing server does.
                let socket = socket2_free_linger(&stream);
                drop(socket);
                continue;
            }
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    addr
}

/// Sets SO_LINGER to zero so that dropping the stream resets the connection.
fn socket2_free_linger(stream: &std::net::TcpStream) -> std::net::TcpStream {
    use std::os::fd::AsRawFd as _;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized linger value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    stream.try_clone().unwrap()
}

#[test]
fn a_locked_door_is_refused_only_by_a_refusal() {
    let sandbox = sandbox();
    let door = |consumer: &str| {
        check_block(
            "locked",
            consumer,
            "/v1/persons/A8451DY",
            "expect = \"refused\"\nattempts = 1",
        )
    };
    // A reset during the handshake reads as one at connect time or just after it, by timing: either way it is
    // "no answer" (exit 3), never a refusal.
    for (reset, code, classes) in [
        (false, 4, &["tls_handshake"][..]),
        (true, 3, &["connection_reset", "connection_refused"][..]),
    ] {
        let addr = not_a_front_door(reset);
        let text = CONSUMERS.replace("${SERVICE_BASE_URL}", &format!("https://{addr}"))
            + &door("anonymous");
        let ran = run_suite(&text, &suite_env(&sandbox), &[]);
        assert_eq!(ran.code, code, "reset {reset}: {}", ran.stderr);
        let class = ran.json()["checks"][0]["class"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(classes.contains(&class.as_str()), "{}", ran.stdout);
    }
    // The other side: the real front door's refusals pass — no certificate, and one from an unknown CA.
    for consumer in ["anonymous", "stranger"] {
        let ran = run_suite(
            &(CONSUMERS.to_string() + &door(consumer)),
            &suite_env(&sandbox),
            &[],
        );
        assert_eq!(ran.code, 0, "{consumer}: {}", ran.stderr);
    }
}

#[test]
fn names_with_control_bidi_or_invisible_characters_are_refused() {
    let sandbox = sandbox();
    for (name, code) in [
        ("a\u{1b}[31mred", "U+001B"),
        ("evil\u{202e}txt", "U+202E"),
        ("x\u{e0041}y", "U+E0041"),
        ("soft\u{ad}hyphen", "U+00AD"),
    ] {
        let toml_name = serde_json::to_string(name).unwrap(); // a TOML basic string, escapes included
        let text = CONSUMERS.to_string()
            + &format!(
                "\n[[check]]\nname = {toml_name}\nconsumer = \"full\"\npath = \"/v1/persons/A8451DY\"\n"
            );
        let ran = planned(&sandbox, &text, &[]);
        assert_eq!(ran.code, 2, "{name:?}: {}", ran.stderr);
        assert!(
            ran.stderr.contains(&format!("the check name holds {code}")),
            "{}",
            ran.stderr
        );
        assert!(
            !ran.stderr.contains(name),
            "the raw name must not reach the terminal"
        );
    }
    let consumer = CONSUMERS.replace("[consumers.full]", "[consumers.\"f\\u202Eull\"]");
    let ran = planned(
        &sandbox,
        &(consumer + &check_block("a", "limited", "/v1/persons/A8451DY/name", "")),
        &[],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("the consumer name holds U+202E"),
        "{}",
        ran.stderr
    );
    // The other side: names in any script are names.
    let text =
        CONSUMERS.to_string() + &check_block("personne — 人 é", "full", "/v1/persons/A8451DY", "");
    let ran = planned(&sandbox, &text, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.junit.contains("name=\"personne — 人 é\""),
        "{}",
        ran.junit
    );
}

/// Runs `heartbeat ARGS` with the suite environment, in a fresh folder; returns (code, stdout, stderr).
fn heartbeat_in(dir: &Path, env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let output = heartbeat()
        .current_dir(dir)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn reports_find_their_folder_and_a_run_that_cannot_start_still_says_why_in_json_and_junit() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite.toml");
    std::fs::write(
        &suite,
        CONSUMERS.to_string() + &check_block("name", "limited", "/v1/persons/A8451DY/name", ""),
    )
    .unwrap();
    let suite = suite.to_str().unwrap();
    let mut env = suite_env(&sandbox);
    env.push(("SERVICE_URL".into(), sandbox.url(PERSON)));
    env.push(("API_KEY".into(), sandbox.api_key().to_string()));
    env.extend(
        vars(&sandbox, PERSON)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    // `--junit results/…` makes the folder, for both commands.
    for (args, report) in [
        (
            vec!["suite", suite, "--junit", "results/suite/smoke.xml"],
            "results/suite/smoke.xml",
        ),
        (
            vec![
                "check",
                "--attempts",
                "1",
                "--junit",
                "results/check/heartbeat.xml",
            ],
            "results/check/heartbeat.xml",
        ),
    ] {
        let (code, _, stderr) = heartbeat_in(dir.path(), &env, &args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(
            std::fs::read_to_string(dir.path().join(report))
                .unwrap()
                .contains("<testcase")
        );
    }
    // A JUnit path that cannot be opened (its folder is a file) stops the run before sending, and JSON says why.
    std::fs::write(dir.path().join("blocked"), "a file").unwrap();
    let before = sandbox.connections();
    for args in [
        vec![
            "suite",
            suite,
            "--format",
            "json",
            "--junit",
            "blocked/smoke.xml",
        ],
        vec![
            "check",
            "--format",
            "json",
            "--junit",
            "blocked/heartbeat.xml",
        ],
    ] {
        let (code, stdout, stderr) = heartbeat_in(dir.path(), &env, &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        let json: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?}"));
        assert_eq!(json["verdict"], "invalid");
        assert_eq!(json["exit_code"], 2);
    }
    // A suite whose notifier is not configured: exit 2, and both reports say why (as `check` does).
    let (code, stdout, _) = heartbeat_in(
        dir.path(),
        &env,
        &[
            "suite",
            suite,
            "--notify",
            "slack",
            "--format",
            "json",
            "--junit",
            "notify.xml",
        ],
    );
    assert_eq!(code, 2);
    assert!(stdout.contains("SLACK_WEBHOOK_URL"), "{stdout}");
    let junit = std::fs::read_to_string(dir.path().join("notify.xml")).unwrap();
    assert!(
        junit.contains("SLACK_WEBHOOK_URL") && junit.contains("<failure"),
        "{junit}"
    );
    // The test case names the command that could not start, for each command.
    assert!(
        junit.contains("<testcase name=\"heartbeat suite\""),
        "{junit}"
    );
    let (code, _, _) = heartbeat_in(
        dir.path(),
        &env,
        &["check", "--notify", "slack", "--junit", "check.xml"],
    );
    assert_eq!(code, 2);
    let junit = std::fs::read_to_string(dir.path().join("check.xml")).unwrap();
    assert!(
        junit.contains("<testcase name=\"heartbeat check\""),
        "{junit}"
    );
    assert_eq!(sandbox.connections(), before, "nothing may be sent");
}

#[test]
fn a_variable_that_is_not_utf8_is_named_as_such_in_text_and_secrets() {
    use std::os::unix::ffi::OsStrExt as _;
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("suite.toml");
    let text = CONSUMERS.replace("${SERVICE_BASE_URL}", "https://${HOST_NAME}")
        + &check_block("a", "full", "/v1/persons/A8451DY", "");
    std::fs::write(&file, text).unwrap();
    let not_utf8 = std::ffi::OsStr::from_bytes(b"bad\xffvalue");
    for (name, unset) in [
        ("HOST_NAME", "FULL_ACCESS_KEY"),
        ("FULL_ACCESS_KEY", "HOST_NAME"),
    ] {
        let output = heartbeat()
            .arg("suite")
            .arg(&file)
            .arg("--list")
            .envs(
                suite_env(&sandbox)
                    .into_iter()
                    .filter(|(k, _)| k != name && k != unset),
            )
            .env(name, not_utf8)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("${name} is set but is not valid UTF-8")),
            "{stderr}"
        );
        // The other side: a variable that is really unset is named as unset.
        assert!(
            stderr.contains(&format!("${{{unset}}}, which is not set")),
            "{stderr}"
        );
        assert!(!stderr.contains("bad"), "{stderr}");
    }
}

#[test]
fn a_suite_file_is_read_up_to_8_mib_and_no_further() {
    let sandbox = sandbox();
    let body = CONSUMERS.to_string() + &check_block("a", "full", "/v1/persons/A8451DY", "");
    // 2 MiB of comments and one check: read and planned.
    let padding = format!("# {}\n", "x".repeat(2 * 1024 * 1024));
    let ran = run_suite(&(padding + &body), &suite_env(&sandbox), &["--list"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // One byte past 8 MiB: refused unread.
    let limit = 8 * 1024 * 1024;
    let over = format!("# {}\n", "x".repeat(limit - 3 - body.len() + 1)) + &body;
    assert_eq!(over.len(), limit + 1);
    let ran = run_suite(&over, &suite_env(&sandbox), &["--list"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("larger than 8388608 bytes"),
        "{}",
        ran.stderr
    );
}

#[test]
fn each_method_is_planned_as_written_and_a_path_needs_a_base() {
    let sandbox = sandbox();
    let mut text = CONSUMERS.to_string();
    for method in ["get", "POST", "PUT", "PATCH", "DELETE"] {
        text += &check_block(
            &format!("m {method}"),
            "full",
            "/v1/visit",
            &format!("method = \"{method}\""),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, &text).unwrap();
    let (code, listed, stderr) = heartbeat_in(
        dir.path(),
        &suite_env(&sandbox),
        &["suite", file.to_str().unwrap(), "--list"],
    );
    assert_eq!(code, 0, "{stderr}");
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        let shown = format!("[full]  {method} https://");
        assert!(listed.contains(&shown), "{method}: {listed}");
    }
    // A path with no base_url and no SERVICE_URL to take one from is named; nothing is sent.
    let baseless = text.replace("base_url = \"${SERVICE_BASE_URL}\"\n", "");
    let ran = planned(&sandbox, &baseless, &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("path needs base_url"), "{}", ran.stderr);
}

#[test]
fn a_json_body_sends_one_content_type_its_own_or_the_default() {
    let sandbox = sandbox();
    let text = CONSUMERS.to_string()
        + &check_block(
            "default type",
            "full",
            "/v1/visit",
            "method = \"POST\"\njson = { prisonerId = \"A8451DY\" }",
        )
        + &check_block(
            "own type",
            "limited",
            "/v1/visit",
            "method = \"POST\"\njson = { prisonerId = \"A8451DY\" }\nheaders = { \"content-type\" = \"application/vnd.visit+json\" }",
        );
    let ran = planned(&sandbox, &text, &[]);
    assert!(ran.code == 0 || ran.code == 1, "{}", ran.stderr);
    let records = sandbox.records();
    assert_eq!(records.len(), 2, "{records:?}");
    let mut types: Vec<_> = records.iter().map(|r| r.content_types.clone()).collect();
    types.sort();
    assert_eq!(
        types,
        [["application/json"], ["application/vnd.visit+json"]],
        "one each, its own winning"
    );
    for record in records {
        let types = record
            .header_names
            .iter()
            .filter(|n| n.as_str() == "content-type")
            .count();
        assert_eq!(types, 1, "{record:?}");
    }
}

#[test]
fn ca_cert_on_the_command_line_takes_the_forms_service_ca_cert_takes() {
    let sandbox = sandbox();
    let text = CONSUMERS.replace("ca_cert = \"${SERVICE_CA_CERT}\"\n", "")
        + &check_block(
            "name",
            "limited",
            "/v1/persons/A8451DY/name",
            "attempts = 1",
        );
    let env: Vec<_> = suite_env(&sandbox)
        .into_iter()
        .filter(|(k, _)| k != "SERVICE_CA_CERT")
        .collect();
    // `--ca-cert "$SERVICE_CA_CERT"`: the base64 value the sandbox writes, as `check` takes it.
    let value = b64(&sandbox.pki().ca_cert_pem);
    let ran = run_suite(&text, &env, &["--ca-cert", &value]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // The other side: a value that is no certificate is named, once, and never printed back.
    let bogus = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo-SENTINEL-ca";
    let ran = run_suite(&text, &env, &["--ca-cert", bogus]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("--ca-cert"), "{}", ran.stderr);
    assert!(
        !ran.stderr.contains("SENTINEL-ca") && !ran.stderr.contains("QUJDREVG"),
        "{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains("unknown consumer"),
        "one root problem, one message: {}",
        ran.stderr
    );
}

#[test]
fn a_locked_door_that_redirects_is_open_and_max_latency_fails_only_the_slow() {
    let sandbox = sandbox();
    // A consumer the front door lets through, as a misconfigured door would: a 3xx where a refusal was due.
    let text = CONSUMERS.to_string()
        + &check_block(
            "redirecting door",
            "full",
            "/fault/redirect?to=https://example.invalid/",
            "expect = \"refused\"\nattempts = 1",
        );
    let ran = planned(&sandbox, &text, &[]);
    assert_eq!(
        ran.code, 5,
        "a 3xx where a refusal was due is a door left open: {}",
        ran.stderr
    );
    assert_eq!(ran.json()["checks"][0]["class"], "door_open");
    // max_latency: the same slow answer fails under a tight bound and passes under a loose one.
    for (bound, code) in [("100ms", 1), ("20s", 0)] {
        let text = CONSUMERS.to_string()
            + &check_block(
                "slow",
                "full",
                "/fault/slow?delay=400ms",
                &format!("max_latency = \"{bound}\"\nattempts = 1"),
            );
        let ran = planned(&sandbox, &text, &[]);
        assert_eq!(ran.code, code, "{bound}: {}", ran.stderr);
        if code == 1 {
            assert_eq!(
                ran.json()["checks"][0]["class"],
                "too_slow",
                "{}",
                ran.stdout
            );
        }
    }
}
