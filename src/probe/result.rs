//! What a check found: each attempt, and the check's result as the reports, the state and the metrics read it.

use std::time::Duration;

use super::failure::{Failure, FailureClass};
use crate::error::ExitCode;

/// One request and what came of it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub number: u32,
    pub request_id: String,
    pub status: Option<u16>,
    /// The API gateway's `x-amzn-RequestId`, when it answered.
    pub gateway_request_id: Option<String>,
    /// The response's status line and headers, cleaned, for `--verbose`.
    pub head: Vec<String>,
    pub latency: Duration,
    pub failure: Option<Failure>,
    /// The values this attempt's answer gave later checks (a passing answer only).
    pub captured: Vec<(String, String)>,
}

/// Everything a check found, for the reports.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub name: String,
    /// The suite consumer that made the requests; `None` for `heartbeat check`.
    pub consumer: Option<String>,
    pub method: String,
    pub url: String,
    pub attempts: Vec<Attempt>,
    pub max_attempts: u32,
    pub elapsed: Duration,
    /// Days until the client certificate expires; `None` when no certificate was presented.
    pub cert_days_left: Option<i64>,
    /// Why retrying stopped before the attempts ran out, if it did.
    pub stopped: Option<String>,
    /// Why the check was not run: a check it requires did not pass. A skip is neither passed nor failed.
    pub skipped: Option<String>,
}

impl CheckResult {
    /// Returns the failure of the last attempt; `None` means the answer was as expected.
    pub fn failure(&self) -> Option<&Failure> {
        self.attempts.last().and_then(|a| a.failure.as_ref())
    }

    /// Lists the attempts really made: an interrupted run's last entry only records the interruption.
    pub fn made(&self) -> impl DoubleEndedIterator<Item = &Attempt> {
        let interruption = |f: &Failure| matches!(f.class, FailureClass::Interrupted(_));
        self.attempts
            .iter()
            .filter(move |a| !a.failure.as_ref().is_some_and(interruption))
    }

    /// Counts the attempts really made.
    pub fn attempts_made(&self) -> usize {
        self.made().count()
    }

    /// Maps the verdict to the exit code.
    pub fn exit_code(&self) -> ExitCode {
        self.failure()
            .map_or(ExitCode::Healthy, |f| f.class.exit_code())
    }
}
