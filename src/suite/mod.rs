//! `heartbeat suite FILE`: many checks, many consumers, doors that must open and doors that must stay locked,
//! run concurrently into one verdict and one report. The file (TOML) is planned as a whole first; nothing is
//! sent unless all of it is valid.

mod checks;
mod consumers;
mod fields;
mod file;
mod plan;
mod report;
mod request;
mod run;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

pub use plan::{Overrides, Planned, Suite, plan};

use crate::cli::{Format, SuiteArgs};
use crate::environment::Environment;
use crate::error::{Error, ExitCode};
use crate::redact::Redactor;
use crate::report::TextReport;

/// The largest suite file read: room for an access matrix of every consumer and route (tens of thousands of
/// checks, planned in well under a second: scripts/bench-plan.sh), while a runaway file is refused unread.
const MAX_FILE: u64 = 8 * 1024 * 1024;

/// Runs `heartbeat suite`.
pub fn command(
    args: &SuiteArgs,
    env: &Environment,
    color: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let planned = read(&args.file).and_then(|text| {
        let overrides = Overrides {
            ca_cert: args.ca_cert.clone(),
            concurrency: args.concurrency.map(|n| n as usize),
        };
        let mut suite = plan(&args.file.display().to_string(), &text, env, &overrides)?;
        select(&mut suite, &args.only, &args.consumer)?;
        Ok(suite)
    });
    // Everything that can stop the run before anything is sent — the file, the selection, the notifier, the
    // JUnit file — is reported the same way: exit 2, with JSON and JUnit saying why.
    let ready = planned.and_then(|suite| {
        let host = suite
            .checks
            .first()
            .and_then(|p| p.check.request.url.host_str())
            .unwrap_or("the API")
            .to_string();
        let notifier =
            crate::notify::Notifier::load(&args.notify, env, &host).map_err(Error::Config)?;
        // `--list` sends nothing and writes no report.
        let junit = if args.list {
            None
        } else {
            crate::junit::open(args.junit.as_ref())?
        };
        Ok((suite, notifier, junit))
    });
    let (suite, notifier, junit) = match ready {
        Ok(ready) => ready,
        Err(error) => {
            let json = args.format == Format::Json;
            return Err(crate::report_invalid(
                error,
                "heartbeat suite",
                args.junit.as_ref(),
                json,
                stdout,
            ));
        }
    };
    let redactor = Redactor::new(suite.secrets.clone());
    if args.list {
        Error::output("writing the list", report::list(stdout, &suite, &redactor))?;
        return Ok(ExitCode::Healthy);
    }
    let text = TextReport::new(color, args.quiet);
    let (results, code, elapsed) = execute(&suite, &text, args.quiet, stderr)?;
    let result_json = report::json(&results, code, elapsed);
    if args.format == Format::Json {
        let written = writeln!(stdout, "{result_json}");
        crate::warn_unwritten(stderr, "the JSON result", written);
    }
    if let Some(notifier) = &notifier {
        notifier.notify(&results, code, &result_json, &redactor, stderr);
    }
    if let Some((path, file)) = junit {
        let written = crate::junit::write(&results, file).map_err(std::io::Error::other);
        crate::warn_unwritten(
            stderr,
            &format!("the JUnit report {}", path.display()),
            written,
        );
    }
    Ok(code)
}

/// Runs a planned suite, writing a line per check and the summary to `out`; returns the results, the exit
/// code and the elapsed milliseconds.
pub fn execute(
    suite: &Suite,
    text: &TextReport,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(Vec<crate::probe::CheckResult>, ExitCode, u128), Error> {
    let redactor = Redactor::new(suite.secrets.clone());
    let started = Instant::now();
    let runtime = crate::runtime()?;
    let finished = std::cell::RefCell::new(Vec::new());
    let progress: run::Progress = std::cell::RefCell::new(vec![Vec::new(); suite.checks.len()]);
    let results = runtime.block_on(async {
        let mut listener = crate::interrupt::Listener::new();
        let mut on_done = |result: &crate::probe::CheckResult| {
            // Progress is best effort: a closed output must not stop the run.
            let _ = report::line(text, quiet, out, result);
            finished.borrow_mut().push(result.clone());
        };
        tokio::select! {
            results = run::run(suite, &redactor, &progress, &mut on_done) => results,
            signal = listener.wait() => {
                let done = std::mem::take(&mut *finished.borrow_mut());
                let attempts = std::mem::take(&mut *progress.borrow_mut());
                interrupted(suite, &redactor, done, attempts, started, signal)
            }
        }
    });
    let elapsed = started.elapsed().as_millis();
    let code = ExitCode::most_telling(results.iter().map(|r| r.exit_code()));
    let _ = report::summary(text, out, &results, elapsed);
    Ok((results, code, elapsed))
}

/// The results of a suite a signal stopped: the finished checks as they ended, every other one interrupted
/// with the attempts it had finished (their statuses and request ids are what find them in the logs).
fn interrupted(
    suite: &Suite,
    redactor: &Redactor,
    done: Vec<crate::probe::CheckResult>,
    attempts: Vec<Vec<crate::probe::Attempt>>,
    started: Instant,
    signal: crate::interrupt::Signal,
) -> Vec<crate::probe::CheckResult> {
    let mut done: std::collections::HashMap<String, crate::probe::CheckResult> =
        done.into_iter().map(|r| (r.name.clone(), r)).collect();
    let mut attempts = attempts.into_iter();
    suite
        .checks
        .iter()
        .map(|planned| {
            let finished = attempts.next().unwrap_or_default();
            done.remove(&planned.check.name).unwrap_or_else(|| {
                let consumer = &suite.consumers[planned.consumer];
                crate::probe::interrupted(
                    &planned.check,
                    consumer,
                    redactor,
                    finished,
                    started.elapsed(),
                    signal,
                )
            })
        })
        .collect()
}

fn read(path: &Path) -> Result<String, Error> {
    let context = format!("reading the suite {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| Error::io(&context, e))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_FILE + 1), &mut text)
        .map_err(|e| Error::io(&context, e))?;
    if text.len() as u64 > MAX_FILE {
        return Err(Error::Usage(format!(
            "{context}: larger than {MAX_FILE} bytes"
        )));
    }
    Ok(text)
}

/// Keeps the checks `--only` and `--consumer` name; a name that matches nothing is an error.
fn select(suite: &mut Suite, only: &[String], consumers: &[String]) -> Result<(), Error> {
    let consumer_name = |p: &Planned| suite.consumers[p.consumer].name.clone().unwrap_or_default();
    let unknown: Vec<String> = only
        .iter()
        .filter(|name| !suite.checks.iter().any(|p| &p.check.name == *name))
        .map(|n| format!("--only {n:?} names no check"))
        .chain(
            consumers
                .iter()
                .filter(|name| !suite.checks.iter().any(|p| &consumer_name(p) == *name))
                .map(|n| format!("--consumer {n:?} makes no check")),
        )
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Usage(unknown.join("; ")));
    }
    let keep: Vec<bool> = suite
        .checks
        .iter()
        .map(|p| {
            (only.is_empty() || only.contains(&p.check.name))
                && (consumers.is_empty() || consumers.contains(&consumer_name(p)))
        })
        .collect();
    let mut flags = keep.into_iter();
    suite.checks.retain(|_| flags.next().unwrap_or(false));
    if suite.checks.is_empty() {
        // Each name matched something, but not together: running nothing and passing would be a lie.
        return Err(Error::Usage(
            "--only and --consumer together select no check: the checks named belong to other consumers".into(),
        ));
    }
    Ok(())
}
