//! Golden files for the human output of `heartbeat check` and the JSON shapes of check, suite and a run that
//! cannot start: colour off, and the parts that change from run to run (ports, latencies, request ids, dates)
//! masked. `UPDATE_GOLDEN=1 cargo test --test it reports` rewrites them.

use std::path::Path;

use crate::common::*;

fn mask(text: &str, sandbox_url: &str) -> String {
    let text = text.replace(sandbox_url, "https://SANDBOX");
    let masks = [
        (r"\d+(\.\d)? ms", "N ms"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "REQUEST-ID",
        ),
    ];
    masks.iter().fold(text, |text, (pattern, with)| {
        regex_lite::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, *with)
            .into_owned()
    })
}

/// Reads a golden file, after writing `actual` into it when UPDATE_GOLDEN is set.
fn expected(name: &str, actual: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&file, actual).unwrap();
    }
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", file.display()))
}

fn golden(name: &str, path: &str, flags: &[&str]) {
    let sandbox = sandbox();
    let output = heartbeat()
        .args(["check", "--color", "never"])
        .args(flags)
        .envs(vars(&sandbox, path))
        .output()
        .unwrap();
    let actual = mask(&String::from_utf8(output.stderr).unwrap(), &sandbox.url(""));
    let expected = expected(name, &actual);
    assert_eq!(
        actual, expected,
        "the output of {name} changed; if on purpose, run UPDATE_GOLDEN=1 cargo test --test it reports"
    );
}

#[test]
fn healthy_after_a_retry() {
    golden(
        "healthy-after-retry.txt",
        "/fault/flap?failures=1&id=golden",
        &["--retry-delay", "10ms"],
    );
}

#[test]
fn unhealthy_500_with_user_message() {
    golden(
        "unhealthy-500.txt",
        "/fault/error",
        &["--attempts", "2", "--retry-delay", "10ms"],
    );
}

#[test]
fn the_gateway_refuses_when_the_key_goes_in_another_header() {
    golden(
        "gateway-forbidden-403.txt",
        "/v1/persons/A8451DY",
        &["--api-key-header", "x-wrong-header"],
    );
}

/// Replaces what changes from run to run in a JSON result (ids, timings, the port, the version, days left).
fn mask_json(value: &mut serde_json::Value, sandbox_url: &str) {
    const VOLATILE: [&str; 6] = [
        "request_id",
        "gateway_request_id",
        "latency_ms",
        "elapsed_ms",
        "version",
        "cert_days_left",
    ];
    match value {
        serde_json::Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if VOLATILE.contains(&key.as_str()) && !field.is_null() {
                    *field = serde_json::Value::String(key.to_uppercase());
                } else {
                    mask_json(field, sandbox_url);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| mask_json(i, sandbox_url)),
        serde_json::Value::String(text) => *text = text.replace(sandbox_url, "https://SANDBOX"),
        _ => {}
    }
}

/// Compares a JSON result with its golden file: every field the Action and users' `jq` read, by name and type.
fn golden_json(name: &str, stdout: &[u8], sandbox_url: &str) {
    let mut value: serde_json::Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)));
    mask_json(&mut value, sandbox_url);
    let actual = serde_json::to_string_pretty(&value).unwrap() + "\n";
    let expected = expected(name, &actual);
    assert_eq!(
        actual, expected,
        "the JSON shape of {name} changed; the Action and users' jq read it. If on purpose, say so in the CHANGELOG and run UPDATE_GOLDEN=1 cargo test --test it reports"
    );
}

#[test]
fn the_json_of_a_check_keeps_its_shape() {
    let sandbox = sandbox();
    let output = heartbeat()
        .args([
            "check",
            "--format",
            "json",
            "--attempts",
            "2",
            "--retry-delay",
            "10ms",
        ])
        .envs(vars(&sandbox, "/fault/error"))
        .output()
        .unwrap();
    golden_json("check-unhealthy-500.json", &output.stdout, &sandbox.url(""));
}

#[test]
fn the_json_of_a_suite_keeps_its_shape() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("suite.toml");
    let suite = "[consumers.full]\napi_key = \"${API_KEY}\"\ncert = \"${MTLS_CERT}\"\nkey = \"${MTLS_KEY}\"\n\
        [consumers.anonymous]\napi_key = \"${API_KEY}\"\n\
        [[check]]\nname = \"person\"\nconsumer = \"full\"\npath = \"/v1/persons/A8451DY\"\n\
        [[check]]\nname = \"error\"\nconsumer = \"full\"\npath = \"/fault/error\"\nattempts = 1\n\
        [[check]]\nname = \"no certificate\"\nconsumer = \"anonymous\"\npath = \"/v1/persons/A8451DY\"\nexpect = \"refused\"\n";
    std::fs::write(&file, suite).unwrap();
    let output = heartbeat()
        .arg("suite")
        .arg(&file)
        .args(["--format", "json"])
        .envs(vars(&sandbox, PERSON))
        .output()
        .unwrap();
    golden_json("suite-mixed.json", &output.stdout, &sandbox.url(""));
}

#[test]
fn the_json_of_a_run_that_cannot_start_keeps_its_shape() {
    let output = heartbeat()
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    golden_json("invalid-unset.json", &output.stdout, "https://never");
}

#[test]
fn json_timings_are_the_real_ones() {
    let sandbox = sandbox();
    let output = heartbeat()
        .args(["check", "--format", "json", "--attempts", "1"])
        .envs(vars(&sandbox, "/fault/slow?delay=60ms"))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["elapsed_ms"].as_u64().unwrap() >= 60, "{json}");
    assert!(
        json["attempts"][0]["latency_ms"].as_u64().unwrap() >= 60,
        "{json}"
    );
}

#[test]
fn a_reader_that_left_is_not_worth_a_word_but_a_full_disk_is() {
    let sandbox = sandbox();
    let env = vars(&sandbox, PERSON);
    // The reader closes stdout before the result comes: no warning, the verdict stands.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("heartbeat"))
        .args(["check", "--format", "json", "--attempts", "1"])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("was not written"), "{stderr}");
    // A disk that is full is worth a warning, and the verdict still stands.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("heartbeat"))
        .env_clear()
        .args(["check", "--format", "json", "--attempts", "1"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: the JSON result was not written"),
        "{stderr}"
    );
}
