//! `heartbeat cert inspect`: facts, problems and exit codes for the certificates users really have.

use crate::common::*;
use heartbeat::sandbox::pki::{Pki, SERVER_NAMES};

fn inspect(vars: &[(&'static str, String)], flags: &[&str]) -> (i32, String, String) {
    let output = heartbeat()
        .args(["cert", "inspect"])
        .args(flags)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    for secret in vars
        .iter()
        .filter(|(k, _)| *k == "MTLS_KEY")
        .map(|(_, v)| v)
    {
        assert!(
            !stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()),
            "the key leaked"
        );
    }
    (output.status.code().unwrap(), stdout, stderr)
}

fn pair_vars(cert: &str, key: &str) -> Vec<(&'static str, String)> {
    vec![("MTLS_CERT", b64(cert)), ("MTLS_KEY", b64(key))]
}

#[test]
fn the_teams_v1_certificate_is_flagged_with_days_left() {
    // The team's certificates are v1 with no extensions; the gateway and `check` accept them: notes, exit 0.
    let pair = fixture_pair("client-v1");
    let (code, stdout, _) = inspect(&pair_vars(&pair.cert_pem, &pair.key_pem), &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("version:      X.509 v1"), "{stdout}");
    assert!(stdout.contains("key:          RSA 2048 bits"), "{stdout}");
    assert!(
        stdout.contains("note: it is an X.509 v1 certificate"),
        "{stdout}"
    );
    assert!(stdout.contains("note: it states no purpose"), "{stdout}");
    assert!(stdout.contains("key matches:  yes (MTLS_KEY)"), "{stdout}");
    assert!(stdout.contains("heartbeat: no problems found"), "{stdout}");
    let (_, json, _) = inspect(
        &pair_vars(&pair.cert_pem, &pair.key_pem),
        &["--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["problems"], serde_json::json!([]));
    assert_eq!(json["notes"].as_array().unwrap().len(), 2);
    assert_eq!(json["subject"], "CN=heartbeat-fixture-v1");
    assert!(json["days_left"].as_i64().unwrap() > 36_000);
}

#[test]
fn a_modern_certificate_has_no_problems() {
    let pki = Pki::generate(&SERVER_NAMES).unwrap();
    let (code, stdout, _) = inspect(
        &pair_vars(&pki.client.cert_pem, &pki.client.key_pem),
        &["--format", "json"],
    );
    assert_eq!(code, 0, "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["version"], 3);
    assert_eq!(json["client_auth"], true);
    assert_eq!(json["key_matches"], true);
    assert_eq!(json["key_type"], "EC");
    assert_eq!(json["problems"], serde_json::json!([]));
    assert_eq!(
        json["notes"],
        serde_json::json!([]),
        "a v3 certificate with clientAuth needs no note"
    );
    assert!(
        json["issuer"]
            .as_str()
            .unwrap()
            .starts_with("CN=heartbeat sandbox CA ")
    );
}

#[test]
fn expired_expiring_and_mismatched_are_problems() {
    let pki = Pki::generate(&SERVER_NAMES).unwrap();
    let expired = pki.issue_client("old", -90, -3).unwrap();
    let (code, stdout, _) = inspect(&pair_vars(&expired.cert_pem, &expired.key_pem), &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("problem: the client certificate expired on"),
        "{stdout}"
    );
    // 3 days and the moments since issuing: whole days toward zero, always 3.
    assert!(stdout.contains("(expired 3 days ago)"), "{stdout}");
    assert!(
        !stdout.contains("days left") && !stdout.contains("warning:"),
        "{stdout}"
    );
    let soon = pki.issue_client("soon", -1, 20).unwrap();
    let (code, stdout, _) = inspect(&pair_vars(&soon.cert_pem, &soon.key_pem), &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("(within 30); issue a new one soon"),
        "{stdout}"
    );
    assert_eq!(
        inspect(
            &pair_vars(&soon.cert_pem, &soon.key_pem),
            &["--cert-warn-days", "7"]
        )
        .0,
        0
    );
    // A purpose that excludes clientAuth (the sandbox's server certificate) is a problem, not a note.
    let (code, stdout, _) = inspect(&[("MTLS_CERT", b64(&pki.server.cert_pem))], &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("problem: its extendedKeyUsage does not allow clientAuth"),
        "{stdout}"
    );
    let (code, stdout, _) = inspect(&pair_vars(&pki.client.cert_pem, &soon.key_pem), &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("key matches:  NO (MTLS_KEY)") && stdout.contains("does not belong"),
        "{stdout}"
    );
}

#[test]
fn the_key_is_optional_and_files_work() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("c.pem");
    std::fs::write(&cert, fixture("client-v3-rsa.pem")).unwrap();
    let (code, stdout, _) = inspect(&[], &["--cert", cert.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("key matches:  no key given"), "{stdout}");
}

#[test]
fn unreadable_inputs_exit_2_without_their_values() {
    let (code, _, stderr) = inspect(&[], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("MTLS_CERT: is not set"), "{stderr}");
    let (code, _, stderr) = inspect(
        &[("MTLS_CERT", "bm90IGEgY2VydA%%SENTINEL-inspect".into())],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("MTLS_CERT: not PEM") && !stderr.contains("SENTINEL-inspect"),
        "{stderr}"
    );
    let pair = fixture_pair("client-v1");
    let (code, _, stderr) = inspect(
        &[
            ("MTLS_CERT", b64(&pair.cert_pem)),
            (
                "MTLS_KEY",
                b64("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"),
            ),
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("MTLS_KEY: is not a usable private key"),
        "{stderr}"
    );
}
