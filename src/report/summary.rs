//! A suite's text: a line per check as it finishes, a summary, each failure explained as `check` explains
//! it (and a door left open named first), and the `--list` of what would run.

use std::io::{self, Write};

use super::text::{GREEN, RED, TextReport};
use crate::plan::Plan;
use crate::probe::CheckResult;
use crate::probe::failure::FailureClass;

/// Writes the line for one finished check: ✓ or ✗, name, consumer, status, latency, and why it failed.
pub fn line(text: &TextReport, out: &mut dyn Write, result: &CheckResult) -> io::Result<()> {
    let failure = result.failure();
    let consumer = result.consumer.as_deref().unwrap_or("-");
    if let Some(why) = &result.skipped {
        // A skip explains a failure printed elsewhere: shown even when quiet.
        return writeln!(out, "  - {} [{consumer}] skipped: {why}", result.name);
    }
    if text.is_quiet() && failure.is_none() {
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
    let skipped = results.iter().filter(|r| r.skipped.is_some()).count();
    let skips = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    writeln!(
        out,
        "heartbeat suite: {} passed, {} failed{skips} in {elapsed_ms} ms",
        results.len() - failed.len() - skipped,
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

/// Lists what would run, sending nothing: name, consumer, method and URL (secrets redacted).
pub fn list(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    for planned in &plan.checks {
        let check = &planned.check;
        let consumer = plan.consumers[planned.consumer]
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
            crate::redact::display_url(&plan.redactor, &check.request.url)
        )?;
    }
    writeln!(
        out,
        "{} checks, sending nothing (--list)",
        plan.checks.len()
    )
}
