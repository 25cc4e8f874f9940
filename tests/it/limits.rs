//! Never crash, never hang, never lie: hostile servers (absurd Retry-After, a slow drip, endless headers, a
//! redirect loop, bodies past the cap) and absurd inputs (durations, URLs, encodings, paths) each end in a clear
//! verdict or a named problem with its documented exit code — never a panic (exit 101 or 134) or a wait without end.

use std::time::{Duration, Instant};

use crate::common::hostile::{self, Hostile, behaviour, respond};
use crate::common::*;

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
fn a_declared_content_length_over_max_body_fails_at_once() {
    // The body never comes: only the declared length can tell, before any byte is read.
    let server = Hostile::start(behaviour(|_, out| {
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\n0123456789");
        let _ = out.flush();
        std::thread::sleep(Duration::from_secs(5));
    }));
    let run = check(
        &hostile::vars(&server, "/", SENTINEL_KEY),
        &["--attempts", "1", "--timeout", "3s"],
    );
    assert_eq!(
        (run.code, class(&run).as_str()),
        (1, "body_too_large"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_server_asking_to_wait_over_5_minutes_stops_the_retries() {
    let server = Hostile::start(behaviour(|_, out| {
        respond(
            out,
            "503 Service Unavailable",
            &[("retry-after", "301".into())],
            "{}",
        )
    }));
    let run = check(&hostile::vars(&server, "/", SENTINEL_KEY), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("not retried: the server asked to wait 5m 1s"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests(), 1);
}

#[test]
fn the_streaming_cap_stops_a_body_without_content_length() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/stream?bytes=200000"),
        &["--attempts", "1", "--max-body", "64KiB"],
    );
    assert_eq!(
        (run.code, class(&run).as_str()),
        (1, "body_too_large"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["status"], 200);
    // Without the cap it would be read whole and judged healthy.
    let whole = check(
        &vars(&sandbox, "/fault/stream?bytes=200000"),
        &["--attempts", "1"],
    );
    assert_eq!(whole.code, 0, "{}", whole.stderr);
}
