//! The suite language says what the team's smoke tests say: status sets, header and JSON rules, who must
//! refuse a locked door, `[vars]` and dates, bodies from files, secret headers, captures that chain checks,
//! and requirements that skip what cannot be meaningful — each tested on both sides.

use std::path::Path;

use crate::common::*;
use heartbeat::sandbox::Handle;

/// The sandbox's consumers (full, limited, anonymous) with the file's `[vars]` and checks after them.
fn suite(vars: &str, checks: &str) -> String {
    format!(
        "base_url = \"${{SERVICE_BASE_URL}}\"\nca_cert = \"${{SERVICE_CA_CERT}}\"\n{vars}\n[defaults]\nattempts = 1\n\
         [consumers.full]\napi_key = \"${{FULL_ACCESS_API_KEY}}\"\ncert = \"${{FULL_ACCESS_CERT}}\"\nkey = \"${{FULL_ACCESS_KEY}}\"\n\
         [consumers.limited]\napi_key = \"${{LIMITED_ACCESS_API_KEY}}\"\ncert = \"${{LIMITED_ACCESS_CERT}}\"\nkey = \"${{LIMITED_ACCESS_KEY}}\"\n\
         [consumers.anonymous]\napi_key = \"${{NO_ACCESS_API_KEY}}\"\n{checks}"
    )
}

fn check(name: &str, consumer: &str, path: &str, extra: &str) -> String {
    format!(
        "\n[[check]]\nname = \"{name}\"\nconsumer = \"{consumer}\"\npath = \"{path}\"\n{extra}\n"
    )
}

/// One run: exit code, stderr, the JSON result and the JUnit file.
struct Ran {
    code: i32,
    stderr: String,
    json: serde_json::Value,
    junit: String,
}

impl Ran {
    fn check(&self, name: &str) -> &serde_json::Value {
        let checks = self.json["checks"].as_array().expect("checks");
        checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no check {name}: {}", self.json))
    }
}

/// Runs a suite in its own folder (with extra files beside it) against the sandbox's consumers.
fn run(
    sandbox: &Handle,
    text: &str,
    files: &[(&str, &str)],
    env: &[(&str, &str)],
    flags: &[&str],
) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), sandbox, text, files, env, flags)
}

fn run_in(
    dir: &Path,
    sandbox: &Handle,
    text: &str,
    files: &[(&str, &str)],
    env: &[(&str, &str)],
    flags: &[&str],
) -> Ran {
    let file = dir.join("suite.toml");
    std::fs::write(&file, text).unwrap();
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let mut vars = sandbox.profile_environment().unwrap();
    vars.push(("SERVICE_CA_CERT".into(), b64(&sandbox.pki().ca_cert_pem)));
    let junit = dir.join("suite.xml");
    let output = heartbeat()
        .arg("suite")
        .arg(&file)
        .args(["--format", "json", "--junit"])
        .arg(&junit)
        .args(flags)
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(env.iter().copied())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let junit = std::fs::read_to_string(&junit).unwrap_or_default();
    for (name, value) in vars
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(env.iter().copied())
    {
        if name.ends_with("KEY") || name.ends_with("CERT") || name.contains("TOKEN") {
            for text in [&stdout, &stderr, &junit] {
                assert!(!text.contains(value), "{name} leaked:\n{text}");
            }
        }
    }
    Ran {
        code: output.status.code().expect("exited"),
        json: serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null),
        stderr,
        junit,
    }
}

#[test]
fn statuses_are_codes_classes_bounds_and_ranges() {
    let sandbox = sandbox();
    let checks = [
        check(
            "404 below 400",
            "full",
            "/fault/status?code=404",
            "expect_status = \"<400\"",
        ),
        check(
            "404 a 4xx",
            "full",
            "/fault/status?code=404",
            "expect_status = [\"4xx\"]",
        ),
        check(
            "201 a 2xx",
            "full",
            "/fault/status?code=201",
            "expect_status = \"2xx\"",
        ),
        check(
            "201 not 200",
            "full",
            "/fault/status?code=201",
            "expect_status = 200",
        ),
        check(
            "201 in a range",
            "full",
            "/fault/status?code=201",
            "expect_status = [\"200-202\", 404]",
        ),
    ]
    .concat();
    let ran = run(&sandbox, &suite("", &checks), &[], &[], &[]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let verdicts: Vec<_> = [
        "404 below 400",
        "404 a 4xx",
        "201 a 2xx",
        "201 not 200",
        "201 in a range",
    ]
    .iter()
    .map(|n| ran.check(n)["verdict"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(verdicts, ["failed", "passed", "passed", "failed", "passed"]);
    assert!(
        ran.check("404 below 400")["message"]
            .as_str()
            .unwrap()
            .contains("expected <400")
    );
    // Not a status: named before anything is sent.
    let bad = run(
        &sandbox,
        &suite("", &check("x", "full", "/", "expect_status = \"6xx\"")),
        &[],
        &[],
        &[],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("\"6xx\" is not a status"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_404_takes_one_attempt_and_a_503_is_retried() {
    let sandbox = sandbox();
    let checks = check(
        "missing",
        "full",
        "/fault/status?code=404",
        "attempts = 3\nretry_delay = \"10ms\"",
    ) + &check(
        "unavailable",
        "full",
        "/fault/status?code=503",
        "attempts = 2\nretry_delay = \"10ms\"",
    );
    let ran = run(&sandbox, &suite("", &checks), &[], &[], &[]);
    assert_eq!(ran.check("missing")["attempts"], 1);
    assert_eq!(ran.check("unavailable")["attempts"], 2);
    let paths: Vec<_> = sandbox.records().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths.iter().filter(|p| p.contains("code=404")).count(),
        1,
        "{paths:?}"
    );
}

#[test]
fn headers_and_json_hold_their_rules_both_ways() {
    let sandbox = sandbox();
    let search = "/v1/persons?first_name=john";
    let checks = [
        check(
            "type equals",
            "full",
            search,
            "expect_headers = { \"content-type\" = \"application/json\" }",
        ),
        check(
            "present",
            "full",
            search,
            "expect_headers = { \"x-amzn-requestid\" = true }",
        ),
        check(
            "missing",
            "full",
            search,
            "expect_headers = { \"x-nope\" = true }",
        ),
        check(
            "absent",
            "full",
            search,
            "expect_headers = { \"x-nope\" = false }",
        ),
        check(
            "not absent",
            "full",
            search,
            "expect_headers = { \"content-type\" = false }",
        ),
        check(
            "list not empty",
            "full",
            search,
            "expect_not_empty = \"$.data\"",
        ),
        check("empty", "full", search, "expect_not_empty = \"$.nothing\""),
        check(
            "not null",
            "full",
            search,
            "expect_not_null = [\"$.data[0].firstName\"]",
        ),
        check(
            "null",
            "full",
            "/fault/error",
            "expect_status = 500\nexpect_not_null = \"$.errorCode\"",
        ),
    ]
    .concat();
    let ran = run(&sandbox, &suite("", &checks), &[], &[], &[]);
    let passed = |name: &str| ran.check(name)["verdict"] == "passed";
    for name in [
        "type equals",
        "present",
        "absent",
        "list not empty",
        "not null",
    ] {
        assert!(passed(name), "{name}: {}", ran.check(name));
    }
    for (name, words) in [
        ("missing", "the header x-nope is missing"),
        ("not absent", "the header content-type is present"),
        (
            "empty",
            "$.nothing selected nothing (expected a list that is not empty)",
        ),
        (
            "null",
            "$.errorCode is null (expected a value that is not null)",
        ),
    ] {
        assert!(!passed(name), "{name}");
        let message = ran.check(name)["message"].as_str().unwrap();
        assert!(message.contains(words), "{name}: {message}");
    }
}

#[test]
fn a_locked_door_must_be_refused_by_whom_the_check_names() {
    let sandbox = sandbox();
    let search = "/v1/persons?first_name=john";
    let checks = [
        check("by the application", "limited", search, "expect = \"refused\"\nrefused_by = \"application\"\nrefused_with = \"Unable to authorise\""),
        check("not by the gateway", "limited", search, "expect = \"refused\"\nrefused_by = \"gateway\""),
        check("not with those words", "limited", search, "expect = \"refused\"\nrefused_with = \"has been revoked\""),
        check("by TLS", "anonymous", search, "expect = \"refused\"\nrefused_by = \"tls\""),
        check("not by the application", "anonymous", search, "expect = \"refused\"\nrefused_by = \"application\""),
    ]
    .concat();
    let ran = run(&sandbox, &suite("", &checks), &[], &[], &[]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    for name in ["by the application", "by TLS"] {
        assert_eq!(
            ran.check(name)["verdict"],
            "passed",
            "{name}: {}",
            ran.check(name)
        );
    }
    for (name, words) in [
        ("not by the gateway", "refused by the application"),
        (
            "not with those words",
            "(expected a refusal with \"has been revoked\")",
        ),
        ("not by the application", "refused by the TLS handshake"),
    ] {
        let found = ran.check(name);
        assert_eq!(found["class"], "wrong_refusal", "{name}: {found}");
        assert!(
            found["message"].as_str().unwrap().contains(words),
            "{name}: {found}"
        );
    }
    assert!(
        ran.check("not by the gateway")["message"]
            .as_str()
            .unwrap()
            .contains("expected refused by the API gateway")
    );
    // Who refuses goes with a locked door only.
    let bad = run(
        &sandbox,
        &suite("", &check("x", "full", search, "refused_by = \"tls\"")),
        &[],
        &[],
        &[],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("go with expect = \"refused\""),
        "{}",
        bad.stderr
    );
}

#[test]
fn vars_take_the_environment_over_the_file_and_dates_count_from_today() {
    let sandbox = sandbox();
    let vars = "[vars]\nhmpps_id = { value = \"A8451DY\", env = \"HMPPSID\" }\nprison = \"MKI\"\n";
    let checks = check("name", "full", "/v1/persons/{hmpps_id}/name", "")
        + &check(
            "dated",
            "full",
            "/fault/status?code=200&from={today-90d}&to={today}&in={prison}",
            "",
        );
    let ran = run(&sandbox, &suite(vars, &checks), &[], &[], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let today = time::OffsetDateTime::now_utc().date();
    let before = today - time::Duration::days(90);
    let paths: Vec<String> = sandbox.records().into_iter().map(|r| r.path).collect();
    assert!(
        paths.contains(&"/v1/persons/A8451DY/name".to_string()),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p == &format!("/fault/status?code=200&from={before}&to={today}&in=MKI")),
        "{paths:?}"
    );
    let other = heartbeat::sandbox::Handle::start(heartbeat::sandbox::Options::new(
        ([127, 0, 0, 1], 0).into(),
        secrecy::SecretString::from(SENTINEL_KEY.to_string()),
        std::sync::Arc::new(
            heartbeat::sandbox::pki::Pki::generate(&heartbeat::sandbox::pki::SERVER_NAMES).unwrap(),
        ),
    ))
    .unwrap();
    let ran = run(
        &other,
        &suite(
            vars,
            &check("name", "full", "/v1/persons/{hmpps_id}/name", ""),
        ),
        &[],
        &[("HMPPSID", "G6333VK")],
        &[],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(other.records()[0].path, "/v1/persons/G6333VK/name");
    // A date needs its sign and stays within a hundred years.
    for bad in ["{today5d}", "{today-36601d}", "{today+1y}"] {
        let text = suite(
            "",
            &check("x", "full", &format!("/fault/status?d={bad}"), ""),
        );
        let ran = run(&sandbox, &text, &[], &[], &[]);
        assert_eq!(ran.code, 2, "{bad}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("is not a date"),
            "{bad}: {}",
            ran.stderr
        );
    }
    // A var may not take the date's name, nor one that is not a name.
    for bad in [
        "today = \"x\"",
        "today_x = \"x\"",
        "Bad-Name = \"x\"",
        "1abc = \"x\"",
    ] {
        let text = suite(&format!("[vars]\n{bad}\n"), &check("x", "full", "/", ""));
        let ran = run(&sandbox, &text, &[], &[], &[]);
        assert_eq!(ran.code, 2, "{bad}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("a name is lower-case letters"),
            "{bad}: {}",
            ran.stderr
        );
    }
    // Braces around what is not a name are text, sent as written.
    let braces = check(
        "braces",
        "full",
        "/fault/echo-body",
        "method = \"POST\"\nbody = \"{not a name} {Upper} {}\"\nexpect_json = \"$.data.body={not a name} {Upper} {}\"",
    );
    let ran = run(&sandbox, &suite("", &braces), &[], &[], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // The other side: a name may start with an underscore.
    let text = suite(
        "[vars]\n_id = \"A8451DY\"\n",
        &check("x", "full", "/v1/persons/{_id}/name", ""),
    );
    assert_eq!(run(&sandbox, &text, &[], &[], &[]).code, 0);
    // An unknown value is named before anything is sent.
    let bad = run(
        &sandbox,
        &suite(vars, &check("x", "full", "/v1/persons/{hmpps}", "")),
        &[],
        &[],
        &[],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("{hmpps} is not a value: the values are hmpps_id, prison"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_request_body_of_some_kilobytes_reaches_the_sandbox_whole() {
    let sandbox = sandbox();
    let text = "x".repeat(64 * 1024);
    let echoed = check(
        "large body",
        "full",
        "/fault/echo-body",
        &format!("method = \"POST\"\nbody = \"{text}\"\nexpect_json = \"$.data.body={text}\""),
    );
    let ran = run(&sandbox, &suite("", &echoed), &[], &[], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}

#[test]
fn a_json_file_and_a_secret_header_are_sent_and_the_secret_never_shown() {
    let sandbox = sandbox();
    let vars = "[vars]\nhmpps_id = \"A8451DY\"\n";
    let checks = check(
        "body from a file",
        "full",
        "/fault/echo-body",
        "method = \"POST\"\njson_file = \"visit.json\"\nexpect_json = [\"$.data.body.prisonerId=A8451DY\", \"$.data.method=POST\"]",
    ) + &check(
        "obo is sent",
        "full",
        "/fault/echo-obo",
        "expect_status = 500\nheaders = { \"x-on-behalf-of\" = \"${OBO_TOKEN}\" }\nexpect_body = \"[redacted]\"",
    );
    let files = [(
        "visit.json",
        "{\"prisonerId\": \"{hmpps_id}\", \"visitType\": \"SOCIAL\"}",
    )];
    let token = "SENTINEL-obo-token-never-shown";
    let ran = run(
        &sandbox,
        &suite(vars, &checks),
        &files,
        &[("OBO_TOKEN", token)],
        &[],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(
        ran.check("body from a file")["verdict"],
        "passed",
        "{}",
        ran.check("body from a file")
    );
    // The echo held the token; the check saw it only redacted, and no output holds it (checked by `run`).
    let obo = ran.check("obo is sent");
    assert!(
        obo["message"].as_str().unwrap().contains("[redacted]"),
        "{obo}"
    );
    // The other side: a literal credential header is refused unsent.
    let literal = check(
        "x",
        "full",
        "/",
        "headers = { \"x-on-behalf-of\" = \"SENTINEL-literal\" }",
    );
    let bad = run(&sandbox, &suite("", &literal), &[], &[], &[]);
    assert_eq!(bad.code, 2);
    assert!(!bad.stderr.contains("SENTINEL-literal"));
}

#[test]
fn a_capture_feeds_later_checks_and_a_failed_requirement_skips_its_dependants() {
    let sandbox = sandbox();
    let checks = check(
        "person",
        "full",
        "/v1/persons/A8451DY",
        "capture = { nomis = \"$.data.prisonerOffenderSearch.identifiers.nomisNumber\" }",
    ) + &check(
        "name by captured id",
        "full",
        "/v1/persons/{nomis}/name",
        "",
    ) + &check("reference data", "full", "/fault/error", "")
        + &check(
            "after reference data",
            "full",
            "/v1/persons/A8451DY/name",
            "requires = [\"reference data\"]",
        );
    let dir = tempfile::tempdir().unwrap();
    let ran = run_in(dir.path(), &sandbox, &suite("", &checks), &[], &[], &[]);
    assert_eq!(
        ran.code, 1,
        "the requirement's failure is the verdict: {}",
        ran.stderr
    );
    assert_eq!(ran.check("name by captured id")["verdict"], "passed");
    assert!(
        sandbox
            .records()
            .iter()
            .any(|r| r.path == "/v1/persons/A8451DY/name")
    );
    let skipped = ran.check("after reference data");
    assert_eq!(skipped["verdict"], "skipped", "{skipped}");
    assert!(
        skipped["message"]
            .as_str()
            .unwrap()
            .starts_with("requires \"reference data\", which failed"),
        "{skipped}"
    );
    assert_eq!(ran.json["skipped"], 1);
    assert_eq!(
        (&ran.json["passed"], &ran.json["failed"]),
        (&2.into(), &1.into())
    );
    assert!(
        ran.junit
            .contains("<skipped message=\"requires &quot;reference data&quot;"),
        "{}",
        ran.junit
    );
    assert!(
        ran.stderr
            .contains("- after reference data [full] skipped: requires"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("heartbeat suite: 2 passed, 1 failed, 1 skipped in"),
        "{}",
        ran.stderr
    );
    // A capture the answer does not give fails its check, and what needs it is skipped.
    let missing = check(
        "person",
        "full",
        "/v1/persons/A8451DY",
        "capture = { crn = \"$.data.nope\" }",
    ) + &check("by crn", "full", "/v1/persons/{crn}/name", "");
    let ran = run(&sandbox, &suite("", &missing), &[], &[], &[]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.check("person")["message"]
            .as_str()
            .unwrap()
            .contains("$.data.nope selected nothing, so crn cannot be captured")
    );
    assert_eq!(ran.check("by crn")["verdict"], "skipped");
    // --only keeps what the named check requires.
    let ran = run(
        &sandbox,
        &suite("", &checks),
        &[],
        &[],
        &["--only", "name by captured id"],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.json["checks"].as_array().unwrap().len(), 2);
    // A capture takes a name no var, date or other capture holds.
    for (capture, why) in [
        ("id = \"$.a\"", "is already a [vars] value"),
        ("today = \"$.a\"", "a name is lower-case letters"),
        ("Bad = \"$.a\"", "a name is lower-case letters"),
        ("nomis = \"$.a\"", "is already captured by \"first\""),
    ] {
        let text = suite(
            "[vars]\nid = \"A8451DY\"\n",
            &(check("first", "full", "/", "capture = { nomis = \"$.b\" }")
                + &check("second", "full", "/", &format!("capture = {{ {capture} }}"))),
        );
        let ran = run(&sandbox, &text, &[], &[], &[]);
        assert_eq!(ran.code, 2, "{capture}: {}", ran.stderr);
        assert!(ran.stderr.contains(why), "{capture}: {}", ran.stderr);
    }
    // A requirement must come first.
    let later = check("a", "full", "/", "requires = [\"b\"]") + &check("b", "full", "/", "");
    let bad = run(&sandbox, &suite("", &later), &[], &[], &[]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("requires \"b\", which is no earlier check"),
        "{}",
        bad.stderr
    );
}
