//! Shared test harness: sandboxes with sentinel secrets, the binary run in a scrubbed environment, and a
//! check that no secret ever reaches stdout, stderr, the JSON result or the JUnit file.

pub mod hostile;
pub mod receiver;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use assert_cmd::Command;
use base64::Engine as _;
use heartbeat::sandbox::pki::{Pair, Pki, SERVER_NAMES};
use heartbeat::sandbox::{Handle, Options};
use secrecy::SecretString;

/// The API key every sandbox here accepts; it must never be printed.
pub const SENTINEL_KEY: &str = "SENTINEL-api-key-3f9c1d-never-print";

/// The CNs of the certificates the tests issue or keep as fixtures.
pub const TEST_CONSUMERS: [&str; 7] = [
    "heartbeat-fixture-v1",
    "heartbeat-fixture-v3-rsa",
    "other",
    "expired",
    "short-lived",
    "soon",
    "old",
];

/// The person route the `heartbeat` consumer may call, with `firstName` nested in the record.
pub const PERSON: &str = "/v1/persons/A8451DY";

/// Starts a sandbox with a fresh PKI (a uniquely named CA) on 127.0.0.1:0.
pub fn sandbox() -> Handle {
    sandbox_with(Pki::generate(&SERVER_NAMES).expect("generate a PKI"))
}

/// Starts a sandbox with the given PKI.
pub fn sandbox_with(pki: Pki) -> Handle {
    let mut options = Options::new(
        ([127, 0, 0, 1], 0).into(),
        SecretString::from(SENTINEL_KEY.to_string()),
        Arc::new(pki),
    );
    // The certificates tests issue under their own names may call the person route, as `heartbeat` may.
    let mut rules = heartbeat::sandbox::profiles::rules();
    for name in TEST_CONSUMERS {
        rules = rules
            .with(name, &["/v1/persons/[^/]*$"])
            .expect("a valid pattern");
    }
    options.rules = rules;
    Handle::start(options).expect("start the sandbox")
}

/// The openssl-made fixtures (see tests/fixtures/regenerate.sh).
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Starts a sandbox whose CA is the fixtures' CA, so the v1 and RSA fixture certificates are accepted.
pub fn fixture_sandbox() -> Handle {
    sandbox_with(
        Pki::from_ca(&fixture("ca.pem"), &fixture("ca.key"), &SERVER_NAMES)
            .expect("load the fixture CA"),
    )
}

/// A fixture client pair, by stem (`client-v1`, `client-v3-rsa`).
pub fn fixture_pair(stem: &str) -> Pair {
    Pair {
        cert_pem: fixture(&format!("{stem}.pem")),
        key_pem: fixture(&format!("{stem}.key")).into(),
    }
}

pub fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The binary, with an environment scrubbed of everything but PATH.
pub fn heartbeat() -> Command {
    let mut command = Command::cargo_bin("heartbeat").expect("the heartbeat binary is built");
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// What one run of `heartbeat check` produced.
pub struct Checked {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub junit: Option<String>,
}

impl Checked {
    /// Parses stdout as the JSON result.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `heartbeat check` with these variables and flags, always with `--format json --junit`, and asserts that
/// none of the secret values appear in any output.
pub fn check(vars: &[(&'static str, String)], flags: &[&str]) -> Checked {
    let dir = tempfile::tempdir().expect("a temp dir");
    let junit = dir.path().join("junit.xml");
    let output = heartbeat()
        .arg("check")
        .args(flags)
        .args(["--format", "json", "--junit"])
        .arg(&junit)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        // A check that hangs (a wait nobody bounded) is killed and fails the test instead of stalling it.
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("run heartbeat");
    let checked = collect(output, &junit);
    assert_no_secrets(vars, &checked);
    checked
}

fn collect(output: Output, junit: &PathBuf) -> Checked {
    Checked {
        code: output
            .status
            .code()
            .expect("exited, not killed (a hang past the 60 s limit?)"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        junit: std::fs::read_to_string(junit).ok(),
    }
}

/// Fails when any secret, or any line of a decoded PEM key or certificate, appears in an output.
pub fn assert_no_secrets(vars: &[(&'static str, String)], checked: &Checked) {
    let mut secrets = vec![SENTINEL_KEY.to_string()];
    for (name, value) in vars {
        if ["API_KEY", "MTLS_CERT", "MTLS_KEY"].contains(name) {
            secrets.push(value.clone());
            secrets.extend(pem_lines(value));
        }
    }
    secrets.retain(|s| s.len() >= 16);
    let junit = checked.junit.clone().unwrap_or_default();
    let outputs = [
        ("stdout", &checked.stdout),
        ("stderr", &checked.stderr),
        ("junit", &junit),
    ];
    for (where_, text) in outputs {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret value leaked into {where_}:\n{text}"
            );
        }
    }
}

/// The body lines of a PEM value, decoding base64 first when needed.
fn pem_lines(value: &str) -> Vec<String> {
    let pem = if value.contains("-----BEGIN") {
        value.to_string()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
    };
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect()
}

/// The variables of a healthy setup for a path on the sandbox, with its own client pair.
pub fn vars(sandbox: &Handle, path: &str) -> Vec<(&'static str, String)> {
    sandbox.environment(path, &sandbox.pki().client)
}

/// Replaces one variable's value.
pub fn with(
    mut vars: Vec<(&'static str, String)>,
    name: &'static str,
    value: impl Into<String>,
) -> Vec<(&'static str, String)> {
    let value = value.into();
    match vars.iter_mut().find(|(k, _)| *k == name) {
        Some(entry) => entry.1 = value,
        None => vars.push((name, value)),
    }
    vars
}

/// Removes variables.
pub fn without(vars: Vec<(&'static str, String)>, names: &[&str]) -> Vec<(&'static str, String)> {
    vars.into_iter()
        .filter(|(k, _)| !names.contains(k))
        .collect()
}

/// Records that a test could not run here and why (printed, and counted by the test command's summary); a
/// test that skips says so instead of passing silently.
pub fn skip(test: &str, reason: &str) {
    eprintln!("skipped {test}: {reason}");
    if let Some(path) = std::env::var_os("HEARTBEAT_SKIP_LOG") {
        use std::io::Write as _;
        let line = format!("{test}: {reason}\n");
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
    }
}

/// Finds a way to run a command in a new network namespace with no interface up: `unshare -n` (root), or
/// `unshare -rn` (a user namespace, for a non-root user where the kernel allows it). `None` when neither works.
pub fn network_namespace() -> Option<&'static [&'static str]> {
    const WAYS: [&[&str]; 2] = [&["unshare", "-n"], &["unshare", "-rn"]];
    WAYS.into_iter().find(|way| {
        std::process::Command::new(way[0])
            .args(&way[1..])
            .arg("true")
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// The failure class a check's JSON names ("none" when healthy).
pub fn class(run: &Checked) -> String {
    run.json()["class"].as_str().unwrap_or("none").to_string()
}

pub fn no_crash(run: &Checked) {
    assert!(
        ![101, 134, 70].contains(&run.code),
        "crashed with {}: {}",
        run.code,
        run.stderr
    );
}
