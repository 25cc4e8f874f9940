//! JUnit XML for CircleCI's `store_test_results` (and any CI that reads it): one test suite, a test case per
//! check (classname = the consumer), its attempts as system-out, and a `<failure>` with the reason.

use std::io::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::text::ids;
use crate::error::Error;
use crate::probe::{Attempt, CheckResult};

/// Opens the JUnit file (making its folder) before anything is sent: a report that cannot be written is found
/// while exit 2 still means "nothing was sent".
pub fn open(
    path: Option<&std::path::PathBuf>,
) -> Result<Option<(&std::path::PathBuf, std::fs::File)>, Error> {
    path.map(|path| {
        // `--junit results/smoke.xml` makes `results/` as CI tools expect.
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        parent
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::File::create(path))
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
        None if result.skipped.is_some() => {
            let mut skipped = TestCaseStatus::skipped();
            if let (TestCaseStatus::Skipped { message, .. }, Some(why)) =
                (&mut skipped, &result.skipped)
            {
                *message = Some(xml_safe(why).into());
            }
            skipped
        }
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
    let mut case = TestCase::new(xml_safe(&result.name), status);
    let classname = result
        .consumer
        .as_deref()
        .map_or("heartbeat.check".to_string(), |c| format!("heartbeat.{c}"));
    case.set_classname(classname).set_time(result.elapsed);
    let log: Vec<String> = result.attempts.iter().map(attempt_line).collect();
    case.set_system_out(xml_safe(&log.join("\n")));
    case
}

fn failed(message: &str, kind: &str, description: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_message(xml_safe(message))
        .set_type(kind)
        .set_description(xml_safe(&description));
    status
}

/// Replaces what XML 1.0 cannot carry (controls other than tab and line ends, surrogates, U+FFFE, U+FFFF) with
/// U+FFFD: one such character would make CI drop the whole report. Server text is cleaned before it gets here;
/// this holds for every other text too (a path in an error, a name).
fn xml_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t'
            | '\n'
            | '\r'
            | '\u{20}'..='\u{D7FF}'
            | '\u{E000}'..='\u{FFFD}'
            | '\u{10000}'.. => c,
            _ => '\u{FFFD}',
        })
        .collect()
}

/// One test case of a report that is not a check's (`cert watch`: one per certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub classname: String,
    /// `None` passed; `Some(Ok(why))` skipped; `Some(Err((message, kind)))` failed.
    pub outcome: Option<Result<String, (String, String)>>,
}

/// Writes cases as one suite.
pub fn write_cases(cases: &[Case], out: impl Write) -> Result<(), quick_junit::SerializeError> {
    let mut suite = TestSuite::new("heartbeat");
    for case in cases {
        let status = match &case.outcome {
            None => TestCaseStatus::success(),
            Some(Ok(why)) => {
                let mut skipped = TestCaseStatus::skipped();
                skipped.set_message(xml_safe(why));
                skipped
            }
            Some(Err((message, kind))) => failed(message, kind, String::new()),
        };
        let mut test = TestCase::new(xml_safe(&case.name), status);
        test.set_classname(xml_safe(&case.classname));
        suite.add_test_case(test);
    }
    let mut report = Report::new("heartbeat");
    report.add_test_suite(suite);
    report.serialize(out)
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
    let mut case = TestCase::new(xml_safe(name), status);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_safe_keeps_what_xml_carries_and_replaces_the_rest() {
        assert_eq!(
            xml_safe("a\tb\nc\rd é 中 👍 \u{D7FF}\u{E000}\u{FFFD}\u{10000}"),
            "a\tb\nc\rd é 中 👍 \u{D7FF}\u{E000}\u{FFFD}\u{10000}"
        );
        for c in ['\u{0}', '\u{1}', '\u{1B}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
            assert_eq!(
                xml_safe(&format!("a{c}b")),
                "a\u{FFFD}b",
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn an_error_report_carries_no_character_xml_forbids() {
        let error = Error::Usage("bad \u{FFFF} input \u{1}".into());
        let mut out = Vec::new();
        write_error("check \u{FFFE}", &error, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(!xml.contains(['\u{FFFF}', '\u{FFFE}', '\u{1}']), "{xml}");
        assert!(xml.contains("bad \u{FFFD} input"), "{xml}");
    }
}
