//! A heartbeat on a schedule: the state between runs makes notifications transitions (down after N failures,
//! a reminder, one recovery), Slack is posted as the team posts (a bot token, `chat.postMessage`), a missed
//! run is noticed by a dead man's switch, metrics are written and pushed, and a signal while sending still
//! ends the run at once with 130 or 143. Every receiver is a stand-in on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::receiver::{Receiver, Reply, slack_ok};
use crate::common::*;

const BOT_TOKEN: &str = "xoxb-SENTINEL-bot-token-5e1f";
const CHANNEL: &str = "hmpps-integration-api-alerts";

/// A suite of one check on the sandbox's person route, named "person", one attempt.
const SUITE: &str = r#"
base_url = "${SERVICE_BASE_URL}"
ca_cert = "${SERVICE_CA_CERT}"
[consumers.full]
api_key = "${FULL_ACCESS_API_KEY}"
cert = "${FULL_ACCESS_CERT}"
key = "${FULL_ACCESS_KEY}"
[[check]]
name = "person"
consumer = "full"
path = "/v1/persons/A8451DY"
attempts = 1
"#;

struct Setup {
    sandbox: heartbeat::sandbox::Handle,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Setup {
    fn new(suite: &str) -> Self {
        let sandbox = sandbox();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("suite.toml"), suite).unwrap();
        let mut env = sandbox.profile_environment().unwrap();
        env.push(("SERVICE_CA_CERT".into(), b64(&sandbox.pki().ca_cert_pem)));
        Self { sandbox, dir, env }
    }

    fn with_slack(mut self, receiver: &Receiver) -> Self {
        self.env.push(("SLACK_BOT_TOKEN".into(), BOT_TOKEN.into()));
        self.env.push(("SLACK_CHANNEL".into(), CHANNEL.into()));
        self.env
            .push(("SLACK_API_URL".into(), receiver.url("/api")));
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the suite with these flags; `down` points it at a port where nothing listens.
    fn run(&self, down: bool, flags: &[&str]) -> Output {
        let mut env = self.env.clone();
        if down {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("https://127.0.0.1:{}", closed.local_addr().unwrap().port());
            drop(closed);
            env.retain(|(k, _)| k != "SERVICE_BASE_URL");
            env.push(("SERVICE_BASE_URL".into(), url));
        }
        let output = heartbeat()
            .arg("suite")
            .arg(self.path("suite.toml"))
            .args(flags)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for (name, value) in &env {
            let secret =
                name.ends_with("_KEY") || name.ends_with("_CERT") || name == "SLACK_BOT_TOKEN";
            assert!(
                !(secret && shown.contains(value.as_str())),
                "{name} was printed: {shown}"
            );
        }
        output
    }
}

/// Moves every time in the state file back by `seconds`: the next run happens that much later.
fn let_time_pass(state: &Path, seconds: u64) {
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    let back = |v: &mut serde_json::Value| {
        if let Some(t) = v.as_u64() {
            *v = (t - seconds).into();
        }
    };
    for entry in record["checks"].as_object_mut().unwrap().values_mut() {
        back(&mut entry["down_since"]);
        back(&mut entry["alerted_at"]);
    }
    std::fs::write(state, record.to_string()).unwrap();
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The mrkdwn and plain texts of a Slack message, joined.
fn texts(message: &serde_json::Value) -> String {
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        serde_json::Value::String(s) if k == "text" => out.push(s.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    walk(message, &mut out);
    out.join("\n")
}

#[test]
fn an_outage_across_twelve_runs_posts_one_alert_one_reminder_and_one_recovery() {
    let slack = Receiver::start(slack_ok());
    let setup = Setup::new(SUITE).with_slack(&slack);
    let state = setup.path("state.json");
    let state_flag = state.to_str().unwrap();
    let flags = [
        "--notify",
        "slack",
        "--name",
        "dev",
        "--state",
        state_flag,
        "--alert-after",
        "2",
        "--remind-every",
        "20m",
    ];
    // Runs five minutes apart: healthy ×3, down ×6, healthy ×3.
    let plan = [
        false, false, false, true, true, true, true, true, true, false, false, false,
    ];
    let mut posted_after = Vec::new();
    for (run, down) in plan.iter().enumerate() {
        let output = setup.run(*down, &flags);
        let expected = if *down { 3 } else { 0 };
        assert_eq!(
            output.status.code(),
            Some(expected),
            "run {run}: {}",
            stderr(&output)
        );
        posted_after.push(slack.requests().len());
        let_time_pass(&state, 300);
    }
    // The alert after the second failure (run 4), the reminder twenty minutes later (run 8), the recovery at
    // run 9; nothing else.
    assert_eq!(posted_after, [0, 0, 0, 0, 1, 1, 1, 1, 2, 3, 3, 3]);
    let posts = slack.requests();
    for post in &posts {
        assert_eq!(
            (post.method.as_str(), post.path.as_str()),
            ("POST", "/api/chat.postMessage")
        );
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bearer {BOT_TOKEN}").as_str())
        );
        assert_eq!(post.json()["channel"], CHANNEL);
        assert!(!post.body.contains(BOT_TOKEN));
    }
    let [alert, reminder, recovery] = [0, 1, 2].map(|i| texts(&posts[i].json()));
    assert!(alert.contains("❌ heartbeat dev: unhealthy"), "{alert}");
    assert!(alert.contains("Exit 3 · 1 went down"), "{alert}");
    assert!(reminder.contains("Exit 3 · 1 still down"), "{reminder}");
    assert!(recovery.contains("Exit 0 · 1 recovered"), "{recovery}");
    assert!(
        alert.contains("DOWN (2 runs in a row) person: no answer"),
        "{alert}"
    );
    assert!(reminder.contains("STILL DOWN for 25m person"), "{reminder}");
    assert!(
        recovery.contains("✅ heartbeat dev: recovered"),
        "{recovery}"
    );
    assert!(
        recovery.contains("RECOVERED person, after 30m down"),
        "{recovery}"
    );
    // The Logs button and the team's shape: header, context, sections.
    let kinds: Vec<String> = posts[0].json()["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds[..2], ["header", "context"]);
    let state_text = std::fs::read_to_string(&state).unwrap();
    assert!(!state_text.contains(BOT_TOKEN) && !state_text.contains("BEGIN"));
}

#[test]
fn without_state_every_failing_run_posts_and_a_healthy_one_does_not() {
    let slack = Receiver::start(slack_ok());
    let setup = Setup::new(SUITE).with_slack(&slack);
    for (down, posts) in [(true, 1), (true, 2), (false, 2)] {
        let output = setup.run(down, &["--notify", "slack"]);
        assert_eq!(slack.requests().len(), posts, "{}", stderr(&output));
    }
    let text = texts(&slack.requests()[0].json());
    assert!(
        text.contains("1 failing") && !text.contains("went down"),
        "{text}"
    );
}

#[test]
fn slack_saying_ok_false_is_a_warning_and_the_alert_is_tried_again_next_run() {
    // The first answer is ok:false in a 200; the next ok:true.
    let slack = Receiver::start(Arc::new(|index, _| {
        let body = match index {
            0 => r#"{"ok":false,"error":"channel_not_found"}"#,
            _ => r#"{"ok":true}"#,
        };
        Reply::Answer(200, Vec::new(), body.to_string())
    }));
    let setup = Setup::new(SUITE).with_slack(&slack);
    let state = setup.path("state.json");
    let flags = ["--notify", "slack", "--state", state.to_str().unwrap()];
    let first = setup.run(true, &flags);
    assert_eq!(first.status.code(), Some(3));
    assert!(
        stderr(&first).contains(
            "was not sent (Slack answered ok: false, error channel_not_found); the verdict stands"
        ),
        "{}",
        stderr(&first)
    );
    let second = setup.run(true, &flags);
    assert_eq!(second.status.code(), Some(3));
    assert_eq!(slack.requests().len(), 2, "the alert is sent again");
    // Told now: a third failing run is quiet.
    setup.run(true, &flags);
    assert_eq!(slack.requests().len(), 2);
}

#[test]
fn a_429_is_waited_out_when_short_and_given_up_when_long() {
    let short = Receiver::start(Arc::new(|index, _| match index {
        0 => Reply::Answer(429, vec![("retry-after", "1".into())], String::new()),
        _ => Reply::Answer(200, Vec::new(), r#"{"ok":true}"#.into()),
    }));
    let setup = Setup::new(SUITE).with_slack(&short);
    let output = setup.run(true, &["--notify", "slack"]);
    assert_eq!(short.requests().len(), 2);
    assert!(!stderr(&output).contains("not sent"), "{}", stderr(&output));

    let long = Receiver::start(Arc::new(|_, _| {
        Reply::Answer(429, vec![("retry-after", "600".into())], String::new())
    }));
    let setup = Setup::new(SUITE).with_slack(&long);
    let started = Instant::now();
    let output = setup.run(true, &["--notify", "slack"]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(long.requests().len(), 1);
    assert!(
        stderr(&output).contains("rate-limited it (429)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn hostile_server_text_and_many_checks_make_a_message_that_cannot_mention_or_link_and_fits() {
    let slack = Receiver::start(slack_ok());
    let hostile = "<!channel> <https://evil.example|Click here> &amp;";
    let mut suite = SUITE.replace("name = \"person\"", "name = \"<!here> person\"");
    for i in 0..60 {
        suite.push_str(&format!(
            "[[check]]\nname = \"<https://evil.example|check {i}> {}\"\nconsumer = \"full\"\npath = \"/v1/persons/A8451DY\"\nattempts = 1\n",
            "x".repeat(500)
        ));
    }
    let setup = Setup::new(&suite).with_slack(&slack);
    let output = setup.run(true, &["--notify", "slack", "--name", hostile]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = slack.requests()[0].json();
    let all = texts(&message);
    for markup in ["<!", "<http", "|Click here>", "&amp;amp"] {
        if markup == "&amp;amp" {
            assert!(all.contains(markup), "& is escaped: {all}");
        } else {
            assert!(!all.contains(markup), "{markup} in {all}");
        }
    }
    let blocks = message["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 50);
    for block in blocks {
        if block["type"] == "section" {
            assert!(block["text"]["text"].as_str().unwrap().chars().count() <= 3000);
        }
        if block["type"] == "header" {
            assert!(block["text"]["text"].as_str().unwrap().chars().count() <= 150);
        }
    }
    assert!(all.contains("more not shown"), "{all}");
}

#[cfg(unix)]
#[test]
fn a_signal_while_notifying_a_receiver_that_never_answers_ends_the_run_at_once() {
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let slack = Receiver::start(Arc::new(|_, _| Reply::Never));
        let setup = Setup::new(SUITE).with_slack(&slack);
        let state = setup.path("state.json");
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("heartbeat"));
        command
            .env_clear()
            .arg("suite")
            .arg(setup.path("suite.toml"))
            .args(["--notify", "slack", "--state", state.to_str().unwrap()])
            .envs(setup.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SERVICE_BASE_URL", "https://127.0.0.1:9")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        // Wait until the message is being sent.
        let waiting = Instant::now();
        while slack.requests().is_empty() && waiting.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(slack.requests().len(), 1, "the message was never sent");
        let signalled = Instant::now();
        // SAFETY: a plain kill(2) to the child this test spawned.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert!(
            signalled.elapsed() < Duration::from_secs(2),
            "{:?}",
            signalled.elapsed()
        );
        assert_eq!(status.code(), Some(code));
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(
            err.contains("stopped by") && err.contains("while notifying"),
            "{err}"
        );
        // Cut off before it was told: the state was not written, so the next run tells it.
        assert!(!state.exists());
    }
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_is_never_posted_as_unhealthy() {
    // The check hangs on a server that never answers; SIGTERM or SIGINT stops it: no message, no state, no ping.
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        interrupted_run_sends_nothing(signal, code);
    }
}

#[cfg(unix)]
fn interrupted_run_sends_nothing(signal: i32, code: i32) {
    let slack = Receiver::start(slack_ok());
    let ping = Receiver::start(Arc::new(|_, _| Reply::Answer(200, Vec::new(), "OK".into())));
    let setup = Setup::new(SUITE).with_slack(&slack);
    let state = setup.path("state.json");
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://127.0.0.1:{}", hang.local_addr().unwrap().port());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("heartbeat"))
        .env_clear()
        .arg("suite")
        .arg(setup.path("suite.toml"))
        .args([
            "--notify",
            "slack",
            "--state",
            state.to_str().unwrap(),
            "--ping",
        ])
        .arg(ping.url("/ping/SENTINEL-uuid"))
        .envs(setup.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("SERVICE_BASE_URL", &url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The connection is accepted and never answered: the check is in flight. Bounded: a run that ended
    // without connecting fails the test instead of hanging it.
    hang.set_nonblocking(true).unwrap();
    let waiting = Instant::now();
    let _held = loop {
        match hang.accept() {
            Ok((stream, _)) => break stream,
            Err(_) if waiting.elapsed() < Duration::from_secs(30) => {
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "the run ended before it connected"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => panic!("the run never connected: {error}"),
        }
    };
    // SAFETY: a plain kill(2) to the child this test spawned.
    unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(child.wait().unwrap().code(), Some(code));
    assert!(slack.requests().is_empty());
    assert!(ping.requests().is_empty());
    assert!(!state.exists());
}

#[test]
fn the_ping_hears_once_per_run_and_fail_on_failure() {
    let ping = Receiver::start(Arc::new(|_, _| Reply::Answer(200, Vec::new(), "OK".into())));
    let setup = Setup::new(SUITE);
    let url = ping.url("/ping/SENTINEL-uuid");
    for down in [false, true] {
        let output = setup.run(down, &["--ping", &url]);
        assert!(!String::from_utf8_lossy(&output.stderr).contains("SENTINEL-uuid"));
    }
    let paths: Vec<String> = ping.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/ping/SENTINEL-uuid", "/ping/SENTINEL-uuid/fail"]);
    assert!(
        ping.requests()[1]
            .body
            .contains("exit 3, 1 of 1 checks failed")
    );
    // The variable does what the flag does, and --ping-start adds /start before the checks.
    let mut env_setup = setup;
    env_setup
        .env
        .push(("HEARTBEAT_PING_URL".into(), url.clone()));
    env_setup.run(false, &["--ping-start"]);
    let paths: Vec<String> = ping.requests()[2..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/ping/SENTINEL-uuid/start", "/ping/SENTINEL-uuid"]);
}

#[test]
fn receivers_that_refuse_are_warnings_that_name_their_status() {
    let refusing = Receiver::start(Arc::new(|_, request| {
        let status = if request.path.starts_with("/metrics") {
            400
        } else {
            404
        };
        Reply::Answer(status, Vec::new(), String::new())
    }));
    let mut setup = Setup::new(SUITE);
    setup
        .env
        .push(("SLACK_WEBHOOK_URL".into(), refusing.url("/hook")));
    let output = setup.run(
        true,
        &[
            "--notify",
            "slack",
            "--ping",
            &refusing.url("/ping"),
            "--metrics-push",
            &refusing.base,
        ],
    );
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.contains("the Slack notification was not sent (the receiver answered 404)"),
        "{err}"
    );
    assert!(
        err.contains("the ping was not sent (the ping receiver answered 404)"),
        "{err}"
    );
    assert!(
        err.contains("the metrics were not pushed (the Pushgateway answered 400)"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_receiver_variable_that_is_not_utf8_is_named_and_nothing_is_sent() {
    use std::os::unix::ffi::OsStrExt as _;
    let setup = Setup::new(SUITE);
    let output = heartbeat()
        .arg("suite")
        .arg(setup.path("suite.toml"))
        .envs(setup.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(
            "HEARTBEAT_PING_URL",
            std::ffi::OsStr::from_bytes(b"https://hc.example/\xff"),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("HEARTBEAT_PING_URL: is set but is not valid UTF-8"),
        "{}",
        stderr(&output)
    );
    assert_eq!(setup.sandbox.connections(), 0);
}

#[test]
fn a_dead_ping_server_changes_nothing_but_a_warning() {
    let setup = Setup::new(SUITE);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/SENTINEL-uuid",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    for (down, code) in [(false, 0), (true, 3)] {
        let output = setup.run(down, &["--ping", &url]);
        assert_eq!(output.status.code(), Some(code));
        let err = stderr(&output);
        assert!(
            err.contains("warning: the ping was not sent (the receiver could not be reached)"),
            "{err}"
        );
        assert!(!err.contains("SENTINEL-uuid"));
    }
}

#[test]
fn metrics_are_written_for_the_textfile_collector_and_pushed() {
    let gateway = Receiver::start(Arc::new(|_, _| {
        Reply::Answer(200, Vec::new(), String::new())
    }));
    let setup = Setup::new(SUITE);
    let metrics = setup.path("heartbeat.prom");
    let output = setup.run(
        false,
        &[
            "--metrics",
            metrics.to_str().unwrap(),
            "--metrics-push",
            &gateway.base,
            "--name",
            "dev",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(r#"heartbeat_check_up{check="person",consumer="full"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"heartbeat_check_status_code{check="person",consumer="full"} 200"#));
    assert!(
        text.contains(r#"heartbeat_client_certificate_expiry_timestamp_seconds{consumer="full"} "#)
    );
    let pushes = gateway.requests();
    assert_eq!(pushes.len(), 1);
    // "dev" in base64url: the grouping key survives any name.
    assert_eq!(pushes[0].method, "PUT");
    assert_eq!(
        pushes[0].path,
        "/metrics/job/heartbeat/instance@base64/ZGV2"
    );
    assert!(pushes[0].body.contains("heartbeat_check_up"));
    // A failing run says so.
    let output = setup.run(true, &["--metrics", metrics.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(r#"heartbeat_check_up{check="person",consumer="full"} 0"#),
        "{text}"
    );
    assert!(text.contains("heartbeat_run_exit_code 3"));
}

#[test]
fn wrong_settings_are_refused_before_anything_is_sent() {
    let setup = Setup::new(SUITE);
    let missing_dir = setup.path("no-such-dir/state.json");
    let cases: [(&[&str], &str); 6] = [
        (&["--alert-after", "2"], "--alert-after: needs --state FILE"),
        (
            &["--remind-every", "1h"],
            "--remind-every: needs --state FILE",
        ),
        (
            &["--ping", "http://hc.example/SENTINEL-uuid"],
            "--ping: must be an https:// URL",
        ),
        (
            &["--metrics-push", "not a url SENTINEL"],
            "--metrics-push: is not a URL",
        ),
        (&["--ping-start"], "--ping-start: needs --ping URL"),
        (
            &["--state", missing_dir.to_str().unwrap()],
            "--state: the directory",
        ),
    ];
    for (flags, problem) in cases {
        let output = setup.run(false, flags);
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        let err = stderr(&output);
        assert!(err.contains(problem), "{flags:?}: {err}");
        assert!(!err.contains("SENTINEL"), "{err}");
    }
    assert_eq!(setup.sandbox.connections(), 0, "nothing was sent");
    // A bad --ping is one problem, not also "--ping-start needs --ping".
    let output = setup.run(false, &["--ping-start", "--ping", "http://hc.example/x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        !stderr(&output).contains("--ping-start"),
        "{}",
        stderr(&output)
    );
    // A bot token for another host is refused too: the token goes only to Slack.
    let mut elsewhere = Setup::new(SUITE);
    elsewhere
        .env
        .push(("SLACK_BOT_TOKEN".into(), BOT_TOKEN.into()));
    elsewhere.env.push(("SLACK_CHANNEL".into(), CHANNEL.into()));
    elsewhere
        .env
        .push(("SLACK_API_URL".into(), "https://evil.example/api".into()));
    let output = elsewhere.run(false, &["--notify", "slack"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("SLACK_API_URL: must be Slack's API"));
}

#[test]
fn a_corrupt_state_file_is_a_warning_and_a_fresh_start() {
    let slack = Receiver::start(slack_ok());
    let setup = Setup::new(SUITE).with_slack(&slack);
    let state = setup.path("state.json");
    std::fs::write(&state, "{ not json").unwrap();
    let output = setup.run(
        true,
        &["--notify", "slack", "--state", state.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("is not heartbeat's state"),
        "{}",
        stderr(&output)
    );
    assert_eq!(slack.requests().len(), 1);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(record["checks"]["person"]["failures"], 1);
}

#[test]
fn slack_s_answer_is_read_up_to_a_bound() {
    // "ok": true after 40 KiB of other fields (several reads) is read; after 100 KiB it is past the 64 KiB
    // heartbeat reads.
    for (padding, delivered) in [(40 * 1024, true), (100 * 1024, false)] {
        let slack = Receiver::start(Arc::new(move |_, _| {
            let body = format!(r#"{{"warning":"{}","ok":true}}"#, "w".repeat(padding));
            Reply::Answer(200, Vec::new(), body)
        }));
        let setup = Setup::new(SUITE).with_slack(&slack);
        let output = setup.run(true, &["--notify", "slack"]);
        assert_eq!(output.status.code(), Some(3));
        let warned = stderr(&output).contains("Slack did not answer ok: true");
        assert_eq!(warned, !delivered, "{padding}: {}", stderr(&output));
    }
}

#[test]
fn files_named_without_a_directory_are_written_in_the_working_directory() {
    let setup = Setup::new(SUITE);
    let output = heartbeat()
        .arg("suite")
        .arg(setup.path("suite.toml"))
        .args(["--state", "state.json", "--metrics", "heartbeat.prom"])
        .envs(setup.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(setup.dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(setup.path("state.json").is_file() && setup.path("heartbeat.prom").is_file());
}
