//! Secrets are sacred: an API key, certificate or key never reaches any output in any encoding — echoed by a
//! hostile server, put in a URL, pasted with whitespace, carried by a panic — and the process allows no core
//! dump that could hold one.

use base64::Engine as _;

use crate::common::hostile::{self, Hostile, behaviour, respond};
use crate::common::*;

/// A key with the characters that encodings change: `+`, `/`, `=`, a quote and a backslash.
const HOSTILE_KEY: &str = "SENTINEL+hostile/key=\"q\\9";

/// Every form in which an echo of a secret could reach output.
fn encodings(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap();
    let percent = |lower: bool| {
        secret
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ if lower => format!("%{b:02x}"),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    vec![
        secret.to_string(),
        json[1..json.len() - 1].to_string(),
        percent(false),
        percent(true),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        secret
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect(),
    ]
}

fn assert_never_printed(secret: &str, run: &Checked) {
    let junit = run.junit.clone().unwrap_or_default();
    for form in encodings(secret) {
        for (name, text) in [
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
            ("junit", &junit),
        ] {
            assert!(!text.contains(&form), "{form:?} reached {name}:\n{text}");
        }
    }
}

#[test]
fn an_echo_of_the_key_in_any_encoding_is_never_printed() {
    let server = Hostile::start(behaviour(|request, out| {
        let key = request.header("x-api-key").unwrap_or_default().to_string();
        let forms = encodings(&key);
        let body = serde_json::json!({
            "userMessage": format!("bad key {}", forms[0]),
            "developerMessage": forms[1..].join(" "),
        })
        .to_string();
        let body = body.replace(&forms[1], &forms[6]); // and once more fully \u-escaped
        let location = format!("https://127.0.0.1/?key={}", forms[2]);
        respond(
            out,
            "500 Internal Server Error",
            &[("x-echo", forms[3].clone()), ("x-location", location)],
            &body,
        )
    }));
    let run = check(
        &hostile::vars(&server, "/", HOSTILE_KEY),
        &["--attempts", "1", "--verbose"],
    );
    no_crash(&run);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("[redacted]"), "{}", run.stderr);
    assert_never_printed(HOSTILE_KEY, &run);
}

#[test]
fn a_key_echoed_in_a_redirect_location_is_never_printed() {
    let server = Hostile::start(behaviour(|request, out| {
        let key = request.header("x-api-key").unwrap_or_default();
        let location = format!("https://evil.test/collect?k={}", encodings(key)[2]);
        respond(out, "302 Found", &[("location", location)], "")
    }));
    let run = check(
        &hostile::vars(&server, "/", HOSTILE_KEY),
        &["--attempts", "1"],
    );
    assert_eq!(
        (run.code, run.json()["class"].as_str()),
        (1, Some("redirect"))
    );
    assert_eq!(run.json()["status"], 302);
    assert_never_printed(HOSTILE_KEY, &run);
}

#[test]
fn a_panic_is_one_line_and_exit_70_without_the_payload() {
    let output = heartbeat().arg("internal-panic").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("heartbeat: internal error at ") && !stderr.contains("SENTINEL"),
        "{stderr}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn the_process_allows_no_core_dump() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("heartbeat"))
        .arg("sandbox")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
}

#[test]
fn a_key_with_paste_whitespace_is_sent_trimmed_and_redacted_as_sent() {
    let sandbox = sandbox();
    let run = check(
        &with(
            vars(&sandbox, PERSON),
            "API_KEY",
            format!("{SENTINEL_KEY} \t"),
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = check(
        &with(
            vars(&sandbox, "/fault/echo-key"),
            "API_KEY",
            format!("\t{SENTINEL_KEY}  "),
        ),
        &["--attempts", "1"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("rejected request with key [redacted]"),
        "{}",
        run.stderr
    );
}

#[test]
fn certificate_names_cannot_reach_the_terminal_raw() {
    let pki =
        heartbeat::sandbox::pki::Pki::generate(&heartbeat::sandbox::pki::SERVER_NAMES).unwrap();
    let evil = pki
        .issue_client("evil\u{1b}[31m\u{202e}name", -1, 30)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("c.pem");
    std::fs::write(&cert, &evil.cert_pem).unwrap();
    let output = heartbeat()
        .args(["cert", "inspect", "--cert"])
        .arg(&cert)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("evil"), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{202e}'),
        "{stdout:?}"
    );
}

#[test]
fn printed_urls_hide_userinfo_and_a_key_percent_encoded_in_them() {
    let sandbox = sandbox();
    let with_key = format!("{}?key={}", sandbox.url(PERSON), encodings(SENTINEL_KEY)[2]);
    let run = check(
        &with(vars(&sandbox, PERSON), "SERVICE_URL", with_key),
        &["--attempts", "1"],
    );
    no_crash(&run);
    assert_never_printed(SENTINEL_KEY, &run);
    assert!(
        run.stderr.contains("heartbeat: GET https://127.0.0.1:"),
        "{}",
        run.stderr
    );
    // A user name and password in the URL would travel as Basic auth: refused before anything is sent, and
    // the password is never printed.
    let with_userinfo = sandbox
        .url(PERSON)
        .replace("https://", "https://someone:pa55word-SENTINEL@");
    let run = check(
        &with(vars(&sandbox, PERSON), "SERVICE_URL", with_userinfo),
        &["--attempts", "1"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("user name or password"),
        "{}",
        run.stderr
    );
    assert!(
        !format!("{}{}", run.stdout, run.stderr).contains("pa55word"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_echo_of_the_client_certificate_or_key_is_redacted() {
    let server = Hostile::start(behaviour(|_, _| {}));
    let vars = hostile::vars(&server, "/", SENTINEL_KEY);
    let (cert_b64, key_pem) = (vars[2].1.clone(), server.pki.client.key_pem.to_string());
    drop(server);
    let echoed = format!("cert {cert_b64} key {key_pem}");
    let server = Hostile::start(behaviour(move |_, out| {
        let body = serde_json::json!({"userMessage": echoed.clone()}).to_string();
        respond(out, "500 Internal Server Error", &[], &body)
    }));
    // The same client pair, against the echoing server.
    let mut vars = vars;
    vars[0].1 = server.url("/");
    vars[4].1 = b64(&server.pki.ca_cert_pem);
    let run = check(&vars, &["--attempts", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("userMessage: cert [redacted] key"),
        "{}",
        run.stderr
    );
}
