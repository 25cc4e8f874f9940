//! Notifications: a failing check posts exactly one Slack message (or the JSON result to a webhook), a healthy
//! one posts none unless asked, a dead receiver changes no exit code, and no secret is ever in what is posted.

use std::net::TcpListener;

use crate::common::receiver;
use crate::common::*;

/// A webhook on the common stand-in, its path holding a sentinel: records each body, answers 200.
struct Receiver {
    url: String,
    inner: receiver::Receiver,
}

impl Receiver {
    fn start() -> Self {
        let inner = receiver::Receiver::start(receiver::slack_ok());
        let url = inner.url("/hooks/SENTINEL-webhook-path");
        Self { url, inner }
    }

    fn posts(&self) -> Vec<String> {
        self.inner.requests().into_iter().map(|r| r.body).collect()
    }
}

fn notified(
    path: &str,
    variable: &'static str,
    url: &str,
    flags: &[&str],
) -> (Checked, heartbeat::sandbox::Handle) {
    let sandbox = sandbox();
    let mut env = vars(&sandbox, path);
    env.push((variable, url.to_string()));
    env.push((
        "CIRCLE_BUILD_URL",
        "https://circleci.example/gh/org/repo/42".to_string(),
    ));
    let run = check(&env, flags);
    assert!(
        !run.stderr.contains("SENTINEL-webhook"),
        "the webhook URL was printed: {}",
        run.stderr
    );
    (run, sandbox)
}

#[test]
fn a_failing_check_posts_one_slack_message_without_secrets() {
    let receiver = Receiver::start();
    let (run, _sandbox) = notified(
        "/fault/echo-key",
        "SLACK_WEBHOOK_URL",
        &receiver.url,
        &["--attempts", "1", "--notify", "slack", "--name", "dev"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let posts = receiver.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let message: serde_json::Value = serde_json::from_str(&posts[0]).unwrap();
    let text = message["text"].as_str().unwrap();
    assert!(
        text.starts_with("heartbeat dev: unhealthy (exit 1)"),
        "{text}"
    );
    let blocks = message["blocks"].to_string();
    assert!(
        blocks.contains("request id") && blocks.contains("circleci.example/gh/org/repo/42"),
        "{blocks}"
    );
    assert!(
        !posts[0].contains(SENTINEL_KEY),
        "the API key was posted: {}",
        posts[0]
    );
}

#[test]
fn a_healthy_check_posts_nothing_unless_always() {
    let receiver = Receiver::start();
    let (run, _sandbox) = notified(
        PERSON,
        "SLACK_WEBHOOK_URL",
        &receiver.url,
        &["--notify", "slack"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(receiver.posts().is_empty());
    let (run, _sandbox) = notified(
        PERSON,
        "HEARTBEAT_WEBHOOK_URL",
        &receiver.url,
        &["--notify", "webhook", "--notify-on", "always"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let posts = receiver.posts();
    assert_eq!(posts.len(), 1);
    let result: serde_json::Value = serde_json::from_str(&posts[0]).unwrap();
    assert_eq!(
        (result["verdict"].as_str(), result["status"].as_u64()),
        (Some("healthy"), Some(200))
    );
}

#[cfg(unix)]
#[test]
fn a_dead_receiver_changes_no_exit_code() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/SENTINEL-webhook-dead",
        listener.local_addr().unwrap().port()
    );
    // Accepts, then closes at once: the post fails.
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            drop(stream);
        }
    });
    let (run, _sandbox) = notified(
        "/fault/error",
        "SLACK_WEBHOOK_URL",
        &url,
        &["--attempts", "1", "--notify", "slack"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: the Slack notification was not sent"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_webhook_that_is_not_https_is_refused_before_anything_is_sent() {
    let sandbox = sandbox();
    let mut env = vars(&sandbox, PERSON);
    env.push((
        "SLACK_WEBHOOK_URL",
        "http://hooks.example/SENTINEL-webhook-plain".to_string(),
    ));
    let run = check(&env, &["--notify", "slack"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("SLACK_WEBHOOK_URL: must be an https:// URL"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("SENTINEL-webhook"));
    assert_eq!(sandbox.connections(), 0);
    let missing = check(&vars(&sandbox, PERSON), &["--notify", "webhook"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("HEARTBEAT_WEBHOOK_URL: is not set"),
        "{}",
        missing.stderr
    );
}

/// Runs `heartbeat suite FILE --notify slack` with these variables; returns its exit code.
fn suite_notifying_slack(file: &std::path::Path, env: &[(String, String)]) -> Option<i32> {
    let output = heartbeat()
        .arg("suite")
        .arg(file)
        .args(["--notify", "slack"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    output.status.code()
}

#[test]
fn a_suite_posts_one_message_naming_its_failed_checks() {
    let receiver = Receiver::start();
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "base_url = \"${SERVICE_BASE_URL}\"\nca_cert = \"${SERVICE_CA_CERT}\"\n[consumers.full]\napi_key = \"${FULL_ACCESS_API_KEY}\"\ncert = \"${FULL_ACCESS_CERT}\"\nkey = \"${FULL_ACCESS_KEY}\"\n[[check]]\nname = \"fine\"\nconsumer = \"full\"\npath = \"/v1/persons/A8451DY\"\n[[check]]\nname = \"broken\"\nconsumer = \"full\"\npath = \"/fault/error\"\nattempts = 1\n",
    )
    .unwrap();
    let mut env = sandbox.profile_environment().unwrap();
    env.push(("SERVICE_CA_CERT".into(), b64(&sandbox.pki().ca_cert_pem)));
    env.push(("SLACK_WEBHOOK_URL".into(), receiver.url.clone()));
    assert_eq!(suite_notifying_slack(&file, &env), Some(1));
    let posts = receiver.posts();
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0].contains("1 of 2 checks failed") && posts[0].contains("broken"),
        "{}",
        posts[0]
    );
    for (name, value) in &env {
        if name.ends_with("_KEY") || name.ends_with("_CERT") {
            assert!(!posts[0].contains(value.as_str()), "{name} was posted");
        }
    }
}

#[test]
fn a_suite_notifies_on_an_open_door_and_on_a_tls_failure_too() {
    // Exit 5 (a door left open) and exit 4 (TLS) are failures as much as exit 1: each posts one message, and
    // the all-healthy run beside them posts none.
    let receiver = Receiver::start();
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let head = "base_url = \"${SERVICE_BASE_URL}\"\nca_cert = \"${SERVICE_CA_CERT}\"\n[consumers.full]\napi_key = \"${FULL_ACCESS_API_KEY}\"\ncert = \"${FULL_ACCESS_CERT}\"\nkey = \"${FULL_ACCESS_KEY}\"\n[consumers.stranger]\napi_key = \"${FULL_ACCESS_API_KEY}\"\ncert = \"${STRANGER_CERT}\"\nkey = \"${STRANGER_KEY}\"\n";
    let stranger =
        heartbeat::sandbox::pki::Pki::generate(&heartbeat::sandbox::pki::SERVER_NAMES).unwrap();
    let mut env = sandbox.profile_environment().unwrap();
    env.push(("SERVICE_CA_CERT".into(), b64(&sandbox.pki().ca_cert_pem)));
    env.push(("STRANGER_CERT".into(), b64(&stranger.client.cert_pem)));
    env.push(("STRANGER_KEY".into(), b64(&stranger.client.key_pem)));
    env.push(("SLACK_WEBHOOK_URL".into(), receiver.url.clone()));
    // (name, the check, its exit code, messages posted so far)
    let cases = [
        (
            "open",
            "consumer = \"full\"\npath = \"/v1/persons/A8451DY\"\nexpect = \"refused\"",
            5,
            1,
        ),
        (
            "tls",
            "consumer = \"stranger\"\npath = \"/v1/persons/A8451DY\"\nattempts = 1",
            4,
            2,
        ),
        (
            "fine",
            "consumer = \"full\"\npath = \"/v1/persons/A8451DY\"",
            0,
            2,
        ),
    ];
    for (name, check, code, posted) in cases {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &file,
            format!("{head}[[check]]\nname = \"{name}\"\n{check}\n"),
        )
        .unwrap();
        assert_eq!(suite_notifying_slack(&file, &env), Some(code), "{name}");
        let posts = receiver.posts();
        assert_eq!(posts.len(), posted, "{name}: {posts:?}");
        if code != 0 {
            assert!(posts.last().unwrap().contains(name), "{name}: {posts:?}");
        }
    }
}

#[test]
fn a_webhook_gets_the_json_result_when_stdout_gets_none() {
    let receiver = Receiver::start();
    let sandbox = sandbox();
    let mut env = vars(&sandbox, "/fault/error");
    env.push(("HEARTBEAT_WEBHOOK_URL", receiver.url.clone()));
    let output = heartbeat()
        .args(["check", "--attempts", "1", "--notify", "webhook"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stdout.is_empty(),
        "text format writes nothing on stdout"
    );
    let posts = receiver.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let result: serde_json::Value = serde_json::from_str(&posts[0]).unwrap();
    assert_eq!(result["verdict"], "unhealthy");
    assert_eq!(result["status"], 500);
}
