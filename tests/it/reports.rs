//! Golden files for the human output of `heartbeat check`: colour off, and the parts that change from run
//! to run (ports, latencies, request ids, dates) masked. `UPDATE_GOLDEN=1 cargo test --test it reports` rewrites them.

use std::path::Path;

use crate::common::*;

fn mask(text: &str, sandbox_url: &str) -> String {
    let text = text.replace(sandbox_url, "https://SANDBOX");
    let masks = [
        (r"\d+(\.\d)? ms", "N ms"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "REQUEST-ID",
        ),
    ];
    masks.iter().fold(text, |text, (pattern, with)| {
        regex_lite::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, *with)
            .into_owned()
    })
}

fn golden(name: &str, path: &str, flags: &[&str]) {
    let sandbox = sandbox();
    let output = heartbeat()
        .args(["check", "--color", "never"])
        .args(flags)
        .envs(vars(&sandbox, path))
        .output()
        .unwrap();
    let actual = mask(&String::from_utf8(output.stderr).unwrap(), &sandbox.url(""));
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&file, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", file.display()));
    assert_eq!(
        actual, expected,
        "the output of {name} changed; if on purpose, run UPDATE_GOLDEN=1 cargo test --test it reports"
    );
}

#[test]
fn healthy_after_a_retry() {
    golden(
        "healthy-after-retry.txt",
        "/fault/flap?failures=1&id=golden",
        &["--retry-delay", "10ms"],
    );
}

#[test]
fn unhealthy_500_with_user_message() {
    golden(
        "unhealthy-500.txt",
        "/fault/error",
        &["--attempts", "2", "--retry-delay", "10ms"],
    );
}

#[test]
fn the_gateway_refuses_when_the_key_goes_in_another_header() {
    golden(
        "gateway-forbidden-403.txt",
        "/v1/persons/A8451DY",
        &["--api-key-header", "x-wrong-header"],
    );
}
