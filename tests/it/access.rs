//! `heartbeat access`: the matrix it derives from a config passes against the sandbox fed the same config, and
//! fails with exit 5, naming the open door, against one whose role was widened; explain and diff answer as the
//! application decides.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use heartbeat::access::Rules;
use heartbeat::sandbox::pki::{Pki, SERVER_NAMES};
use heartbeat::sandbox::{Handle, Options};
use secrecy::SecretString;

use crate::common::*;

const PROBES: [&str; 4] = [
    "full-access=FULL_ACCESS",
    "limited-access=LIMITED_ACCESS",
    "no-access=NO_ACCESS",
    "revoked=REVOKED",
];

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/hmpps-integration-api")
            .join(name),
    )
    .unwrap()
}

/// The example config with one more permission in the limited consumer's role.
fn widened() -> String {
    format!(
        "{}  roles:\n    reference-data-only:\n      permissions: ['/v1/hmpps/reference-data', '/v1/status', '/v1/persons/{{hmppsId}}/addresses']\n",
        example("authorisation-probes.yaml")
    )
}

fn sandbox_with_rules(config: &str) -> Handle {
    let mut options = Options::new(
        ([127, 0, 0, 1], 0).into(),
        SecretString::from(SENTINEL_KEY.to_string()),
        Arc::new(Pki::generate(&SERVER_NAMES).unwrap()),
    );
    options.rules = Rules::from_yaml(config).unwrap();
    Handle::start(options).unwrap()
}

fn run(args: &[&str], env: &[(String, String)]) -> Output {
    heartbeat()
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_matrix_passes_on_the_same_config_and_names_the_door_a_widened_role_opens() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("authorisation.yaml");
    std::fs::write(&config, example("authorisation-probes.yaml")).unwrap();
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hmpps-integration-api/fixtures.toml");
    let matrix = dir.path().join("matrix.toml");
    for (config_text, expected) in [(example("authorisation-probes.yaml"), 0), (widened(), 5)] {
        let sandbox = sandbox_with_rules(&config_text);
        let mut env = sandbox.profile_environment().unwrap();
        env.push(("SERVICE_CA_CERT".into(), b64(&sandbox.pki().ca_cert_pem)));
        let mut args = vec!["access", "matrix", "--config", config.to_str().unwrap()];
        args.extend([
            "--fixtures",
            fixtures.to_str().unwrap(),
            "--output",
            matrix.to_str().unwrap(),
        ]);
        for probe in PROBES {
            args.extend(["--probe", probe]);
        }
        let generated = run(&args, &env);
        assert_eq!(
            generated.status.code(),
            Some(0),
            "{}",
            text(&generated.stderr)
        );
        let summary = text(&generated.stderr);
        assert!(
            summary.contains("heartbeat access matrix: 444 checks"),
            "{summary}"
        );
        let suite = run(
            &["suite", matrix.to_str().unwrap(), "--format", "json"],
            &env,
        );
        let result: serde_json::Value = serde_json::from_slice(&suite.stdout).unwrap();
        assert_eq!(
            suite.status.code(),
            Some(expected),
            "{}",
            text(&suite.stderr)
        );
        let failed: Vec<&str> = result["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["verdict"] != "passed")
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        if expected == 0 {
            assert!(failed.is_empty(), "{failed:?}");
            // Each kind of cell was there: allowed, refused by role, revoked.
            let suite_text = std::fs::read_to_string(&matrix).unwrap();
            assert!(suite_text.contains("Certificate with serial number 01:7B:EB:77:06:DB:11:F5:2E:B6:F7:37:7B:A9:E0:E4:84:C5:2C:A3 has been revoked"));
            assert!(
                suite_text.contains(
                    "Unable to authorise /v1/persons/A8451DY/addresses for limited-access"
                )
            );
        } else {
            // Exactly the one door the widened role opened, and nothing else.
            assert_eq!(
                failed,
                ["limited-access may not GET /v1/persons/A8451DY/addresses"]
            );
            assert!(
                text(&suite.stderr)
                    .contains("limited-access may not GET /v1/persons/A8451DY/addresses")
            );
        }
    }
}

#[test]
fn explain_and_diff_answer_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.yaml");
    let new = dir.path().join("new.yaml");
    std::fs::write(&old, example("authorisation-probes.yaml")).unwrap();
    std::fs::write(&new, widened()).unwrap();
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let allowed = run(
        &[
            "access",
            "explain",
            "--config",
            old,
            "limited-access",
            "/v1/persons/A8451DY/name?x=1",
        ],
        &[],
    );
    assert_eq!(allowed.status.code(), Some(0));
    assert_eq!(
        text(&allowed.stdout),
        "allowed: limited-access may call /v1/persons/A8451DY/name\n  by its own include, permission /v1/persons/{hmppsId}/name\n"
    );
    let refused = run(
        &[
            "access",
            "explain",
            "--config",
            old,
            "limited-access",
            "/v1/persons/A8451DY/addresses",
        ],
        &[],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stdout).starts_with("refused (403): Unable to authorise"));
    let diff = run(&["access", "diff", old, new], &[]);
    assert_eq!(diff.status.code(), Some(0));
    assert_eq!(
        text(&diff.stdout),
        "GAINED  limited-access  GET /v1/persons/{hmppsId}/addresses\n1 consumers gain 1 routes; 0 consumers lose 0 routes\n"
    );
    assert_eq!(
        run(&["access", "diff", old, new, "--fail-on-gain"], &[])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&["access", "diff", new, old, "--fail-on-gain"], &[])
            .status
            .code(),
        Some(0),
        "a loss alone passes"
    );
}

#[test]
fn bad_inputs_are_named_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.yaml");
    std::fs::write(&config, example("authorisation-probes.yaml")).unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "authorisation: [").unwrap();
    let routes = dir.path().join("routes.txt");
    std::fs::write(&routes, "v1/no-slash\n").unwrap();
    let config = config.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "access",
                "explain",
                "--config",
                broken.to_str().unwrap(),
                "a",
                "/x",
            ],
            "broken.yaml",
        ),
        (
            &[
                "access",
                "explain",
                "--config",
                "/nonexistent/c.yaml",
                "a",
                "/x",
            ],
            "could not be read",
        ),
        (
            &[
                "access",
                "matrix",
                "--config",
                config,
                "--probe",
                "no-equals",
            ],
            "is not CN=PREFIX",
        ),
        (
            &[
                "access",
                "matrix",
                "--config",
                config,
                "--probe",
                "a=BAD-PREFIX",
            ],
            "PREFIX",
        ),
        (
            &[
                "access",
                "matrix",
                "--config",
                config,
                "--probe",
                "a=A",
                "--routes",
                routes.to_str().unwrap(),
            ],
            "line 1",
        ),
    ];
    for (args, problem) in cases {
        let output = run(args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains(problem),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn the_teams_public_sample_config_is_explained_and_covered() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hmpps-integration-api/authorisation-sample.yaml");
    let sample = sample.to_str().unwrap();
    let explained = run(
        &[
            "access",
            "explain",
            "--config",
            sample,
            "reference-data-only-user",
            "/v1/hmpps/reference-data",
        ],
        &[],
    );
    assert_eq!(explained.status.code(), Some(0));
    assert!(
        text(&explained.stdout)
            .contains("by role reference-data-only, permission /v1/hmpps/reference-data")
    );
    // The older include style, with the application's regex fragments.
    let included = run(
        &[
            "access",
            "explain",
            "--config",
            sample,
            "person-search-no-access-client",
            "/v1/persons/A8451DY/addresses",
        ],
        &[],
    );
    assert!(
        text(&included.stdout).contains("by its own include, permission /v1/persons/.*/addresses"),
        "{}",
        text(&included.stdout)
    );
    let matrix = run(
        &[
            "access",
            "matrix",
            "--config",
            sample,
            "--probe",
            "reference-data-only-user=X",
        ],
        &[],
    );
    assert_eq!(matrix.status.code(), Some(0));
    assert!(
        text(&matrix.stderr).contains("111 checks (2 allowed, 109 refused) for 1 consumers"),
        "{}",
        text(&matrix.stderr)
    );
}
