//! The team's smoke tests as heartbeat suites (`examples/hmpps-integration-api/{dev,preprod,prod}.toml`) against
//! the sandbox: every check passes against the API as it should be, and each way the API can go wrong turns
//! exactly the checks that guard it red, saying why — a revocation list ignored, the WAF off, a role widened,
//! Delius down, a door locked for the wrong reason.

use std::path::Path;
use std::sync::Arc;

use heartbeat::access::Rules;
use heartbeat::sandbox::pki::{Pki, SERVER_NAMES};
use heartbeat::sandbox::{Handle, Options};
use secrecy::SecretString;

use crate::common::*;

/// The sandbox's default consumers, written as the team's `authorisation.yaml` would hold them.
const CONFIG: &str = "authorisation:
  certificate-revocation-list:
    - 01:7b:eb:77:06:db:11:f5:2e:b6:f7:37:7b:a9:e0:e4:84:c5:2c:a3 # Smoke test
  consumers:
    full-access:
      roles: [full-access]
    limited-access:
      include: [\"/v1/persons/{hmppsId}/name\"]
    no-access:
      roles: []
    revoked:
      roles: [full-access]
    suspended:
      roles: [full-access]
      is-suspended: true
    smoke-minimal:
      roles: [reference-data-only]
";

/// Starts a sandbox with this configuration, WAF and Delius as given.
fn sandbox_as(config: &str, waf: bool, delius_down: bool) -> Handle {
    let pki = Pki::generate(&SERVER_NAMES).unwrap();
    let mut options = Options::new(
        ([127, 0, 0, 1], 0).into(),
        SecretString::from(SENTINEL_KEY.to_string()),
        Arc::new(pki),
    );
    options.rules = Rules::from_yaml(config).unwrap();
    options.waf = waf;
    options.delius_down = delius_down;
    Handle::start(options).unwrap()
}

/// Copies an example (with its bodies) into a folder of its own, retrying quickly: a 500 is retried 5 s apart
/// in the real file, which would only make these tests slow. Everything else is as written.
pub fn quick_copy(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hmpps-integration-api");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bodies")).unwrap();
    for body in std::fs::read_dir(examples.join("bodies")).unwrap() {
        let body = body.unwrap().path();
        let name = body.file_name().unwrap();
        std::fs::copy(&body, dir.path().join("bodies").join(name)).unwrap();
    }
    let text = std::fs::read_to_string(examples.join(format!("{name}.toml"))).unwrap();
    let rhythm = "retry_delay = \"5s\"";
    assert!(text.contains(rhythm), "the example's rhythm changed");
    let file = dir.path().join(format!("{name}.toml"));
    std::fs::write(&file, text.replace(rhythm, "retry_delay = \"10ms\"")).unwrap();
    (dir, file)
}

/// Runs an example suite with the variables `--write-env` writes, and nothing else.
fn run_example(sandbox: &Handle, name: &str) -> (i32, serde_json::Value, String) {
    let mut vars = sandbox.profile_environment().unwrap();
    vars.push(("SERVICE_CA_CERT".into(), b64(&sandbox.pki().ca_cert_pem)));
    let (_dir, file) = quick_copy(name);
    let output = heartbeat()
        .arg("suite")
        .arg(&file)
        .args(["--format", "json"])
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    for (name, value) in &vars {
        if name.ends_with("_KEY") || name.ends_with("_CERT") || name == "OBO_TOKEN" {
            assert!(!stderr.contains(value.as_str()), "{name} leaked");
            assert!(
                !String::from_utf8_lossy(&output.stdout).contains(value.as_str()),
                "{name} leaked"
            );
        }
    }
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap(), json, stderr)
}

/// The names of the checks that did not pass, each with its verdict.
fn red(json: &serde_json::Value) -> Vec<(String, String)> {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] != "passed")
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_example_passes_against_the_api_as_it_should_be() {
    let sandbox = sandbox_as(CONFIG, true, false);
    for name in ["dev", "preprod", "prod"] {
        let (code, json, stderr) = run_example(&sandbox, name);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(red(&json).is_empty(), "{name}: {:?}", red(&json));
    }
    // The default sandbox is the same API: the dev suite passes there too.
    let (code, json, stderr) = run_example(&crate::common::sandbox(), "dev");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["passed"], json["checks"].as_array().unwrap().len());
}

#[test]
fn a_revocation_list_ignored_opens_the_revoked_doors() {
    let config = CONFIG.replace(
        "    - 01:7b:eb:77:06:db:11:f5:2e:b6:f7:37:7b:a9:e0:e4:84:c5:2c:a3 # Smoke test\n",
        "",
    );
    let (code, json, stderr) = run_example(&sandbox_as(&config, true, false), "dev");
    assert_eq!(code, 5, "{stderr}");
    let opened = [
        ("revoked: status is refused", "failed"),
        ("revoked: search is refused", "failed"),
    ];
    assert_eq!(
        red(&json),
        opened.map(|(n, v)| (n.to_string(), v.to_string()))
    );
    assert!(
        stderr.contains("DOOR OPEN: \"revoked: status is refused\" [revoked]"),
        "{stderr}"
    );
}

#[test]
fn the_waf_off_fails_the_waf_check_alone() {
    let (code, json, _) = run_example(&sandbox_as(CONFIG, false, false), "dev");
    assert_eq!(code, 5);
    assert_eq!(
        red(&json),
        [(
            "the WAF blocks SQL injection".to_string(),
            "failed".to_string()
        )]
    );
}

#[test]
fn a_widened_role_opens_the_limited_consumers_locked_doors() {
    let config = CONFIG.replace(
        "    limited-access:\n      include: [\"/v1/persons/{hmppsId}/name\"]",
        "    limited-access:\n      roles: [full-access]",
    );
    let (code, json, stderr) = run_example(&sandbox_as(&config, true, false), "dev");
    assert_eq!(code, 5, "{stderr}");
    let opened = ["partial: status is refused", "partial: search is refused"];
    assert_eq!(
        red(&json),
        opened.map(|n| (n.to_string(), "failed".to_string()))
    );
}

#[test]
fn delius_down_skips_what_needs_reference_data_and_the_verdict_is_its_failure() {
    let (code, json, stderr) = run_example(&sandbox_as(CONFIG, true, true), "dev");
    assert_eq!(code, 1, "{stderr}");
    let checks = json["checks"].as_array().unwrap();
    let reference = checks
        .iter()
        .find(|c| c["name"] == "reference data")
        .unwrap();
    assert_eq!(
        (reference["verdict"].as_str(), reference["status"].as_u64()),
        (Some("failed"), Some(500))
    );
    let skipped: Vec<&str> = checks
        .iter()
        .filter(|c| c["verdict"] == "skipped")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // Everything that requires reference data, and what needs their captures, is skipped — nothing else.
    for name in [
        "person",
        "name",
        "images",
        "image",
        "a contact event",
        "person, on behalf of",
    ] {
        assert!(skipped.contains(&name), "{name} not skipped: {skipped:?}");
    }
    for name in [
        "status",
        "visit",
        "partial: name",
        "revoked: status is refused",
    ] {
        assert!(!skipped.contains(&name), "{name} skipped");
    }
    assert_eq!(
        red(&json).iter().filter(|(_, v)| v == "failed").count(),
        1,
        "{:?}",
        red(&json)
    );
    let person = checks.iter().find(|c| c["name"] == "person").unwrap();
    assert!(
        person["message"]
            .as_str()
            .unwrap()
            .contains("requires \"reference data\", which failed"),
        "{person}"
    );
}

#[test]
fn a_door_locked_for_the_wrong_reason_fails_naming_both() {
    // The revoked certificate is no longer on the list, but its consumer is suspended: still locked, for
    // another reason than the revocation the check tests.
    let config = CONFIG
        .replace(
            "    - 01:7b:eb:77:06:db:11:f5:2e:b6:f7:37:7b:a9:e0:e4:84:c5:2c:a3 # Smoke test\n",
            "",
        )
        .replace(
            "    revoked:\n      roles: [full-access]\n",
            "    revoked:\n      roles: [full-access]\n      isSuspended: true\n",
        );
    let (code, json, stderr) = run_example(&sandbox_as(&config, true, false), "dev");
    assert_eq!(code, 1, "a door that held is no door open: {stderr}");
    let checks = json["checks"].as_array().unwrap();
    let revoked = checks
        .iter()
        .find(|c| c["name"] == "revoked: status is refused")
        .unwrap();
    assert_eq!(revoked["class"], "wrong_refusal", "{revoked}");
    let message = revoked["message"].as_str().unwrap();
    assert!(message.contains("Access suspended"), "{message}");
    assert!(
        message.contains("(expected refused by the application with \"has been revoked\")"),
        "{message}"
    );
}
