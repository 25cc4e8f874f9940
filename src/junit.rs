//! JUnit XML for CircleCI's `store_test_results` (and any CI that reads it): one test suite, a test case per
//! check (classname = the consumer), its attempts as system-out, and a `<failure>` with the reason.

use std::io::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::error::Error;
use crate::probe::{Attempt, CheckResult};
use crate::report::ids;

/// Opens the JUnit file before anything is sent: a report that cannot be written is found while exit 2 still
/// means "nothing was sent".
pub fn open(
    path: Option<&std::path::PathBuf>,
) -> Result<Option<(&std::path::PathBuf, std::fs::File)>, Error> {
    path.map(|path| {
        std::fs::File::create(path)
            .map(|file| (path, file))
            .map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })
    })
    .transpose()
}

/// Writes the results as one suite with a test case per result.
pub fn write(results: &[CheckResult], out: impl Write) -> Result<(), quick_junit::SerializeError> {
    let mut suite = TestSuite::new("heartbeat");
    let mut total = Duration::ZERO;
    for result in results {
        total = total.max(result.elapsed);
        suite.add_test_case(case(result));
    }
    suite.set_time(total);
    let mut report = Report::new("heartbeat");
    report.set_time(total).add_test_suite(suite);
    report.serialize(out)
}

fn case(result: &CheckResult) -> TestCase {
    let status = match result.failure() {
        None => TestCaseStatus::success(),
        Some(failure) => {
            let mut details: Vec<String> = result.attempts.iter().map(attempt_line).collect();
            details.extend(
                failure
                    .user_message
                    .as_ref()
                    .map(|m| format!("userMessage: {m}")),
            );
            details.extend(failure.excerpt.as_ref().map(|b| format!("body: {b}")));
            details.push(format!("hint: {}", failure.class.hint()));
            failed(&failure.message, failure.class.as_str(), details.join("\n"))
        }
    };
    let mut case = TestCase::new(result.name.as_str(), status);
    let classname = result
        .consumer
        .as_deref()
        .map_or("heartbeat.check".to_string(), |c| format!("heartbeat.{c}"));
    case.set_classname(classname).set_time(result.elapsed);
    let log: Vec<String> = result.attempts.iter().map(attempt_line).collect();
    case.set_system_out(log.join("\n"));
    case
}

fn failed(message: &str, kind: &str, description: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_message(message)
        .set_type(kind)
        .set_description(description);
    status
}

/// Writes JUnit XML for a run that never started because its configuration is invalid, so CircleCI's test
/// results show why.
pub fn write_error(
    name: &str,
    error: &Error,
    out: impl Write,
) -> Result<(), quick_junit::SerializeError> {
    let status = failed(
        &error.to_string(),
        "invalid_configuration",
        error.hint().unwrap_or_default().to_string(),
    );
    let mut case = TestCase::new(name, status);
    case.set_classname("heartbeat.check");
    let mut suite = TestSuite::new("heartbeat");
    suite.add_test_case(case);
    let mut report = Report::new("heartbeat");
    report.add_test_suite(suite);
    report.serialize(out)
}

fn attempt_line(a: &Attempt) -> String {
    let status = a.status.map_or("none".into(), |s| s.to_string());
    let outcome = a.failure.as_ref().map_or("ok", |f| f.message.as_str());
    format!(
        "attempt {}: status {status}, {} ms, {}: {outcome}",
        a.number,
        a.latency.as_millis(),
        ids(a)
    )
}
