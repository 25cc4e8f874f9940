//! Writes a check's progress and verdict as human text, for people reading stderr: each attempt, the
//! verdict, and everything needed to act on a failure.

use std::io::{self, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use crate::duration::rfc3339;
use crate::probe::{Attempt, CheckResult};

/// Human-readable progress and verdict.
pub struct TextReport {
    color: bool,
    quiet: bool,
    verbose: bool,
}

pub(crate) const GREEN: Style = AnsiColor::Green.on_default().bold();
pub(crate) const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();

impl TextReport {
    /// Builds the text report; `quiet` keeps only the verdict of a failed check.
    pub fn new(color: bool, quiet: bool) -> Self {
        Self {
            color,
            quiet,
            verbose: false,
        }
    }

    /// Also prints each answer's status line and headers.
    pub fn verbose(self, verbose: bool) -> Self {
        Self { verbose, ..self }
    }

    /// Tells whether only failures are written.
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Colours text when colour is on.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    /// Writes the line that opens a check.
    pub fn start(&self, out: &mut dyn Write, url: &str) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        writeln!(out, "heartbeat: GET {url}")
    }

    /// Warns when a client certificate (a suite consumer's, when named) expires within `warn_days`.
    pub fn cert_expiry(
        &self,
        out: &mut dyn Write,
        consumer: Option<&str>,
        days_left: i64,
        warn_days: u32,
        not_after: i64,
    ) -> io::Result<()> {
        // Printed even with --quiet: a warning is what a quiet user still wants to see.
        if days_left >= i64::from(warn_days) {
            return Ok(());
        }
        let label = self.paint(YELLOW, "warning");
        let plural = if days_left == 1 { "" } else { "s" };
        let whose = consumer.map_or(String::new(), |name| format!(" of consumer {name:?}"));
        writeln!(
            out,
            "heartbeat: {label}: the client certificate{whose} expires in {days_left} day{plural} ({}); issue a new one soon",
            rfc3339(not_after)
        )
    }

    /// Writes one attempt's line.
    pub fn attempt(
        &self,
        out: &mut dyn Write,
        attempt: &Attempt,
        max: u32,
        next: Option<Duration>,
    ) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        let status = attempt
            .status
            .map_or("no answer".to_string(), |s| s.to_string());
        let what = attempt
            .failure
            .as_ref()
            .map_or("ok", |f| f.message.as_str());
        let then = next
            .map(|d| format!("; retrying in {}", crate::duration::human(d)))
            .unwrap_or_default();
        writeln!(
            out,
            "  attempt {}/{max}: {status} in {}: {what}{then} ({})",
            attempt.number,
            crate::duration::latency(attempt.latency),
            ids(attempt)
        )?;
        if self.verbose {
            for line in &attempt.head {
                writeln!(out, "    < {line}")?;
            }
        }
        Ok(())
    }

    /// Writes the verdict, with everything needed to act on a failure.
    pub fn verdict(&self, out: &mut dyn Write, result: &CheckResult) -> io::Result<()> {
        let Some(last) = result.attempts.last() else {
            return Ok(());
        };
        let Some(failure) = &last.failure else {
            if self.quiet {
                return Ok(());
            }
            let status = last.status.unwrap_or_default();
            let label = self.paint(GREEN, "healthy");
            return writeln!(
                out,
                "heartbeat: {label}: {status} in {} (attempt {} of {}, {})",
                crate::duration::latency(last.latency),
                last.number,
                result.max_attempts,
                ids(last)
            );
        };
        let label = match failure.class {
            crate::probe::failure::FailureClass::Interrupted(_) => "interrupted",
            _ => "unhealthy",
        };
        writeln!(
            out,
            "heartbeat: {}: {}",
            self.paint(RED, label),
            failure.message
        )?;
        self.explain(out, result, last, failure)
    }

    /// Writes what a person needs to act on a failure: the URL, the API's words, the ids and a hint.
    pub fn explain(
        &self,
        out: &mut dyn Write,
        result: &CheckResult,
        last: &Attempt,
        failure: &crate::probe::failure::Failure,
    ) -> io::Result<()> {
        writeln!(out, "  url:         {}", result.url)?;
        if let Some(message) = &failure.user_message {
            writeln!(out, "  userMessage: {message}")?;
        }
        if let Some(excerpt) = &failure.excerpt {
            writeln!(out, "  body:        {excerpt}")?;
        }
        writeln!(out, "  request id:  {}", last.request_id)?;
        if let Some(gateway) = &last.gateway_request_id {
            writeln!(out, "  gateway id:  {gateway} (x-amzn-RequestId)")?;
        }
        let stopped = result
            .stopped
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  attempts:    {} of {}{stopped}",
            result.attempts_made(),
            result.max_attempts
        )?;
        writeln!(out, "  hint: {}", failure.class.hint())
    }
}

/// Names our request id and, when the API gateway answered, its own.
pub(crate) fn ids(attempt: &Attempt) -> String {
    match &attempt.gateway_request_id {
        Some(gateway) => format!(
            "request id {}, gateway request id {gateway}",
            attempt.request_id
        ),
        None => format!("request id {}", attempt.request_id),
    }
}
