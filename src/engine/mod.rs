//! The one engine: `check`, `suite` and `demo` each turn their input into a `Plan`, and this runs it — the
//! runtime, interrupts, connection pools, progress, the verdict, JSON, JUnit and notifications, once. A check
//! is a plan of one, so every rule holds for both by construction. Nothing here calls back up into a front-end.

mod ledger;

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt as _;

use crate::delivery::Delivery;
use crate::error::{Error, ExitCode};
use crate::followup::{Followup, Verdict};
use crate::plan::Plan;
use crate::plan::check::Check;
use crate::probe::{self, Attempt, Caller, CheckResult};
use crate::report::{Format, TextReport, json};

/// How long a pooled client waits to connect; each attempt's own timeout bounds it further.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How the results are shown: one check's attempts and verdict, or a line per check and a summary. The
/// two JSON shapes differ too (the Action and users' `jq` read both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Check,
    Suite,
}

impl Shape {
    fn command(self) -> &'static str {
        match self {
            Self::Check => "heartbeat check",
            Self::Suite => "heartbeat suite",
        }
    }
}

/// Where and how the results are written.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub shape: Shape,
    pub format: Format,
    pub junit: Option<PathBuf>,
    pub quiet: bool,
    pub color: bool,
    /// Print each answer's status line and headers (one check's shape only).
    pub verbose: bool,
}

/// What a run found.
pub struct Outcome {
    pub results: Vec<CheckResult>,
    pub code: ExitCode,
    pub elapsed: Duration,
}

/// Runs a prepared plan and reports it; a preparation that failed is reported as the configuration error it
/// is — exit 2, nothing sent — in JSON and JUnit too.
pub fn run(
    prepared: Result<(Plan, Followup), Error>,
    outputs: &Outputs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let opened =
        prepared.and_then(|p| Ok((p, crate::report::junit::open(outputs.junit.as_ref())?)));
    let ((plan, followup), junit) = match opened {
        Ok(opened) => opened,
        Err(error) => return Err(report_invalid(error, outputs, stdout)),
    };
    let text = TextReport::new(outputs.color, outputs.quiet).verbose(outputs.verbose);
    let runtime = crate::process::runtime()?;
    // One listener from first to last, so a signal between two steps is never lost.
    let mut listener = {
        let _inside = runtime.enter();
        crate::interrupt::Listener::new()
    };
    let delivery = followup.sends().then(Delivery::new).and_then(|made| {
        made.map_err(|why| {
            warn(
                stderr,
                &format!("nothing will be sent after the run ({why})"),
            )
        })
        .ok()
    });
    if let Some(delivery) = &delivery {
        let started = runtime.block_on(async {
            tokio::select! {
                warning = followup.start(delivery) => Ok(warning),
                signal = listener.wait() => Err(signal),
            }
        });
        match started {
            Ok(warning) => warning.iter().for_each(|w| warn(stderr, w)),
            Err(signal) => return Ok(stopped(stderr, signal, "before the checks")),
        }
    }
    let outcome = execute(&plan, outputs.shape, &text, &runtime, &mut listener, stderr);
    // From here on requests were sent: a report that fails to write is a warning, never the verdict.
    // The JSON is for stdout or a webhook: a run that wants neither does not pay for it.
    let wanted = outputs.format == Format::Json || followup.notifier.is_some();
    let result_json = match outputs.shape {
        _ if !wanted => String::new(),
        Shape::Check => json::line(&json::check(&outcome.results[0])),
        Shape::Suite => json::line(&json::suite(
            &outcome.results,
            outcome.code,
            outcome.elapsed,
        )),
    };
    if outputs.format == Format::Json {
        let written = writeln!(stdout, "{result_json}");
        warn_unwritten(stderr, "the JSON result", written);
    }
    // JUnit first: it is local, and CI's test tab must have it even when a receiver hangs.
    if let Some((path, file)) = junit {
        let written =
            crate::report::junit::write(&outcome.results, file).map_err(std::io::Error::other);
        let what = format!("the JUnit report {}", path.display());
        warn_unwritten(stderr, &what, written);
    }
    // A run a signal stopped has no verdict: nobody is told it is unhealthy, and no state remembers it.
    if matches!(outcome.code, ExitCode::Interrupted | ExitCode::Terminated) {
        return Ok(outcome.code);
    }
    let now = SystemTime::now();
    let verdict = Verdict {
        results: &outcome.results,
        code: outcome.code,
        elapsed: outcome.elapsed,
        certificates: plan.certificates(),
        result_json: &result_json,
        redactor: &plan.redactor,
    };
    if let Some(warning) = followup.write_metrics(&verdict, now) {
        warn(stderr, &warning);
    }
    let finished = runtime.block_on(async {
        tokio::select! {
            warnings = followup.finish(delivery.as_ref(), &verdict, now) => Ok(warnings),
            signal = listener.wait() => Err(signal),
        }
    });
    match finished {
        Ok(warnings) => warnings.iter().for_each(|w| warn(stderr, w)),
        Err(signal) => return Ok(stopped(stderr, signal, "while notifying")),
    }
    Ok(outcome.code)
}

/// Says a signal stopped the run outside the checks, and gives its exit code.
fn stopped(stderr: &mut dyn Write, signal: crate::interrupt::Signal, when: &str) -> ExitCode {
    let _ = writeln!(stderr, "heartbeat: stopped by {} {when}", signal.name());
    signal.exit_code()
}

fn warn(stderr: &mut dyn Write, warning: &str) {
    let _ = writeln!(stderr, "heartbeat: warning: {warning}; the verdict stands");
}

/// Runs every check of the plan, writing progress and the verdict as text to `out`.
pub fn execute(
    plan: &Plan,
    shape: Shape,
    text: &TextReport,
    runtime: &tokio::runtime::Runtime,
    listener: &mut crate::interrupt::Listener,
    out: &mut dyn Write,
) -> Outcome {
    let started = Instant::now();
    // Progress is best effort from here on: a closed output must not stop the run.
    let _ = preface(plan, shape, text, out);
    let out = RefCell::new(out);
    let progress: Progress = RefCell::new(vec![Vec::new(); plan.checks.len()]);
    let finished = RefCell::new(Vec::new());
    let on_attempt = |index: usize, attempt: &Attempt, next: Option<Duration>| {
        if shape == Shape::Check {
            let max = plan.checks[index].check.retry.attempts;
            let _ = text.attempt(*out.borrow_mut(), attempt, max, next);
        }
    };
    let on_done = |result: &CheckResult| {
        if shape == Shape::Suite {
            let _ = crate::report::line(text, *out.borrow_mut(), result);
        }
        finished.borrow_mut().push(result.clone());
    };
    let results = runtime.block_on(async {
        tokio::select! {
            results = checks(plan, &progress, &on_attempt, &on_done) => results,
            signal = listener.wait() => {
                let done = std::mem::take(&mut *finished.borrow_mut());
                let attempts = std::mem::take(&mut *progress.borrow_mut());
                interrupted(plan, done, attempts, started, signal)
            }
        }
    });
    let elapsed = started.elapsed();
    let code = ExitCode::most_telling(results.iter().map(|r| r.exit_code()));
    let out = out.into_inner();
    let _ = match shape {
        Shape::Check => text.verdict(out, &results[0]),
        Shape::Suite => crate::report::summary(text, out, &results, elapsed.as_millis()),
    };
    Outcome {
        results,
        code,
        elapsed,
    }
}

/// Writes what comes before any request: one check's URL, and a warning for each client certificate that
/// expires soon.
fn preface(
    plan: &Plan,
    shape: Shape,
    text: &TextReport,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if let (Shape::Check, Some(planned)) = (shape, plan.checks.first()) {
        let url = crate::redact::display_url(&plan.redactor, &planned.check.request.url);
        text.start(out, &url)?;
    }
    let now = SystemTime::now();
    for consumer in &plan.consumers {
        if let Some(identity) = &consumer.identity {
            let facts = &identity.facts;
            let days = facts.days_left(now);
            let name = consumer.name.as_deref();
            text.cert_expiry(out, name, days, plan.cert_warn_days, facts.not_after)?;
        }
    }
    Ok(())
}

/// The attempts each check (by its index) has finished so far: what an interrupted run still reports.
type Progress = RefCell<Vec<Vec<Attempt>>>;

/// Runs the checks concurrently (at most `concurrency` in flight), recording each attempt, and returns the
/// results in the plan's order. A failed check never stops the others.
async fn checks(
    plan: &Plan,
    progress: &Progress,
    on_attempt: &dyn Fn(usize, &Attempt, Option<Duration>),
    on_done: &dyn Fn(&CheckResult),
) -> Vec<CheckResult> {
    let pools = pools(plan);
    let ledger = ledger::Ledger::new(plan);
    let ledger = &ledger;
    let tasks = plan.checks.iter().enumerate().map(|(index, planned)| {
        let consumer = &plan.consumers[planned.consumer];
        let pool = pools[planned.consumer].as_ref();
        async move {
            let check = match prepare(&planned.check, ledger).await {
                Ok(check) => check,
                Err(why) => {
                    let result = probe::skipped(&planned.check, consumer, &plan.redactor, why);
                    ledger.record(index, &result);
                    return (index, result);
                }
            };
            // A locked door is tried as a stranger would, and a consumer's only check shares nothing: a new
            // connection for every attempt.
            let fresh;
            let client = match pool {
                Some(pool) if !planned.check.expect_refused => pool,
                _ => {
                    fresh = consumer.client(false, planned.check.retry.timeout);
                    &fresh
                }
            };
            let caller = Caller {
                consumer,
                client,
                redactor: &plan.redactor,
            };
            let mut record = |attempt: &Attempt, next| {
                if let Some(attempts) = progress.borrow_mut().get_mut(index) {
                    attempts.push(attempt.clone());
                }
                on_attempt(index, attempt, next);
            };
            let result = probe::run(&check, &caller, &mut record).await;
            ledger.record(index, &result);
            (index, result)
        }
    });
    let mut finished = futures_util::stream::iter(tasks).buffer_unordered(plan.concurrency.max(1));
    let mut results: Vec<Option<CheckResult>> = vec![None; plan.checks.len()];
    while let Some((index, result)) = finished.next().await {
        on_done(&result);
        results[index] = Some(result);
    }
    results.into_iter().flatten().collect()
}

/// Waits for the checks a check requires, then fills the values they captured into its request; the error says
/// why the check is skipped instead.
async fn prepare<'c>(
    check: &'c Check,
    ledger: &ledger::Ledger<'_>,
) -> Result<Cow<'c, Check>, String> {
    if check.requires.is_empty() {
        return Ok(Cow::Borrowed(check));
    }
    let values = ledger.wait(check).await?;
    if check.uses.is_empty() {
        return Ok(Cow::Borrowed(check));
    }
    let request = crate::probe::capture::fill(&check.request, &check.uses, &values)?;
    Ok(Cow::Owned(check.with_request(request)))
}

/// Builds one keep-alive pool for each consumer that makes more than one check that may open: its checks
/// then share warm connections, and a new handshake costs far more than a request on a kept-alive one.
fn pools(plan: &Plan) -> Vec<Option<reqwest::Client>> {
    let mut open_checks = vec![0usize; plan.consumers.len()];
    for planned in plan.checks.iter().filter(|p| !p.check.expect_refused) {
        open_checks[planned.consumer] += 1;
    }
    plan.consumers
        .iter()
        .zip(open_checks)
        .map(|(consumer, n)| (n > 1).then(|| consumer.client(true, CONNECT_TIMEOUT)))
        .collect()
}

/// The results of a run a signal stopped: the finished checks as they ended, every other one interrupted
/// with the attempts it had finished (their statuses and request ids are what find them in the logs).
fn interrupted(
    plan: &Plan,
    done: Vec<CheckResult>,
    attempts: Vec<Vec<Attempt>>,
    started: Instant,
    signal: crate::interrupt::Signal,
) -> Vec<CheckResult> {
    let mut done: std::collections::HashMap<String, CheckResult> =
        done.into_iter().map(|r| (r.name.clone(), r)).collect();
    let mut attempts = attempts.into_iter();
    plan.checks
        .iter()
        .map(|planned| {
            let finished = attempts.next().unwrap_or_default();
            done.remove(&planned.check.name).unwrap_or_else(|| {
                let consumer = &plan.consumers[planned.consumer];
                let elapsed = started.elapsed();
                let redactor = &plan.redactor;
                probe::interrupted(
                    &planned.check,
                    consumer,
                    redactor,
                    finished,
                    elapsed,
                    signal,
                )
            })
        })
        .collect()
}

/// Reports a run that could not start — nothing was sent — in the reports asked for, best effort: the JUnit
/// file (when it can be written) and, with `--format json`, one object with the problems. Returns the error.
fn report_invalid(error: Error, outputs: &Outputs, stdout: &mut dyn Write) -> Error {
    if let Some(Ok(Some((_, file)))) = outputs
        .junit
        .as_ref()
        .map(|p| crate::report::junit::open(Some(p)))
    {
        let _ = crate::report::junit::write_error(outputs.shape.command(), &error, file);
    }
    if outputs.format == Format::Json {
        let _ = writeln!(stdout, "{}", json::line(&json::invalid(&error)));
    }
    error
}

/// Says on stderr that a report was not written after requests were sent; a reader that left (a broken
/// pipe) is not worth a word.
pub(crate) fn warn_unwritten(stderr: &mut dyn Write, what: &str, result: std::io::Result<()>) {
    match result {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            let _ = writeln!(
                stderr,
                "heartbeat: warning: {what} was not written ({error}); the verdict stands"
            );
        }
        _ => {}
    }
}
