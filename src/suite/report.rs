//! A suite's output: a line per check as it finishes, a summary, each failure explained as `check` explains
//! it (and a door left open named first), the JSON result, and the `--list` of what would run.

use std::io::{self, Write};

use serde_json::json;

use super::plan::Suite;
use crate::error::ExitCode;
use crate::failure::FailureClass;
use crate::probe::CheckResult;
use crate::report::{GREEN, RED, TextReport};

/// Writes the line for one finished check: ✓ or ✗, name, consumer, status, latency, and why it failed.
pub fn line(
    text: &TextReport,
    quiet: bool,
    out: &mut dyn Write,
    result: &CheckResult,
) -> io::Result<()> {
    let failure = result.failure();
    if quiet && failure.is_none() {
        return Ok(());
    }
    let last = result.attempts.last();
    let status = match last.and_then(|a| a.status) {
        Some(status) => status.to_string(),
        // A locked door that held: the handshake was refused.
        None if failure.is_none() => "refused".to_string(),
        None => "no answer".to_string(),
    };
    // `latency` names its unit ("9 ms", "0.4 ms"); the line adds none.
    let latency = last.map_or("-".to_string(), |a| crate::duration::latency(a.latency));
    let (mark, why) = match failure {
        None => (text.paint(GREEN, "✓"), String::new()),
        Some(f) => (text.paint(RED, "✗"), format!(": {}", f.message)),
    };
    let consumer = result.consumer.as_deref().unwrap_or("-");
    writeln!(
        out,
        "  {mark} {} [{consumer}] {status} in {latency}{why}",
        result.name
    )
}

/// Writes the summary and an explanation of each failure; a door left open comes first and loud.
pub fn summary(
    text: &TextReport,
    out: &mut dyn Write,
    results: &[CheckResult],
    elapsed_ms: u128,
) -> io::Result<()> {
    let failed: Vec<&CheckResult> = results.iter().filter(|r| r.failure().is_some()).collect();
    for open in failed.iter().filter(|r| is_door_open(r)) {
        writeln!(
            out,
            "heartbeat: {}: {:?} [{}] was let in where the front door must refuse",
            text.paint(RED, "DOOR OPEN"),
            open.name,
            open.consumer.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(
        out,
        "heartbeat suite: {} passed, {} failed in {elapsed_ms} ms",
        results.len() - failed.len(),
        failed.len()
    )?;
    for result in failed {
        let (Some(last), Some(failure)) = (result.attempts.last(), result.failure()) else {
            continue;
        };
        writeln!(
            out,
            "\n{} [{}]: {}",
            result.name,
            result.consumer.as_deref().unwrap_or("-"),
            failure.message
        )?;
        text.explain(out, result, last, failure)?;
    }
    Ok(())
}

fn is_door_open(result: &CheckResult) -> bool {
    result
        .failure()
        .is_some_and(|f| f.class == FailureClass::DoorOpen)
}

/// Builds the suite's JSON result.
pub fn json(results: &[CheckResult], code: ExitCode, elapsed_ms: u128) -> serde_json::Value {
    let failed = results.iter().filter(|r| r.failure().is_some()).count();
    let checks: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            // The last attempt made: an interrupted check still shows its last answer and request ids.
            let last = r.made().next_back();
            let failure = r.failure();
            json!({
                "name": r.name,
                "consumer": r.consumer,
                "method": r.method,
                "url": r.url,
                "verdict": if failure.is_some() { "failed" } else { "passed" },
                "class": failure.map(|f| f.class.as_str()),
                "status": last.and_then(|a| a.status),
                "latency_ms": last.map(|a| a.latency.as_millis() as u64),
                "attempts": r.attempts_made(),
                "message": failure.map(|f| f.message.as_str()),
                "user_message": failure.and_then(|f| f.user_message.as_deref()),
                "request_id": last.map(|a| a.request_id.as_str()),
                "gateway_request_id": last.and_then(|a| a.gateway_request_id.as_deref()),
            })
        })
        .collect();
    json!({
        "verdict": match code {
            ExitCode::Healthy => "passed",
            ExitCode::DoorOpen => "door_open",
            ExitCode::Interrupted | ExitCode::Terminated => "interrupted",
            _ => "failed",
        },
        "exit_code": code.code(),
        "passed": results.len() - failed,
        "failed": failed,
        "elapsed_ms": elapsed_ms as u64,
        "checks": checks,
        "version": env!("CARGO_PKG_VERSION"),
    })
}

/// Lists what would run, sending nothing: name, consumer, method and URL (secrets redacted).
pub fn list(
    out: &mut dyn Write,
    suite: &Suite,
    redactor: &crate::redact::Redactor,
) -> io::Result<()> {
    for planned in &suite.checks {
        let check = &planned.check;
        let consumer = suite.consumers[planned.consumer]
            .name
            .as_deref()
            .unwrap_or("-");
        let refused = if check.expect_refused {
            "  (must be refused)"
        } else {
            ""
        };
        writeln!(
            out,
            "{}  [{consumer}]  {} {}{refused}",
            check.name,
            check.request.method,
            crate::redact::display_url(redactor, &check.request.url)
        )?;
    }
    writeln!(
        out,
        "{} checks, sending nothing (--list)",
        suite.checks.len()
    )
}
