//! The JSON results, as types: one check's shape, a suite's shape, and the answer to a run that never
//! started. The GitHub Action and users' `jq` read these; golden files (tests/golden/*.json) pin each shape.
//! They hold no secret, only what the text report shows.

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, ExitCode};
use crate::probe::failure::{Failure, FailureClass};
use crate::probe::{Attempt, CheckResult};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One check's result (`heartbeat check --format json`).
#[derive(Serialize)]
pub struct CheckJson<'a> {
    verdict: &'static str,
    class: Option<&'static str>,
    exit_code: u8,
    url: &'a str,
    status: Option<u16>,
    message: Option<&'a str>,
    user_message: Option<&'a str>,
    body_excerpt: Option<&'a str>,
    request_id: Option<&'a str>,
    gateway_request_id: Option<&'a str>,
    elapsed_ms: u64,
    stopped: Option<&'a str>,
    cert_days_left: Option<i64>,
    attempts: Vec<AttemptJson<'a>>,
    version: &'static str,
}

/// One attempt of a check.
#[derive(Serialize)]
struct AttemptJson<'a> {
    number: u32,
    status: Option<u16>,
    latency_ms: u64,
    request_id: &'a str,
    gateway_request_id: Option<&'a str>,
    class: Option<&'static str>,
    message: Option<&'a str>,
}

/// A suite's result (`heartbeat suite --format json`).
#[derive(Serialize)]
pub struct SuiteJson<'a> {
    verdict: &'static str,
    exit_code: u8,
    passed: usize,
    failed: usize,
    skipped: usize,
    elapsed_ms: u64,
    checks: Vec<SuiteCheckJson<'a>>,
    version: &'static str,
}

/// One check of a suite.
#[derive(Serialize)]
struct SuiteCheckJson<'a> {
    name: &'a str,
    consumer: Option<&'a str>,
    method: &'a str,
    url: &'a str,
    verdict: &'static str,
    class: Option<&'static str>,
    status: Option<u16>,
    latency_ms: Option<u64>,
    attempts: usize,
    message: Option<&'a str>,
    user_message: Option<&'a str>,
    request_id: Option<&'a str>,
    gateway_request_id: Option<&'a str>,
}

/// The answer to a run that never started: nothing was sent.
#[derive(Serialize)]
pub struct InvalidJson {
    verdict: &'static str,
    exit_code: u8,
    problems: Vec<ProblemJson>,
    version: &'static str,
}

/// One problem: the input's name (or position) and what is wrong — never its value.
#[derive(Serialize)]
struct ProblemJson {
    input: Option<String>,
    message: String,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn class(failure: Option<&Failure>) -> Option<&'static str> {
    failure.map(|f| f.class.as_str())
}

/// Builds one check's JSON result.
pub fn check(result: &CheckResult) -> CheckJson<'_> {
    let last = result.attempts.last();
    let failure = result.failure();
    CheckJson {
        verdict: match failure.map(|f| f.class) {
            None => "healthy",
            Some(FailureClass::Interrupted(_)) => "interrupted",
            Some(_) => "unhealthy",
        },
        class: class(failure),
        exit_code: result.exit_code().code(),
        url: &result.url,
        status: last.and_then(|a| a.status),
        message: failure.map(|f| f.message.as_str()),
        user_message: failure.and_then(|f| f.user_message.as_deref()),
        body_excerpt: failure.and_then(|f| f.excerpt.as_deref()),
        request_id: last.map(|a| a.request_id.as_str()),
        gateway_request_id: last.and_then(|a| a.gateway_request_id.as_deref()),
        elapsed_ms: millis(result.elapsed),
        stopped: result.stopped.as_deref(),
        cert_days_left: result.cert_days_left,
        attempts: result.attempts.iter().map(attempt).collect(),
        version: VERSION,
    }
}

fn attempt(a: &Attempt) -> AttemptJson<'_> {
    AttemptJson {
        number: a.number,
        status: a.status,
        latency_ms: millis(a.latency),
        request_id: &a.request_id,
        gateway_request_id: a.gateway_request_id.as_deref(),
        class: class(a.failure.as_ref()),
        message: a.failure.as_ref().map(|f| f.message.as_str()),
    }
}

/// Builds a suite's JSON result.
pub fn suite(results: &[CheckResult], code: ExitCode, elapsed: Duration) -> SuiteJson<'_> {
    let failed = results.iter().filter(|r| r.failure().is_some()).count();
    let skipped = results.iter().filter(|r| r.skipped.is_some()).count();
    SuiteJson {
        verdict: match code {
            ExitCode::Healthy => "passed",
            ExitCode::DoorOpen => "door_open",
            ExitCode::Interrupted | ExitCode::Terminated => "interrupted",
            _ => "failed",
        },
        exit_code: code.code(),
        passed: results.len() - failed - skipped,
        failed,
        skipped,
        elapsed_ms: millis(elapsed),
        checks: results.iter().map(suite_check).collect(),
        version: VERSION,
    }
}

fn suite_check(r: &CheckResult) -> SuiteCheckJson<'_> {
    // The last attempt made: an interrupted check still shows its last answer and request ids.
    let last = r.made().next_back();
    let failure = r.failure();
    SuiteCheckJson {
        name: &r.name,
        consumer: r.consumer.as_deref(),
        method: &r.method,
        url: &r.url,
        verdict: match (&r.skipped, failure) {
            (Some(_), _) => "skipped",
            (None, Some(_)) => "failed",
            (None, None) => "passed",
        },
        class: class(failure),
        status: last.and_then(|a| a.status),
        latency_ms: last.map(|a| millis(a.latency)),
        attempts: r.attempts_made(),
        message: failure.map(|f| f.message.as_str()).or(r.skipped.as_deref()),
        user_message: failure.and_then(|f| f.user_message.as_deref()),
        request_id: last.map(|a| a.request_id.as_str()),
        gateway_request_id: last.and_then(|a| a.gateway_request_id.as_deref()),
    }
}

/// Builds the JSON answer to a run that never started: `verdict: "invalid"`, the exit code and the problems
/// (input names and positions, never values).
pub fn invalid(error: &Error) -> InvalidJson {
    let problems = match error {
        Error::Config(problems) => problems
            .iter()
            .map(|p| ProblemJson {
                input: Some(p.input.clone()),
                message: p.message.clone(),
            })
            .collect(),
        other => vec![ProblemJson {
            input: None,
            message: other.to_string(),
        }],
    };
    InvalidJson {
        verdict: "invalid",
        exit_code: error.exit_code().code(),
        problems,
        version: VERSION,
    }
}

/// Renders any of the shapes as one line of JSON (serialising these types cannot fail: no maps with
/// non-string keys, no custom serialisers).
pub fn line(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
