//! One check: the request a real consumer makes, retries, timing and the verdict of each attempt. Returns
//! data and reports progress through a callback; it never prints.

pub mod answer;
pub mod assert;
pub mod capture;
pub mod classify;
pub mod failure;
mod redirect;
mod refusal;
mod result;
mod retry;
#[cfg(test)]
pub(crate) mod sample;
pub mod status;
pub mod transport;

use std::time::{Duration, Instant};

use reqwest::header::HeaderName;
use reqwest::{Client, Response, Url};

use crate::plan::check::Check;
use crate::plan::consumer::Consumer;
use crate::redact::Redactor;
use answer::{Answer, Head};
use failure::{Failure, FailureClass};
pub use result::{Attempt, CheckResult};

/// How many same-origin redirects `--follow-redirects` follows before giving up.
const MAX_REDIRECTS: usize = 10;

/// What one run of a check needs besides the check: who calls, through which client, and what to redact.
pub struct Caller<'a> {
    pub consumer: &'a Consumer,
    pub client: &'a Client,
    pub redactor: &'a Redactor,
}

/// Runs the check, calling `on_attempt(attempt, next_wait)` after each attempt.
pub async fn run(
    check: &Check,
    caller: &Caller<'_>,
    on_attempt: &mut dyn FnMut(&Attempt, Option<Duration>),
) -> CheckResult {
    let started = Instant::now();
    // Every duration is bounded when parsed, but a checked sum costs nothing and can never panic.
    let deadline = check.retry.deadline.and_then(|d| started.checked_add(d));
    let mut attempts = Vec::new();
    let mut stopped = None;
    for number in 1..=check.retry.attempts {
        let budget = deadline.map_or(check.retry.timeout, |d| {
            check
                .retry
                .timeout
                .min(d.saturating_duration_since(Instant::now()))
        });
        let attempt = attempt(check, caller, number, budget).await;
        let wait = match retry::next_wait(&check.retry, &attempt, deadline) {
            Ok(wait) => wait,
            Err(reason) => {
                stopped = Some(reason);
                None
            }
        };
        on_attempt(&attempt, wait);
        attempts.push(attempt);
        match wait {
            Some(wait) => tokio::time::sleep(wait).await,
            None => break,
        }
    }
    result(
        check,
        caller.consumer,
        caller.redactor,
        attempts,
        started.elapsed(),
        stopped,
    )
}

/// Gathers what one run of a check found into its result.
fn result(
    check: &Check,
    consumer: &Consumer,
    redactor: &Redactor,
    attempts: Vec<Attempt>,
    elapsed: Duration,
    stopped: Option<String>,
) -> CheckResult {
    let now = std::time::SystemTime::now();
    CheckResult {
        name: check.name.clone(),
        consumer: consumer.name.clone(),
        method: check.request.method.to_string(),
        url: crate::redact::display_url(redactor, &check.request.url),
        attempts,
        max_attempts: check.retry.attempts,
        elapsed,
        cert_days_left: consumer.identity.as_ref().map(|i| i.facts.days_left(now)),
        stopped,
        skipped: None,
    }
}

/// Builds the result of a check that was not run, and why.
pub fn skipped(
    check: &Check,
    consumer: &Consumer,
    redactor: &Redactor,
    reason: String,
) -> CheckResult {
    CheckResult {
        skipped: Some(reason),
        ..result(check, consumer, redactor, Vec::new(), Duration::ZERO, None)
    }
}

/// Builds the result of a check a signal stopped: the attempts that finished, then one that says so.
pub fn interrupted(
    check: &Check,
    consumer: &Consumer,
    redactor: &Redactor,
    mut attempts: Vec<Attempt>,
    elapsed: Duration,
    signal: crate::interrupt::Signal,
) -> CheckResult {
    let number = attempts.len() as u32 + 1;
    attempts.push(Attempt {
        number,
        request_id: String::from("-"),
        status: None,
        gateway_request_id: None,
        head: Vec::new(),
        latency: Duration::ZERO,
        captured: Vec::new(),
        failure: Some(Failure::new(
            FailureClass::Interrupted(signal),
            format!("interrupted by {}", signal.name()),
        )),
    });
    let stopped = Some(format!("stopped by {}", signal.name()));
    result(check, consumer, redactor, attempts, elapsed, stopped)
}

async fn attempt(check: &Check, caller: &Caller<'_>, number: u32, budget: Duration) -> Attempt {
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let mut head = None;
    let outcome =
        tokio::time::timeout(budget, exchange(check, caller, &request_id, &mut head)).await;
    let latency = started.elapsed();
    let outcome = match outcome {
        Err(_) => Err(Failure::new(
            FailureClass::Timeout,
            format!(
                "no complete answer within {}",
                crate::duration::human(budget)
            ),
        )),
        Ok(outcome) => outcome,
    };
    let captured = match &outcome {
        Ok(answer) if !check.captures.is_empty() => {
            Some(capture::take(&check.captures, &answer.body))
        }
        _ => None,
    };
    let failure = verdict(check, caller.redactor, outcome, latency);
    // A value later checks need and the answer does not give fails the check that should give it.
    let (failure, captured) = match (failure, captured) {
        (None, Some(Err(missing))) => (
            Some(Failure::new(FailureClass::Assertion, missing)),
            Vec::new(),
        ),
        (None, Some(Ok(values))) => (None, values),
        (failure, _) => (failure, Vec::new()),
    };
    // Messages can carry server text (a Location, an error's detail): clean them like any server text.
    let failure = failure.map(|f| Failure {
        message: caller.redactor.clean(&f.message, 500),
        ..f
    });
    let (status, gateway_request_id, head) = match head {
        Some(head) => (
            Some(head.status.as_u16()),
            head.gateway_request_id,
            head.lines,
        ),
        None => (None, None, Vec::new()),
    };
    Attempt {
        number,
        request_id,
        status,
        gateway_request_id,
        head,
        latency,
        failure,
        captured,
    }
}

/// Judges what happened: an answer against the expectations (or, for a door that must stay locked, whether
/// it was refused), and a healthy answer against `max_latency`.
fn verdict(
    check: &Check,
    redactor: &Redactor,
    outcome: Result<Answer, Failure>,
    latency: Duration,
) -> Option<Failure> {
    if check.expect_refused {
        return refusal::judge(redactor, check.refusal.as_ref(), &outcome);
    }
    let failure = match &outcome {
        Err(failure) => Some(failure.clone()),
        Ok(answer) => classify::from_answer(&check.expectations, redactor, answer),
    };
    match (failure, check.max_latency) {
        (None, Some(max)) if latency > max => Some(Failure::new(
            FailureClass::TooSlow,
            format!(
                "answered in {} ms, slower than max_latency {} ms",
                latency.as_millis(),
                max.as_millis()
            ),
        )),
        (failure, _) => failure,
    }
}

/// Sends the request (following same-origin redirects when asked) and reads the answer. The head of the last
/// response goes to `head` as soon as it arrives, so a failure after it (a body too large) still reports it.
async fn exchange(
    check: &Check,
    caller: &Caller<'_>,
    request_id: &str,
    head: &mut Option<Head>,
) -> Result<Answer, Failure> {
    let proxy = caller.consumer.proxy.as_ref().map(|p| p.display.as_str());
    let mut url = check.request.url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let response = send(check, caller, &url, request_id)
            .await
            .map_err(|e| transport::from_transport(&e, proxy))?;
        let status = response.status();
        *head = Some(Head::read(&response, caller.redactor));
        if status.is_redirection() && !check.expectations.accepts_status(status.as_u16()) {
            let next = redirect::target(&url, &response)?;
            if check.follow_redirects && redirect::same_origin(&url, &next) {
                url = next;
                continue;
            }
            let why = if check.follow_redirects {
                "to another origin, which is never followed"
            } else {
                "and --follow-redirects is off"
            };
            return Err(Failure::new(
                FailureClass::Redirect,
                format!(
                    "redirected ({status}) to {} {why}",
                    crate::redact::display_url(caller.redactor, &next)
                ),
            )
            .with_status(status.as_u16()));
        }
        return answer::read(response, check.max_body, caller.redactor).await;
    }
    Err(Failure::new(
        FailureClass::Redirect,
        format!("more than {MAX_REDIRECTS} redirects"),
    ))
}

/// Sends one request: the check's method, headers and body, the consumer's API key, a fresh request id.
async fn send(
    check: &Check,
    caller: &Caller<'_>,
    url: &Url,
    request_id: &str,
) -> reqwest::Result<Response> {
    let mut request = caller
        .client
        .request(check.request.method.clone(), url.clone())
        .header(&caller.consumer.request_id_header, request_id);
    // The consumer's headers (an on-behalf-of token, say), unless the check sets the same one.
    let own = |name: &HeaderName| check.request.headers.iter().any(|(n, _)| n == name);
    let consumer = caller.consumer.headers.iter().filter(|(n, _)| !own(n));
    for (name, value) in check.request.headers.iter().chain(consumer) {
        request = request.header(name, value);
    }
    if let Some(key) = &caller.consumer.api_key {
        request = request.header(&key.header, key.value());
    }
    if let Some(body) = &check.request.body {
        request = request.body(body.clone());
    }
    request.send().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::check::RetryPolicy;
    use crate::probe::assert::Expectations;

    #[test]
    fn max_latency_fails_only_an_answer_slower_than_it() {
        let max = Duration::from_millis(100);
        let expectations = Expectations::new(&[200], &[], &[]).unwrap();
        let url = Url::parse("https://api.test/v1/status").unwrap();
        let mut check = Check::get("c".into(), url, expectations, RetryPolicy::default());
        check.max_latency = Some(max);
        let redactor = Redactor::new(Vec::new());
        let judged = |status: u16, latency: Duration| {
            let answer = classify::tests::answer(status, None, r#"{"firstName": "A"}"#);
            verdict(&check, &redactor, Ok(answer), latency).map(|f| f.class)
        };
        assert_eq!(judged(200, max), None);
        assert_eq!(
            judged(200, max + Duration::from_nanos(1)),
            Some(FailureClass::TooSlow)
        );
        // A failing answer keeps its own class, however slow.
        let slow_failure = judged(500, max * 2);
        assert!(
            slow_failure.is_some_and(|c| c != FailureClass::TooSlow),
            "{slow_failure:?}"
        );
    }
}
