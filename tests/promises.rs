//! One test per promise the README makes that a deliberate bug once broke unnoticed (cargo-mutants now
//! generates such bugs, .cargo/mutants.toml): each fails when its promise is broken.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::hostile::{self, Hostile, behaviour, respond};
use common::*;

fn class(run: &Checked) -> String {
    run.json()["class"].as_str().unwrap_or("none").to_string()
}

#[test]
fn a_server_that_does_not_speak_tls_is_a_tls_failure_exit_4() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(3) {
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let sandbox = sandbox();
    let url = format!("https://127.0.0.1:{port}/v1/persons/A8451DY");
    let run = check(
        &with(vars(&sandbox, PERSON), "SERVICE_URL", url),
        &["--attempts", "1"],
    );
    assert_eq!(
        (run.code, class(&run).as_str()),
        (4, "tls_handshake"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_certificate_not_valid_yet_is_refused_before_sending() {
    let sandbox = sandbox();
    let future = sandbox.pki().issue_client("soon", 2, 30).unwrap();
    let run = check(&sandbox.environment(PERSON, &future), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the client certificate is not valid yet (valid from "),
        "{}",
        run.stderr
    );
    assert_eq!(sandbox.connections(), 0);
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
fn the_key_goes_in_the_renamed_header_and_only_there() {
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, PERSON),
        &["--attempts", "1", "--api-key-header", "x-consumer-key"],
    );
    assert_eq!(run.code, 1, "the sandbox reads x-api-key: {}", run.stderr);
    let names = &sandbox.records()[0].header_names;
    assert!(names.iter().any(|n| n == "x-consumer-key"), "{names:?}");
    assert!(!names.iter().any(|n| n == "x-api-key"), "{names:?}");
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

#[cfg(unix)]
#[test]
fn a_refused_connection_is_no_answer_exit_3() {
    let (_socket, port) = bound_not_listening();
    let sandbox = sandbox();
    let url = format!("https://127.0.0.1:{port}/v1/persons/A8451DY");
    let run = check(
        &with(vars(&sandbox, PERSON), "SERVICE_URL", url),
        &["--attempts", "2", "--retry-delay", "10ms"],
    );
    assert_eq!((run.code, class(&run).as_str()), (3, "connection_refused"));
    assert_eq!(run.json()["attempts"].as_array().unwrap().len(), 2);
}

/// A TCP socket bound to a port of its own but not listening: connections to it are refused, and the port
/// is never released for another test to take.
#[cfg(unix)]
fn bound_not_listening() -> (std::os::fd::OwnedFd, u16) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls with valid arguments; the descriptor is owned by the returned OwnedFd.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let owned = std::os::fd::OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len),
            0
        );
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut bound_len = len;
        assert_eq!(
            libc::getsockname(
                fd,
                &mut bound as *mut _ as *mut libc::sockaddr,
                &mut bound_len
            ),
            0
        );
        (owned, u16::from_be(bound.sin_port))
    }
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
