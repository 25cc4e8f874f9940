//! One engine: `heartbeat check` is a suite of one. The same check run both ways earns the same verdict,
//! class, exit code, request, redaction, JSON fields and JUnit test case; and what the suite once did its own
//! way (progress lines, URL limits, certificate warnings) is now what `check` does.

use std::path::Path;

use crate::common::*;
use heartbeat::sandbox::Handle;

/// One run's outputs, whichever command made it.
struct Run {
    code: i32,
    json: serde_json::Value,
    stderr: String,
    junit: String,
}

/// The suite of one check that `heartbeat check` with these variables and `flags` would make.
fn one_check_suite(path: &str, attempts: u32, extra: &str) -> String {
    format!(
        "[consumers.c]\napi_key = \"${{API_KEY}}\"\ncert = \"${{MTLS_CERT}}\"\nkey = \"${{MTLS_KEY}}\"\n{extra}\n\
         [[check]]\nname = \"NAME\"\nconsumer = \"c\"\npath = \"{path}\"\nattempts = {attempts}\nretry_delay = \"10ms\"\n"
    )
}

fn run_suite(dir: &Path, text: &str, vars: &[(&'static str, String)], flags: &[&str]) -> Run {
    let (file, junit) = (dir.join("one.toml"), dir.join("suite.xml"));
    std::fs::write(&file, text).unwrap();
    let output = heartbeat()
        .arg("suite")
        .arg(&file)
        .args(["--format", "json", "--color", "never", "--junit"])
        .arg(&junit)
        .args(flags)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let ran = Checked {
        code: output.status.code().expect("exited"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        junit: std::fs::read_to_string(&junit).ok(),
    };
    assert_no_secrets(vars, &ran);
    Run {
        code: ran.code,
        json: ran.json(),
        stderr: ran.stderr,
        junit: ran.junit.unwrap_or_default(),
    }
}

/// The test case of a JUnit report, with what differs by nature masked: the time, the request ids, and the
/// class name (`heartbeat.check` or the suite's consumer).
fn testcase(junit: &str) -> String {
    let start = junit.find("<testcase").expect("a test case");
    let end = junit.find("</testcase>").map_or(junit.len(), |e| e + 11);
    let masks = [
        (r#"time="[^"]*""#, "time=\"T\""),
        (r#"classname="[^"]*""#, "classname=\"C\""),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "ID",
        ),
        (r"\d+(\.\d)? ms", "N ms"),
    ];
    masks
        .iter()
        .fold(junit[start..end].to_string(), |text, (p, with)| {
            regex_lite::Regex::new(p)
                .unwrap()
                .replace_all(&text, *with)
                .into_owned()
        })
}

/// Runs the check both ways and asserts they agree on everything they share.
fn both_ways(
    sandbox: &Handle,
    vars: Vec<(&'static str, String)>,
    path: &str,
    attempts: u32,
) -> Run {
    both_ways_with(sandbox, vars, path, attempts, "", &[])
}

fn both_ways_with(
    sandbox: &Handle,
    vars: Vec<(&'static str, String)>,
    path: &str,
    attempts: u32,
    consumer_extra: &str,
    flags: &[&str],
) -> Run {
    let attempts_flag = attempts.to_string();
    let mut check_flags = vec!["--attempts", &attempts_flag, "--retry-delay", "10ms"];
    check_flags.extend_from_slice(flags);
    let checked = check(&vars, &check_flags);
    let dir = tempfile::tempdir().unwrap();
    let name = format!("GET {}", sandbox.url(path));
    let text = one_check_suite(path, attempts, consumer_extra).replace("NAME", &name);
    let suite = run_suite(dir.path(), &text, &vars, &[]);
    let one = checked.json();
    let many = &suite.json["checks"][0];
    assert_eq!(
        checked.code, suite.code,
        "exit codes: {}\n{}",
        checked.stderr, suite.stderr
    );
    assert_eq!(one["exit_code"], suite.json["exit_code"]);
    let verdict = |v: &str| if v == "healthy" { "passed" } else { "failed" };
    assert_eq!(verdict(one["verdict"].as_str().unwrap()), many["verdict"]);
    for field in [
        "class",
        "status",
        "url",
        "message",
        "user_message",
        "gateway_request_id",
    ] {
        let shared = |v: &serde_json::Value| {
            // Ids are fresh per run: whether there is one is what must agree.
            if field.ends_with("request_id") {
                serde_json::json!(v.is_string())
            } else {
                v.clone()
            }
        };
        assert_eq!(shared(&one[field]), shared(&many[field]), "{field}");
    }
    assert_eq!(
        one["attempts"].as_array().unwrap().len() as u64,
        many["attempts"]
    );
    assert_eq!(
        testcase(checked.junit.as_deref().unwrap()),
        testcase(&suite.junit),
        "the JUnit test cases differ"
    );
    suite
}

#[test]
fn a_healthy_check_is_the_same_verdict_both_ways() {
    let sandbox = sandbox();
    let run = both_ways(&sandbox, vars(&sandbox, PERSON), PERSON, 1);
    assert_eq!(run.code, 0);
    assert_eq!(run.json["verdict"], "passed");
    assert_eq!(run.json["checks"][0]["status"], 200);
}

#[test]
fn a_500_after_retries_is_the_same_failure_both_ways() {
    let sandbox = sandbox();
    let run = both_ways(&sandbox, vars(&sandbox, "/fault/error"), "/fault/error", 2);
    assert_eq!(run.code, 1);
    assert_eq!(run.json["checks"][0]["attempts"], 2);
    assert!(run.json["checks"][0]["user_message"].is_string());
}

#[test]
fn the_gateways_refusal_is_the_same_both_ways() {
    let sandbox = sandbox();
    // The key goes in a header the gateway does not read: its 403, after one attempt.
    let run = both_ways_with(
        &sandbox,
        vars(&sandbox, PERSON),
        PERSON,
        3,
        "api_key_header = \"x-other-key\"",
        &["--api-key-header", "x-other-key"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json["checks"][0]["class"], "gateway_forbidden");
    assert_eq!(run.json["checks"][0]["attempts"], 1);
}

#[test]
fn an_untrusted_server_is_the_same_tls_failure_both_ways() {
    let sandbox = sandbox();
    let other =
        heartbeat::sandbox::pki::Pki::generate(&heartbeat::sandbox::pki::SERVER_NAMES).unwrap();
    let vars = with(
        vars(&sandbox, PERSON),
        "SERVICE_CA_CERT",
        b64(&other.ca_cert_pem),
    );
    let run = both_ways(&sandbox, vars, PERSON, 2);
    assert_eq!(run.code, 4);
}

#[test]
fn an_echoed_key_is_redacted_the_same_both_ways() {
    let sandbox = sandbox();
    let path = "/fault/echo-key";
    let run = both_ways(&sandbox, vars(&sandbox, path), path, 1);
    assert_eq!(run.code, 1);
    let message = run.json["checks"][0]["message"].to_string();
    assert!(!message.contains(SENTINEL_KEY), "{message}");
}

#[test]
fn a_suites_progress_line_names_the_latency_unit_once() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let text = one_check_suite(PERSON, 1, "").replace("NAME", "person");
    let run = run_suite(dir.path(), &text, &vars(&sandbox, PERSON), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("person [c]"))
        .unwrap();
    let pattern = regex_lite::Regex::new(r"\[c\] 200 in \d+(\.\d)? ms$").unwrap();
    assert!(pattern.is_match(line), "{line}");
}

#[test]
fn a_url_check_refuses_is_refused_by_a_suite_with_the_same_words() {
    let sandbox = sandbox();
    let long = format!("/{}", "a".repeat(70_000));
    let checked = check(
        &with(vars(&sandbox, PERSON), "SERVICE_URL", sandbox.url(&long)),
        &[],
    );
    assert_eq!(checked.code, 2);
    let dir = tempfile::tempdir().unwrap();
    let text = one_check_suite(&long, 1, "").replace("NAME", "long");
    let run = run_suite(dir.path(), &text, &vars(&sandbox, PERSON), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let words = "a URL may be at most 8192";
    assert!(checked.stderr.contains(words), "{}", checked.stderr);
    assert!(run.stderr.contains(words), "{}", run.stderr);
    assert_eq!(sandbox.connections(), 0);
    // The other side: a long URL under the limit is sent.
    let fine = format!("/v1/persons/{}", "A".repeat(4_000));
    let text = one_check_suite(&fine, 1, "").replace("NAME", "fine");
    let run = run_suite(dir.path(), &text, &vars(&sandbox, PERSON), &[]);
    assert_ne!(run.code, 2, "{}", run.stderr);
    assert!(sandbox.connections() > 0);
}

#[test]
fn a_suite_warns_of_each_consumers_certificate_about_to_expire_as_check_does() {
    let sandbox = sandbox();
    let soon = sandbox.pki().issue_client("soon", -1, 5).unwrap();
    let vars = sandbox.environment(PERSON, &soon);
    let dir = tempfile::tempdir().unwrap();
    let text = one_check_suite(PERSON, 1, "").replace("NAME", "person");
    let run = run_suite(dir.path(), &text, &vars, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Five days from issuing, counted in whole days a moment later: 4, or 5 within the same second.
    let warning = |whose: &str| {
        regex_lite::Regex::new(&format!("client certificate{whose} expires in [45] days")).unwrap()
    };
    assert!(
        warning(" of consumer \"c\"").is_match(&run.stderr),
        "{}",
        run.stderr
    );
    let checked = check(&vars, &[]);
    assert!(warning("").is_match(&checked.stderr), "{}", checked.stderr);
    // The other side: a threshold below the days left, or a certificate far from expiry, warns nobody.
    let run = run_suite(dir.path(), &text, &vars, &["--cert-warn-days", "3"]);
    assert!(!run.stderr.contains("expires in"), "{}", run.stderr);
    let run = run_suite(
        dir.path(),
        &text,
        &crate::common::vars(&sandbox, PERSON),
        &[],
    );
    assert!(!run.stderr.contains("expires in"), "{}", run.stderr);
}

#[test]
fn a_consumers_open_doors_share_a_connection_and_its_locked_door_gets_a_fresh_one() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let checks = |locked: bool| {
        let door = if locked {
            "[[check]]\nname = \"search is refused\"\nconsumer = \"c\"\npath = \"/v1/persons?first_name=x\"\nexpect = \"refused\"\n"
        } else {
            ""
        };
        format!(
            "[defaults]\nconcurrency = 1\nattempts = 1\n[consumers.c]\napi_key = \"${{API_KEY}}\"\ncert = \"${{MTLS_CERT}}\"\nkey = \"${{MTLS_KEY}}\"\n\
             [[check]]\nname = \"one\"\nconsumer = \"c\"\npath = \"/v1/persons/A8451DY\"\n\
             [[check]]\nname = \"two\"\nconsumer = \"c\"\npath = \"/v1/persons/G6333VK\"\n{door}"
        )
    };
    let run = run_suite(dir.path(), &checks(false), &vars(&sandbox, PERSON), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        sandbox.connections(),
        1,
        "two open doors, one kept-alive connection"
    );
    let run = run_suite(dir.path(), &checks(true), &vars(&sandbox, PERSON), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        sandbox.connections(),
        1 + 2,
        "the locked door is tried on a connection of its own"
    );
}
