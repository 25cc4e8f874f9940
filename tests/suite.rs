//! `heartbeat suite` end to end against the sandbox's consumer profiles: doors that open, doors that stay
//! locked, one left open, failures of every kind, an invalid file, filters, JSON and JUnit.

mod common;

use std::path::Path;

use common::*;
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
fn the_example_file_plans_against_the_sandbox() {
    let sandbox = sandbox();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/integration-api-smoke.toml");
    let env = suite_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &sandbox.pki().ca_cert_pem).unwrap();
    let output = heartbeat()
        .arg("suite")
        .arg(&example)
        .args(["--list", "--ca-cert"])
        .arg(&ca)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(listed.contains("35 checks"), "{listed}");
    // The routes the sandbox knows answer as the team's profiles expect.
    let only = [
        "person by id",
        "person name",
        "person search",
        "visit can be booked",
        "limited: name is allowed",
        "limited: search is forbidden",
        "no access: search is forbidden",
        "no certificate: person is refused",
    ];
    let mut flags = vec!["--ca-cert", ca.to_str().unwrap()];
    for name in &only {
        flags.extend(["--only", name]);
    }
    let text = std::fs::read_to_string(&example).unwrap();
    let ran = run_suite(&text, &env, &flags);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.json()["passed"], 8);
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
