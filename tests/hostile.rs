//! Never crash, never leak: heartbeat against a hostile server (absurd Retry-After, echoes of the key in every
//! encoding, a slow drip, endless headers, a redirect loop) and against absurd inputs. No run may end in a
//! panic (exit 101 or 134) or print a secret in any encoding.

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::hostile::{self, Hostile, behaviour, respond};
use common::*;

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

fn no_crash(run: &Checked) {
    assert!(
        ![101, 134, 70].contains(&run.code),
        "crashed with {}: {}",
        run.code,
        run.stderr
    );
}

#[test]
fn absurd_retry_after_values_never_overflow_the_deadline() {
    for value in [
        "9223372036854775807",
        "99999999999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let retry_after = value.to_string();
        let server = Hostile::start(behaviour(move |_, out| {
            respond(
                out,
                "503 Service Unavailable",
                &[("retry-after", retry_after.clone())],
                "{}",
            )
        }));
        for flags in [&["--deadline", "1m"][..], &[][..]] {
            let run = check(&hostile::vars(&server, "/", SENTINEL_KEY), flags);
            no_crash(&run);
            assert_eq!(run.code, 1, "{value} {flags:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("not retried"),
                "{value}: {}",
                run.stderr
            );
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
fn a_slow_drip_ends_at_the_timeout() {
    let server = Hostile::start(behaviour(|_, out| {
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n");
        for _ in 0..100 {
            if out.write_all(b"x").and_then(|()| out.flush()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }));
    let started = Instant::now();
    let run = check(
        &hostile::vars(&server, "/", SENTINEL_KEY),
        &["--attempts", "1", "--timeout", "1s"],
    );
    assert_eq!(
        (run.code, run.json()["class"].as_str()),
        (3, Some("timeout"))
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the drip held the check"
    );
}

#[test]
fn endless_headers_end_in_a_clear_failure() {
    let server = Hostile::start(behaviour(|_, out| {
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\n");
        for n in 0..200_000 {
            if out
                .write_all(format!("x-filler-{n}: {}\r\n", "y".repeat(50)).as_bytes())
                .is_err()
            {
                return;
            }
        }
    }));
    let run = check(
        &hostile::vars(&server, "/", SENTINEL_KEY),
        &["--attempts", "1", "--timeout", "10s"],
    );
    no_crash(&run);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.json()["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

#[test]
fn a_redirect_loop_stops_after_ten() {
    let server = Hostile::start(behaviour(|request, out| {
        respond(
            out,
            "302 Found",
            &[("location", request.target.clone())],
            "",
        )
    }));
    let run = check(
        &hostile::vars(&server, "/loop", SENTINEL_KEY),
        &["--attempts", "1", "--follow-redirects"],
    );
    assert_eq!(
        (run.code, run.json()["class"].as_str()),
        (1, Some("redirect"))
    );
    assert!(
        run.stderr.contains("more than 10 redirects"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests(), 11);
}

#[test]
fn a_body_over_max_body_reports_its_status() {
    let server = Hostile::start(behaviour(|_, out| {
        // No content-length: the streaming cap must stop it.
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
        for _ in 0..64 {
            if out.write_all(&[b'x'; 1024]).is_err() {
                return;
            }
        }
    }));
    let run = check(
        &hostile::vars(&server, "/", SENTINEL_KEY),
        &["--attempts", "1", "--max-body", "4KiB"],
    );
    assert_eq!(
        (run.code, run.json()["class"].as_str()),
        (1, Some("body_too_large"))
    );
    assert_eq!(run.json()["status"], 200);
}

/// Runs `heartbeat check` against a fresh sandbox with one variable replaced and flags, asserting that nothing
/// was sent and it exited 2 with this message.
fn refused_before_sending(name: &'static str, value: &str, flags: &[&str], message: &str) {
    refused_with(&[(name, value)], flags, message);
}

fn refused_with(replaced: &[(&'static str, &str)], flags: &[&str], message: &str) {
    let sandbox = sandbox();
    let mut env = vars(&sandbox, PERSON);
    for (name, value) in replaced {
        env = with(env, name, *value);
    }
    let run = check(&env, flags);
    let name = replaced.first().map_or("", |(n, _)| *n);
    no_crash(&run);
    assert_eq!(run.code, 2, "{name} {flags:?}: {}", run.stderr);
    assert!(
        run.stderr.contains(message),
        "{message:?} missing:\n{}",
        run.stderr
    );
    assert_eq!(sandbox.connections(), 0, "something was sent");
}

#[test]
fn absurd_durations_are_refused_with_the_limit_named() {
    for (flag, value) in [
        ("--deadline", "293000000000y"),
        ("--deadline", "1e19"),
        ("--timeout", "1e30"),
        ("--retry-delay", "1e19"),
    ] {
        let output = heartbeat().args(["check", flag, value]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains("at most 1 day"), "{flag} {value}: {stderr}");
    }
    for value in ["NaN", "inf"] {
        let output = heartbeat()
            .args(["check", "--timeout", value])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&output.stderr).contains("is not a number of seconds"));
    }
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
fn certificates_from_before_1970_are_dated_not_a_crash() {
    let pki =
        heartbeat::sandbox::pki::Pki::generate(&heartbeat::sandbox::pki::SERVER_NAMES).unwrap();
    let old = pki.issue_client("old", -365 * 75, -365 * 70).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("old.pem");
    std::fs::write(&cert, &old.cert_pem).unwrap();
    let output = heartbeat()
        .args(["cert", "inspect", "--cert"])
        .arg(&cert)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("195"), "{stdout}");
    let (cert, key) = (b64(&old.cert_pem), b64(&old.key_pem));
    refused_with(
        &[("MTLS_CERT", &cert), ("MTLS_KEY", &key)],
        &[],
        "the client certificate expired on 195",
    );
}

#[test]
fn a_junit_path_that_cannot_be_written_is_known_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox();
    let output = heartbeat()
        .args(["check", "--junit"])
        .arg(dir.path())
        .envs(vars(&sandbox, PERSON))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(sandbox.connections(), 0);
}

#[cfg(target_os = "linux")]
#[test]
fn a_junit_report_that_fails_after_the_request_keeps_the_verdict() {
    let sandbox = sandbox();
    for (path, code) in [(PERSON, 0), ("/fault/error", 1)] {
        let output = heartbeat()
            .args(["check", "--attempts", "1", "--junit", "/dev/full"])
            .envs(vars(&sandbox, path))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(
            stderr.contains("the JUnit report /dev/full was not written"),
            "{stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn values_that_are_not_utf8_are_named_not_called_unset() {
    use std::os::unix::ffi::OsStrExt;
    let sandbox = sandbox();
    for name in ["SERVICE_CA_CERT", "MTLS_CERT", "SERVICE_URL"] {
        let output = heartbeat()
            .arg("check")
            .envs(vars(&sandbox, PERSON))
            .env(name, std::ffi::OsStr::from_bytes(b"\xff\xfe not utf-8"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{name}: is set but is not valid UTF-8")),
            "{stderr}"
        );
    }
    assert_eq!(sandbox.connections(), 0);
}

#[test]
fn urls_and_host_names_out_of_bounds_are_refused() {
    let long = format!("https://127.0.0.1/{}", "a".repeat(70_000));
    refused_before_sending("SERVICE_URL", &long, &[], "a URL may be at most 8192");
    let label = format!("https://{}.example/", "a".repeat(100));
    refused_before_sending("SERVICE_URL", &label, &[], "labels are 1 to 63");
    let host = format!("https://{}example/", "a.".repeat(150));
    refused_before_sending("SERVICE_URL", &host, &[], "at most 253");
}

#[test]
fn routing_and_framing_headers_cannot_carry_the_key() {
    for header in ["host", "Content-Length", "transfer-encoding", "connection"] {
        refused_before_sending(
            "API_KEY",
            SENTINEL_KEY,
            &["--api-key-header", header],
            "routing or framing meaning",
        );
    }
}

#[test]
fn empty_and_byte_order_marked_pem_files_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    refused_with(
        &[],
        &["--cert", empty.to_str().unwrap()],
        "is empty; it should hold a PEM file",
    );
    let sandbox = sandbox();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(sandbox.pki().client.cert_pem.as_bytes());
    let path = dir.path().join("bom.pem");
    std::fs::write(&path, bom).unwrap();
    let run = check(
        &with(vars(&sandbox, PERSON), "MTLS_CERT", path.to_str().unwrap()),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
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
