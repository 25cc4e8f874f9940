//! `heartbeat check` end to end: the binary against the in-process sandbox on 127.0.0.1, one scenario a test.
//! Every run goes through `common::check`, which also asserts that no secret reached any output.

use std::io::{Read, Write};
use std::net::TcpListener;

use crate::common::hostile::{Hostile, behaviour};
use crate::common::*;
use heartbeat::sandbox::pki::{Pki, SERVER_NAMES};

const PERSONS: &str = PERSON;
/// Quick retries, so failing scenarios stay fast.
const FAST: [&str; 2] = ["--retry-delay", "50ms"];

/// Runs with one variable replaced, and asserts the run is refused as configuration, with this message, before
/// any connection is made.
fn refused(
    sandbox: &heartbeat::sandbox::Handle,
    name: &'static str,
    value: impl Into<String>,
    message: &str,
) -> Checked {
    let run = check(&with(vars(sandbox, PERSONS), name, value), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(message),
        "{message:?} missing from:\n{}",
        run.stderr
    );
    assert_eq!(sandbox.connections(), 0, "something was sent");
    run
}

#[test]
fn healthy_with_a_generated_ec_v3_certificate() {
    let sandbox = sandbox();
    let run = check(&vars(&sandbox, PERSONS), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["verdict"], "healthy");
    assert_eq!(json["status"], 200);
    assert_eq!(json["attempts"].as_array().unwrap().len(), 1);
    assert!(json["cert_days_left"].as_i64().unwrap() >= 363);
    assert!(run.stderr.contains("healthy: 200"), "{}", run.stderr);
    let records = sandbox.records();
    assert_eq!(records.len(), 1);
    assert!(records[0].api_key_sent);
    assert_eq!(records[0].client.as_deref(), Some("CN=heartbeat"));
    let junit = run.junit.expect("a JUnit file");
    assert!(
        junit.contains("<testcase name=\"GET https://127.0.0.1:") && !junit.contains("<failure"),
        "{junit}"
    );
}

#[test]
fn healthy_with_the_teams_v1_certificate_and_pkcs1_key() {
    let sandbox = fixture_sandbox();
    let run = check(
        &sandbox.environment(PERSONS, &fixture_pair("client-v1")),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        sandbox.records()[0].client.as_deref(),
        Some("CN=heartbeat-fixture-v1")
    );
}

#[test]
fn healthy_with_an_rsa_v3_certificate() {
    let sandbox = fixture_sandbox();
    let run = check(
        &sandbox.environment(PERSONS, &fixture_pair("client-v3-rsa")),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn certificate_and_key_as_raw_pem_or_file_paths() {
    let sandbox = sandbox();
    let client = &sandbox.pki().client;
    let raw = with(
        with(
            vars(&sandbox, PERSONS),
            "MTLS_CERT",
            client.cert_pem.clone(),
        ),
        "MTLS_KEY",
        client.key_pem.to_string(),
    );
    assert_eq!(check(&raw, &[]).code, 0);

    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, &client.cert_pem).unwrap();
    std::fs::write(&key, client.key_pem.as_bytes()).unwrap();
    let env_paths = with(
        with(vars(&sandbox, PERSONS), "MTLS_CERT", cert.to_str().unwrap()),
        "MTLS_KEY",
        key.to_str().unwrap(),
    );
    assert_eq!(check(&env_paths, &[]).code, 0);
    let flags = without(vars(&sandbox, PERSONS), &["MTLS_CERT", "MTLS_KEY"]);
    let run = check(
        &flags,
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn every_missing_variable_is_listed_at_once_and_nothing_is_sent() {
    let run = check(&[], &[]);
    assert_eq!(run.code, 2);
    for name in ["SERVICE_URL", "API_KEY", "MTLS_CERT", "MTLS_KEY"] {
        assert!(
            run.stderr.contains(&format!("{name}: is not set")),
            "{name} missing from:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("4 problems") && run.stderr.contains("nothing was sent"),
        "{}",
        run.stderr
    );
    // --format json (which the harness passes) still answers, with the problems and no values.
    assert_eq!(run.json()["verdict"], "invalid");
    assert_eq!(run.json()["problems"].as_array().unwrap().len(), 4);
    let junit = run
        .junit
        .expect("a JUnit file saying why, for CircleCI's test results");
    assert!(
        junit.contains("type=\"invalid_configuration\"") && junit.contains("MTLS_KEY: is not set"),
        "{junit}"
    );
}

#[test]
fn a_junit_path_that_cannot_be_opened_is_refused_before_sending() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    let output = heartbeat()
        .arg("check")
        .arg("--junit")
        .arg(dir.path().join("a-file/results.xml"))
        .envs(vars(&sandbox, PERSONS))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("a-file/results.xml"), "{stderr}");
    assert_eq!(sandbox.connections(), 0);
}

#[test]
fn an_api_key_that_cannot_be_a_header_is_refused_before_sending() {
    let sandbox = sandbox();
    refused(
        &sandbox,
        "API_KEY",
        "SENTINEL-key-with\nline-break",
        "API_KEY: holds characters not allowed in an HTTP header",
    );
}

#[test]
fn bad_base64_names_the_variable_and_position_and_sends_nothing() {
    let sandbox = sandbox();
    let message = "MTLS_KEY: not PEM, not an existing file, and not valid base64 (unexpected character at position 8)";
    let run = refused(
        &sandbox,
        "MTLS_KEY",
        "TUlJRXZ%SENTINEL-base64-body-never-print",
        message,
    );
    assert!(!run.stderr.contains("SENTINEL-base64"), "{}", run.stderr);
}

#[test]
fn garbage_pem_is_refused_without_echoing_it() {
    let sandbox = sandbox();
    let garbage =
        "-----BEGIN CERTIFICATE-----\nSENTINEL-garbage-pem-line!!\n-----END CERTIFICATE-----\n";
    let run = refused(
        &sandbox,
        "MTLS_CERT",
        b64(garbage),
        "MTLS_CERT: is not valid PEM",
    );
    assert!(!run.stderr.contains("SENTINEL-garbage"));
}

#[test]
fn a_key_from_another_pair_is_detected_before_sending() {
    let sandbox = sandbox();
    let other = sandbox.pki().issue_client("other", -1, 30).unwrap();
    let message = "MTLS_CERT and MTLS_KEY: the private key does not belong to the certificate";
    refused(&sandbox, "MTLS_KEY", b64(&other.key_pem), message);
}

#[test]
fn an_expired_client_certificate_fails_with_its_dates_and_sends_nothing() {
    let sandbox = sandbox();
    let expired = sandbox.pki().issue_client("expired", -60, -2).unwrap();
    let run = check(&sandbox.environment(PERSONS, &expired), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("MTLS_CERT: the client certificate expired on 20"),
        "{}",
        run.stderr
    );
    assert_eq!(sandbox.connections(), 0);
}

#[test]
fn a_certificate_near_expiry_warns_with_the_days_left() {
    let sandbox = sandbox();
    let short = sandbox.pki().issue_client("short-lived", -1, 10).unwrap();
    let run = check(&sandbox.environment(PERSONS, &short), &[]);
    assert_eq!(run.code, 0);
    // Ten days from issuing, counted in whole days a moment later: 9, or 10 within the same second.
    let days = run.json()["cert_days_left"].as_i64().unwrap();
    assert!(days == 9 || days == 10, "{days}");
    assert!(
        run.stderr.contains(&format!(
            "warning: the client certificate expires in {days} days"
        )),
        "{}",
        run.stderr
    );
    let quiet = check(
        &sandbox.environment(PERSONS, &short),
        &["--cert-warn-days", "5"],
    );
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
}

#[test]
fn an_untrusted_server_ca_is_a_tls_failure_and_not_retried() {
    let sandbox = sandbox();
    let run = check(
        &without(vars(&sandbox, PERSONS), &["SERVICE_CA_CERT"]),
        &FAST,
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(class(&run), "server_certificate_invalid");
    assert_eq!(run.json()["attempts"].as_array().unwrap().len(), 1);
    assert!(
        run.stderr.contains("UnknownIssuer") && run.stderr.contains("SERVICE_CA_CERT"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_hostname_mismatch_is_a_tls_failure() {
    let sandbox = sandbox_with(Pki::generate(&["api.other.test"]).unwrap());
    let run = check(&vars(&sandbox, PERSONS), &FAST);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(class(&run), "server_certificate_invalid");
    assert!(
        run.stderr
            .contains("certificate not valid for name \"127.0.0.1\""),
        "{}",
        run.stderr
    );
}

#[test]
fn a_failure_message_carrying_server_text_is_bounded() {
    // The certificate's names are the server's words, and rustls lists them all in its error.
    let names: Vec<String> = (0..60)
        .map(|i| format!("name-{i:02}-of-a-long-list.api.other.test"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let sandbox = sandbox_with(Pki::generate(&names).unwrap());
    let run = check(&vars(&sandbox, PERSONS), &FAST);
    assert_eq!(class(&run), "server_certificate_invalid", "{}", run.stderr);
    let message = run.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("name-00-of-a-long-list"), "{message}");
    assert!(!message.contains("name-59-of-a-long-list"), "{message}");
    assert_eq!(message.chars().count(), 501, "{message}");
    assert!(message.ends_with('…'), "{message}");
}

#[test]
fn a_client_certificate_from_another_ca_is_refused_by_the_server() {
    let sandbox = sandbox();
    let stranger = Pki::generate(&SERVER_NAMES).unwrap();
    let run = check(&sandbox.environment(PERSONS, &stranger.client), &FAST);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(class(&run), "client_certificate_rejected");
    assert!(
        run.stderr
            .contains("check MTLS_CERT is signed by this environment's CA"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["attempts"].as_array().unwrap().len(), 1);
    assert!(sandbox.records().is_empty());
}

#[test]
fn a_wrong_api_key_is_the_gateways_403_naming_key_and_certificate_after_one_attempt() {
    let sandbox = sandbox();
    let run = check(
        &with(
            vars(&sandbox, PERSONS),
            "API_KEY",
            "SENTINEL-wrong-key-never-print",
        ),
        &FAST,
    );
    assert_eq!(run.code, 1);
    assert_eq!(class(&run), "gateway_forbidden");
    let json = run.json();
    assert_eq!(json["status"], 403);
    assert!(
        json["gateway_request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{json}"
    );
    for words in [
        "API gateway",
        "API key",
        "client certificate",
        "gateway id:",
    ] {
        assert!(
            run.stderr.contains(words),
            "{words:?} missing:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("valid but"), "{}", run.stderr);
    let junit = run.junit.unwrap();
    assert!(
        junit.contains(json["gateway_request_id"].as_str().unwrap()),
        "{junit}"
    );
    assert_eq!(sandbox.records().len(), 1);
}

#[test]
fn the_applications_403_names_the_allow_list_and_is_not_retried() {
    let sandbox = sandbox();
    let run = check(&vars(&sandbox, "/fault/forbidden"), &FAST);
    assert_eq!((run.code, class(&run).as_str()), (1, "consumer_forbidden"));
    assert!(
        run.stderr.contains("application-<env>.yml"),
        "{}",
        run.stderr
    );
    assert_eq!(sandbox.records().len(), 1);
    // The heartbeat consumer may call a person by id, not the search: the real dev allow-list.
    let search = check(&vars(&sandbox, "/v1/persons?first_name=Ada"), &FAST);
    assert_eq!(
        (search.code, class(&search).as_str()),
        (1, "consumer_forbidden")
    );
    assert!(
        search.json()["user_message"]
            .as_str()
            .unwrap()
            .contains("Unable to authorise /v1/persons for heartbeat"),
        "{}",
        search.stdout
    );
}

#[test]
fn a_gateway_timeout_is_named_as_the_gateways_and_retried() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/gateway-timeout"),
        &["--attempts", "2", "--retry-delay", "10ms"],
    );
    assert_eq!((run.code, class(&run).as_str()), (1, "gateway_error"));
    assert_eq!(sandbox.records().len(), 2);
    assert!(
        run.stderr
            .contains("504 Gateway Timeout from the API gateway")
            && run.stderr.contains("gateway's logs")
            && run.stderr.contains("Sentry"),
        "{}",
        run.stderr
    );
}

#[test]
fn verbose_shows_each_answers_head_with_secrets_redacted() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/echo-key"),
        &["--attempts", "1", "--verbose"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("    < HTTP/1.1 500 Internal Server Error"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("    < x-amzn-requestid: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("[redacted]"), "{}", run.stderr);
}

#[test]
fn a_500_then_a_200_heals_by_retrying() {
    let sandbox = sandbox();
    let run = check(&vars(&sandbox, "/fault/flap?failures=1&id=heal"), &FAST);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let attempts = run.json()["attempts"].as_array().unwrap().clone();
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        (
            attempts[0]["status"].as_u64(),
            attempts[1]["status"].as_u64()
        ),
        (Some(500), Some(200))
    );
    assert_ne!(attempts[0]["request_id"], attempts[1]["request_id"]);
    assert!(
        run.stderr.contains("attempt 1/5: 500") && run.stderr.contains("retrying in 50ms"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_persistent_500_uses_every_attempt_and_shows_the_user_message() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/error"),
        &["--attempts", "3", "--retry-delay", "10ms"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(sandbox.records().len(), 3);
    assert!(
        run.stderr
            .contains("userMessage: The persons service is unavailable"),
        "{}",
        run.stderr
    );
    let junit = run.junit.unwrap();
    assert!(junit.contains("<failure message=\"status 500 Internal Server Error from the application (expected 200)\" type=\"unexpected_status\""), "{junit}");
}

#[test]
fn html_that_contains_first_name_is_not_healthy() {
    let sandbox = sandbox();
    let run = check(&vars(&sandbox, "/fault/html"), &["--attempts", "1"]);
    assert_eq!((run.code, class(&run).as_str()), (1, "assertion"));
    assert!(
        run.stderr
            .contains("the body is not JSON (content-type text/html)"),
        "{}",
        run.stderr
    );
}

#[test]
fn json_without_first_name_is_not_healthy() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/no-first-name"),
        &["--attempts", "1"],
    );
    assert_eq!((run.code, class(&run).as_str()), (1, "assertion"));
    assert!(
        run.stderr.contains("$..firstName selected nothing"),
        "{}",
        run.stderr
    );
}

#[test]
fn custom_expectations_replace_the_default() {
    let sandbox = sandbox();
    let ok = check(
        &vars(&sandbox, "/v1/persons/G6333VK"),
        &[
            "--expect-json",
            "$.data.prisonerOffenderSearch.firstName=Ada",
            "--expect-json",
            "$.data.prisonerOffenderSearch.identifiers.nomisNumber=G6333VK",
        ],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let wrong = check(
        &vars(&sandbox, "/v1/persons/G6333VK"),
        &[
            "--attempts",
            "1",
            "--expect-json",
            "$.data.prisonerOffenderSearch.firstName=Grace",
        ],
    );
    assert_eq!(wrong.code, 1);
    assert!(
        wrong
            .stderr
            .contains("$.data.prisonerOffenderSearch.firstName is \"Ada\" (expected \"Grace\")"),
        "{}",
        wrong.stderr
    );
    let status = check(
        &vars(&sandbox, "/fault/forbidden"),
        &["--expect-status", "200,403", "--expect-body", "Forbidden"],
    );
    assert_eq!(status.code, 0, "{}", status.stderr);
    let bad = check(
        &vars(&sandbox, PERSONS),
        &["--expect-json", "data.firstName"],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("--expect-json: \"data.firstName\" is not an RFC 9535 JSONPath"),
        "{}",
        bad.stderr
    );
    assert_eq!(sandbox.records().len(), 3);
}

#[test]
fn a_body_over_the_cap_fails_and_says_so() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/large?bytes=5000"),
        &["--attempts", "1", "--max-body", "4KiB"],
    );
    assert_eq!((run.code, class(&run).as_str()), (1, "body_too_large"));
    assert!(
        run.stderr.contains("larger than --max-body (4096 bytes)"),
        "{}",
        run.stderr
    );
    let fits = check(
        &vars(&sandbox, "/fault/large?bytes=5000"),
        &["--max-body", "8KiB"],
    );
    assert_eq!(fits.code, 0, "{}", fits.stderr);
}

#[test]
fn a_slow_server_times_out_as_no_answer() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/slow?delay=3s"),
        &[
            "--attempts",
            "2",
            "--retry-delay",
            "10ms",
            "--timeout",
            "300ms",
        ],
    );
    assert_eq!((run.code, class(&run).as_str()), (3, "timeout"));
    assert_eq!(run.json()["attempts"].as_array().unwrap().len(), 2);
    assert!(
        run.stderr.contains("no complete answer within 300ms"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_deadline_caps_the_whole_run() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/error"),
        &["--attempts", "5", "--retry-delay", "2s", "--deadline", "1s"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(sandbox.records().len(), 1);
    assert!(
        run.stderr
            .contains("not retried: waiting 2s would pass --deadline"),
        "{}",
        run.stderr
    );
}

#[test]
fn retry_after_is_honoured_for_429() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/status?code=429&retry_after=1"),
        &["--attempts", "2", "--retry-delay", "10ms"],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("retrying in 1s"), "{}", run.stderr);
    let far = check(
        &vars(&sandbox, "/fault/status?code=503&retry_after=30"),
        &["--attempts", "2", "--deadline", "5s"],
    );
    assert!(
        far.stderr
            .contains("not retried: waiting 30s would pass --deadline"),
        "{}",
        far.stderr
    );
}

#[test]
fn a_reset_connection_is_no_answer() {
    let sandbox = sandbox();
    let run = check(&vars(&sandbox, "/fault/reset"), &["--attempts", "1"]);
    assert_eq!(
        (run.code, class(&run).as_str()),
        (3, "connection_reset"),
        "{}",
        run.stderr
    );
}

#[test]
fn redirects_fail_by_default_and_name_the_location() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, &format!("/fault/redirect?to={PERSON}")),
        &FAST,
    );
    assert_eq!((run.code, class(&run).as_str()), (1, "redirect"));
    assert_eq!(run.json()["status"], 302);
    assert!(
        run.stderr.contains(&format!(
            "redirected (302 Found) to {}{PERSON} and --follow-redirects is off",
            sandbox.url("")
        )),
        "{}",
        run.stderr
    );
    let followed = check(
        &vars(&sandbox, &format!("/fault/redirect?to={PERSON}")),
        &["--follow-redirects"],
    );
    assert_eq!(followed.code, 0, "{}", followed.stderr);
}

#[test]
fn a_cross_origin_redirect_is_never_followed_and_the_other_origin_gets_nothing() {
    let sandbox = sandbox();
    let other = crate::common::sandbox();
    let target = other.url("/v1/persons");
    let run = check(
        &vars(&sandbox, &format!("/fault/redirect?to={target}")),
        &["--follow-redirects", "--attempts", "3"],
    );
    assert_eq!((run.code, class(&run).as_str()), (1, "redirect"));
    assert!(
        run.stderr
            .contains("to another origin, which is never followed"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(other.connections(), 0, "the other origin was contacted");
}

#[test]
fn a_server_that_echoes_the_api_key_is_redacted() {
    let sandbox = sandbox();
    let run = check(&vars(&sandbox, "/fault/echo-key"), &["--attempts", "1"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("rejected request with key [redacted]"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.json()["user_message"],
        "rejected request with key [redacted]"
    );
}

#[test]
fn a_url_or_redirect_location_that_carries_the_api_key_is_redacted() {
    let sandbox = sandbox();
    let run = check(
        &vars(
            &sandbox,
            &format!("/fault/redirect?to=https://127.0.0.1:1/x?k={SENTINEL_KEY}"),
        ),
        &["--attempts", "1"],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("/x?k=[redacted]"), "{}", run.stderr);
}

#[test]
fn requests_carry_the_key_user_agent_and_request_id() {
    let sandbox = sandbox();
    let run = check(&vars(&sandbox, PERSONS), &[]);
    let record = &sandbox.records()[0];
    assert!(record.api_key_sent);
    assert_eq!(
        record.user_agent.as_deref(),
        Some(concat!("heartbeat/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        record.request_id.as_deref(),
        run.json()["request_id"].as_str()
    );
    assert!(run.stderr.contains(record.request_id.as_deref().unwrap()));
}

#[test]
fn header_names_can_be_changed() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, PERSONS),
        &[
            "--api-key-header",
            "x-other-key",
            "--request-id-header",
            "x-correlation-id",
            "--attempts",
            "1",
        ],
    );
    assert_eq!(run.code, 1, "the sandbox reads x-api-key only");
    let record = &sandbox.records()[0];
    assert!(!record.api_key_sent && record.request_id.is_none());
}

#[test]
fn quiet_prints_nothing_when_healthy_and_the_verdict_when_not() {
    let sandbox = sandbox();
    let output = heartbeat()
        .args(["check", "--quiet"])
        .envs(vars(&sandbox, PERSONS))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
    let output = heartbeat()
        .args(["check", "-q", "--attempts", "1"])
        .envs(vars(&sandbox, "/fault/error"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.starts_with("heartbeat: unhealthy: status 500") && !stderr.contains("attempt 1/1"),
        "{stderr}"
    );
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let sandbox = sandbox();
    let output = heartbeat()
        .args(["check", "--color", "always"])
        .envs(vars(&sandbox, PERSONS))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("\u{1b}[1m\u{1b}[32mhealthy"),
        "{:?}",
        output.stderr
    );
    let output = heartbeat()
        .args(["check"])
        .env("NO_COLOR", "1")
        .envs(vars(&sandbox, PERSONS))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains('\u{1b}'));
}

#[test]
fn an_http_url_is_refused_before_sending() {
    let sandbox = sandbox();
    refused(
        &sandbox,
        "SERVICE_URL",
        "http://127.0.0.1:1/v1/persons",
        "SERVICE_URL: uses http: mutual TLS needs https://",
    );
}

#[test]
fn flags_override_the_environment() {
    let sandbox = sandbox();
    let env = with(
        vars(&sandbox, PERSONS),
        "SERVICE_URL",
        "https://127.0.0.1:1/nowhere",
    );
    let run = check(&env, &["--url", &sandbox.url(PERSONS)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2() {
    heartbeat()
        .args(["check", "--timeout", "soon"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("write a duration like 500ms"));
    heartbeat()
        .args(["check", "--attempts", "0"])
        .assert()
        .code(2);
}

#[test]
fn help_lists_the_exit_codes_and_version_names_the_target() {
    let help = heartbeat().args(["check", "--help"]).assert().code(0);
    let text = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    for line in [
        "0    healthy",
        "1    unhealthy",
        "2    invalid usage",
        "3    no answer",
        "4    TLS failure",
        "130  stopped by SIGINT",
        "MTLS_CERT",
    ] {
        assert!(text.contains(line), "{line} missing from help");
    }
    heartbeat().arg("--version").assert().code(0).stdout(
        predicates::str::is_match(r"^heartbeat \d+\.\d+\.\d+ \([a-z0-9_]+-[a-z0-9_-]+\)\n$")
            .unwrap(),
    );
}

/// A name that does not resolve, checked inside a network namespace with no interface up, so the lookup
/// fails on this machine and no packet leaves it (the tests never talk to a resolver).
#[test]
fn a_name_that_does_not_resolve_is_no_answer() {
    let Some(namespace) = network_namespace() else {
        skip(
            "a_name_that_does_not_resolve_is_no_answer",
            "neither `unshare -n` nor `unshare -rn` is permitted here (no root, no user namespaces)",
        );
        return;
    };
    let sandbox = sandbox();
    let vars = with(
        vars(&sandbox, PERSONS),
        "SERVICE_URL",
        "https://heartbeat-test.invalid/v1/persons",
    );
    let output = std::process::Command::new(namespace[0])
        .args(&namespace[1..])
        .args([
            assert_cmd::cargo::cargo_bin("heartbeat").to_str().unwrap(),
            "check",
            "--attempts",
            "1",
            "--format",
            "json",
        ])
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json["class"], "dns");
    assert!(String::from_utf8_lossy(&output.stderr).contains("check SERVICE_URL"));
}

#[test]
fn a_server_that_does_not_speak_tls_is_a_tls_failure_exit_4() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(3) {
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let sandbox = sandbox();
    let url = format!("https://127.0.0.1:{port}/v1/persons/A8451DY");
    let run = check(
        &with(vars(&sandbox, PERSON), "SERVICE_URL", url),
        &["--attempts", "1"],
    );
    assert_eq!(
        (run.code, class(&run).as_str()),
        (4, "tls_handshake"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_certificate_not_valid_yet_is_refused_before_sending() {
    let sandbox = sandbox();
    let future = sandbox.pki().issue_client("soon", 2, 30).unwrap();
    let run = check(&sandbox.environment(PERSON, &future), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the client certificate is not valid yet (valid from "),
        "{}",
        run.stderr
    );
    assert_eq!(sandbox.connections(), 0);
}

#[test]
fn the_key_goes_in_the_renamed_header_and_only_there() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, PERSON),
        &["--attempts", "1", "--api-key-header", "x-consumer-key"],
    );
    assert_eq!(run.code, 1, "the sandbox reads x-api-key: {}", run.stderr);
    let names = &sandbox.records()[0].header_names;
    assert!(names.iter().any(|n| n == "x-consumer-key"), "{names:?}");
    assert!(!names.iter().any(|n| n == "x-api-key"), "{names:?}");
}

#[cfg(unix)]
#[test]
fn a_refused_connection_is_no_answer_exit_3() {
    let (_socket, port) = bound_not_listening();
    let sandbox = sandbox();
    let url = format!("https://127.0.0.1:{port}/v1/persons/A8451DY");
    let run = check(
        &with(vars(&sandbox, PERSON), "SERVICE_URL", url),
        &["--attempts", "2", "--retry-delay", "10ms"],
    );
    assert_eq!((run.code, class(&run).as_str()), (3, "connection_refused"));
    assert_eq!(run.json()["attempts"].as_array().unwrap().len(), 2);
}

/// A TCP socket bound to a port of its own but not listening: connections to it are refused, and the port
/// is never released for another test to take.
#[cfg(unix)]
fn bound_not_listening() -> (std::os::fd::OwnedFd, u16) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls with valid arguments; the descriptor is owned by the returned OwnedFd.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let owned = std::os::fd::OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len),
            0
        );
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut bound_len = len;
        assert_eq!(
            libc::getsockname(
                fd,
                &mut bound as *mut _ as *mut libc::sockaddr,
                &mut bound_len
            ),
            0
        );
        (owned, u16::from_be(bound.sin_port))
    }
}

#[test]
fn a_204_without_a_body_is_healthy_when_expected() {
    let server = Hostile::start(behaviour(|_, out| {
        let _ = out.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
    }));
    let run = check(
        &hostile::vars(&server, "/", SENTINEL_KEY),
        &["--attempts", "1", "--expect-status", "204"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}
