//! Cancelled is a verdict: SIGINT or SIGTERM during a retry wait or a suite ends the run at once, with what
//! finished reported in text, JSON and JUnit, and exit 130 or 143. And a configuration error still answers
//! `--format json`.

#[cfg(unix)]
mod signals {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Instant;

    use crate::common::*;

    /// Starts heartbeat, waits for `ready` on stderr, sends `signal`, and returns (exit code, seconds from the
    /// signal to the exit, stdout, stderr, JUnit).
    fn interrupt(
        args: &[&str],
        env: &[(String, String)],
        ready: &str,
        signal: &str,
    ) -> (i32, f64, String, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let junit = dir.path().join("out.xml");
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("heartbeat"))
            .args(args)
            .args(["--format", "json", "--junit"])
            .arg(&junit)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        while !seen.contains(ready) {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "ended before {ready:?}: {seen}"
            );
            seen.push_str(&line);
        }
        let sent = Instant::now();
        assert!(
            Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        let output = child.wait_with_output().unwrap();
        let waited = sent.elapsed().as_secs_f64();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        (
            output.status.code().unwrap_or(-1),
            waited,
            String::from_utf8_lossy(&output.stdout).into_owned(),
            seen + &rest,
            std::fs::read_to_string(&junit).unwrap_or_default(),
        )
    }

    /// A suite file over the sandbox's profiles: the base URL, its CA and the full-access consumer, then `rest`.
    /// Returns the sandbox, the environment, the folder holding the file, and its path.
    fn profile_suite(
        rest: &str,
    ) -> (
        heartbeat::sandbox::Handle,
        Vec<(String, String)>,
        tempfile::TempDir,
        String,
    ) {
        let sandbox = sandbox();
        let mut env = sandbox.profile_environment().unwrap();
        env.push(("SERVICE_CA_CERT".into(), b64(&sandbox.pki().ca_cert_pem)));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        let head = "base_url = \"${SERVICE_BASE_URL}\"\nca_cert = \"${SERVICE_CA_CERT}\"\n[consumers.full]\napi_key = \"${FULL_ACCESS_API_KEY}\"\ncert = \"${FULL_ACCESS_CERT}\"\nkey = \"${FULL_ACCESS_KEY}\"\n";
        std::fs::write(&file, format!("{head}{rest}")).unwrap();
        let path = file.to_str().unwrap().to_string();
        (sandbox, env, dir, path)
    }

    fn env_of(vars: Vec<(&'static str, String)>) -> Vec<(String, String)> {
        vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn sigint_in_a_retry_wait_is_an_interrupted_verdict_exit_130() {
        let sandbox = sandbox();
        let env = env_of(vars(&sandbox, "/fault/error"));
        let (code, waited, stdout, stderr, junit) = interrupt(
            &["check", "--retry-delay", "10s"],
            &env,
            "retrying in 10s",
            "-INT",
        );
        assert_eq!(code, 130, "{stderr}");
        assert!(waited < 5.0, "took {waited:.1}s to stop");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["verdict"], "interrupted");
        assert_eq!(
            json["attempts"][0]["status"], 500,
            "the finished attempt is reported"
        );
        assert!(
            stderr.contains("heartbeat: interrupted: interrupted by SIGINT"),
            "{stderr}"
        );
        assert!(junit.contains("type=\"interrupted\""), "{junit}");
        assert!(!stderr.contains(SENTINEL_KEY));
    }

    #[test]
    fn sigterm_during_a_suite_reports_what_finished_exit_143() {
        let (_sandbox, env, _dir, file) = profile_suite(
            "[[check]]\nname = \"quick\"\nconsumer = \"full\"\npath = \"/v1/persons/A8451DY\"\n[[check]]\nname = \"slow\"\nconsumer = \"full\"\npath = \"/fault/slow?delay=60s\"\ntimeout = \"2m\"\n",
        );
        let (code, waited, stdout, stderr, junit) =
            interrupt(&["suite", &file], &env, "✓ quick", "-TERM");
        assert_eq!(code, 143, "{stderr}");
        assert!(waited < 5.0, "took {waited:.1}s to stop");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["verdict"], "interrupted");
        let classes: Vec<&str> = json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["class"].as_str().unwrap_or("passed"))
            .collect();
        assert_eq!(classes, ["passed", "interrupted"]);
        assert_eq!(junit.matches("<testcase ").count(), 2, "{junit}");
    }

    #[test]
    fn sigterm_on_a_check_counts_only_the_attempts_made_exit_143() {
        let sandbox = sandbox();
        let env = env_of(vars(&sandbox, "/fault/error"));
        let (code, waited, stdout, stderr, _) = interrupt(
            &["check", "--attempts", "5", "--retry-delay", "200ms"],
            &env,
            "attempt 2/5",
            "-TERM",
        );
        assert_eq!(code, 143, "{stderr}");
        assert!(waited < 5.0, "took {waited:.1}s to stop");
        // Two attempts were made when the signal came (the third may have begun, never finished).
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let made = json["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["class"] != "interrupted")
            .count();
        assert!(
            stderr.contains(&format!("attempts:    {made} of 5")),
            "{stderr}"
        );
        assert!((2..5).contains(&made), "{made}");
        // The attempt the signal stopped follows the finished ones in number.
        let numbers: Vec<u64> = json["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["number"].as_u64().unwrap())
            .collect();
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        assert_eq!(numbers, expected, "{json}");
        assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    }

    #[test]
    fn sigint_on_a_suite_keeps_the_running_checks_finished_attempts_exit_130() {
        let (_sandbox, env, _dir, file) = profile_suite(
            "[consumers.limited]\napi_key = \"${LIMITED_ACCESS_API_KEY}\"\ncert = \"${LIMITED_ACCESS_CERT}\"\nkey = \"${LIMITED_ACCESS_KEY}\"\n[[check]]\nname = \"failing\"\nconsumer = \"limited\"\npath = \"/fault/error\"\nattempts = 3\nretry_delay = \"60s\"\n[[check]]\nname = \"slowish\"\nconsumer = \"full\"\npath = \"/fault/slow?delay=1s\"\n",
        );
        let (code, waited, stdout, stderr, _) =
            interrupt(&["suite", &file], &env, "✓ slowish", "-INT");
        assert_eq!(code, 130, "{stderr}");
        assert!(waited < 5.0, "took {waited:.1}s to stop");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let failing = &json["checks"][0];
        assert_eq!(failing["class"], "interrupted", "{json}");
        // Its first attempt had finished: its 500 and request id are still reported.
        assert_eq!(failing["status"], 500, "{json}");
        assert_eq!(failing["attempts"], 1, "{json}");
        let id = failing["request_id"].as_str().unwrap();
        assert!(id.len() > 8 && id != "-", "{json}");
    }
}

#[test]
fn a_configuration_error_still_answers_json() {
    let output = crate::common::heartbeat()
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (json["verdict"].as_str(), json["exit_code"].as_u64()),
        (Some("invalid"), Some(2))
    );
    let inputs: Vec<&str> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["input"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["SERVICE_URL", "API_KEY", "MTLS_CERT", "MTLS_KEY"]);
}
