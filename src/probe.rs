//! One check: the request a real consumer makes, retries, timing and the verdict of each attempt. Returns
//! data and reports progress through a callback; it never prints.

use std::time::{Duration, Instant};

use reqwest::header::LOCATION;
use reqwest::{Client, Response, Url};

use crate::answer::{self, Answer, Head};
use crate::classify;
use crate::config::CheckConfig;
use crate::error::ExitCode;
use crate::failure::{Failure, FailureClass};
use crate::identity;
use crate::redact::Redactor;

/// How many same-origin redirects `--follow-redirects` follows before giving up.
const MAX_REDIRECTS: usize = 10;
/// The longest `Retry-After` honoured when no `--deadline` bounds the run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

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
}

/// Everything a check found, for the reports.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub url: String,
    pub attempts: Vec<Attempt>,
    pub max_attempts: u32,
    pub elapsed: Duration,
    pub cert_days_left: i64,
    /// Why retrying stopped before the attempts ran out, if it did.
    pub stopped: Option<String>,
}

impl CheckResult {
    /// Returns the failure of the last attempt; `None` means healthy.
    pub fn failure(&self) -> Option<&Failure> {
        self.attempts.last().and_then(|a| a.failure.as_ref())
    }

    /// Maps the verdict to the exit code.
    pub fn exit_code(&self) -> ExitCode {
        self.failure()
            .map_or(ExitCode::Healthy, |f| f.class.exit_code())
    }
}

/// Runs the check, calling `on_attempt(attempt, next_wait)` after each attempt.
pub async fn run(
    config: &CheckConfig,
    on_attempt: &mut dyn FnMut(&Attempt, Option<Duration>),
) -> CheckResult {
    let started = Instant::now();
    // Config bounds every duration, but a checked sum costs nothing and can never panic.
    let deadline = config.retry.deadline.and_then(|d| started.checked_add(d));
    let client = client(config);
    let redactor = config.redactor();
    let mut attempts = Vec::new();
    let mut stopped = None;
    for number in 1..=config.retry.attempts {
        let budget = deadline.map_or(config.retry.timeout, |d| {
            config
                .retry
                .timeout
                .min(d.saturating_duration_since(Instant::now()))
        });
        let attempt = attempt(&client, config, &redactor, number, budget).await;
        let wait = match next_wait(config, &attempt, deadline) {
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
    CheckResult {
        url: config.display_url(),
        attempts,
        max_attempts: config.retry.attempts,
        elapsed: started.elapsed(),
        cert_days_left: config.cert_days_left,
        stopped,
    }
}

/// Decides how long to wait before the next attempt: `Ok(None)` when done, `Err` when retrying must stop early.
fn next_wait(
    config: &CheckConfig,
    attempt: &Attempt,
    deadline: Option<Instant>,
) -> Result<Option<Duration>, String> {
    let Some(failure) = &attempt.failure else {
        return Ok(None);
    };
    if attempt.number >= config.retry.attempts {
        return Ok(None);
    }
    if !failure.class.is_retryable() {
        return Err("not retried: waiting cannot heal this".into());
    }
    let wait = failure.retry_after.unwrap_or(config.retry.delay);
    let server_asked = failure.retry_after.is_some();
    match deadline {
        Some(deadline)
            if Instant::now()
                .checked_add(wait)
                .is_none_or(|at| at >= deadline) =>
        {
            Err(format!(
                "not retried: waiting {} would pass --deadline",
                humantime::format_duration(wait)
            ))
        }
        None if server_asked && wait > MAX_RETRY_AFTER => Err(format!(
            "not retried: the server asked to wait {}",
            humantime::format_duration(wait)
        )),
        _ => Ok(Some(wait)),
    }
}

fn client(config: &CheckConfig) -> Client {
    let tls = identity::client_config(config.roots.clone(), &config.identity);
    let mut builder = Client::builder()
        // Proxies come from `config` (the one reader of the environment), never from reqwest's own lookup.
        .no_proxy();
    if let Some(proxy) = &config.proxy {
        builder = builder
            .proxy(reqwest::Proxy::all(proxy.url.clone()).expect("config validated the proxy URL"));
    }
    builder
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        // A fresh connection per attempt, as a new consumer would make, so every attempt tests the handshake.
        .pool_max_idle_per_host(0)
        .connect_timeout(config.retry.timeout)
        .user_agent(concat!("heartbeat/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a rustls client with a preconfigured TLS backend builds")
}

async fn attempt(
    client: &Client,
    config: &CheckConfig,
    redactor: &Redactor,
    number: u32,
    budget: Duration,
) -> Attempt {
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let mut head = None;
    let outcome = tokio::time::timeout(
        budget,
        exchange(client, config, redactor, &request_id, &mut head),
    )
    .await;
    let latency = started.elapsed();
    let failure = match outcome {
        Err(_) => Some(Failure::new(
            FailureClass::Timeout,
            format!(
                "no complete answer within {}",
                humantime::format_duration(budget)
            ),
        )),
        Ok(Err(failure)) => Some(failure),
        Ok(Ok(answer)) => classify::from_answer(&config.expectations, redactor, &answer),
    };
    // Messages can carry server text (a Location, an error's detail): clean them like any server text.
    let failure = failure.map(|f| Failure {
        message: redactor.clean(&f.message, 500),
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
    }
}

/// Sends the request (following same-origin redirects when asked) and reads the answer. The head of the last
/// response goes to `head` as soon as it arrives, so a failure after it (a body too large) still reports it.
async fn exchange(
    client: &Client,
    config: &CheckConfig,
    redactor: &Redactor,
    request_id: &str,
    head: &mut Option<Head>,
) -> Result<Answer, Failure> {
    let proxy = config.proxy.as_ref().map(|p| p.display.as_str());
    let mut url = config.url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let response = client
            .get(url.clone())
            .header(&config.api_key_header, config.api_key_value())
            .header(&config.request_id_header, request_id)
            .send()
            .await
            .map_err(|e| classify::from_transport(&e, proxy))?;
        let status = response.status();
        *head = Some(Head::read(&response, redactor));
        if status.is_redirection() && !config.expectations.accepts_status(status.as_u16()) {
            let next = redirect_target(&url, &response)?;
            if config.follow_redirects && same_origin(&url, &next) {
                url = next;
                continue;
            }
            let why = if config.follow_redirects {
                "to another origin, which is never followed"
            } else {
                "and --follow-redirects is off"
            };
            return Err(Failure::new(
                FailureClass::Redirect,
                format!(
                    "redirected ({status}) to {} {why}",
                    crate::redact::display_url(redactor, &next)
                ),
            )
            .with_status(status.as_u16()));
        }
        return answer::read(response, config.max_body, redactor).await;
    }
    Err(Failure::new(
        FailureClass::Redirect,
        format!("more than {MAX_REDIRECTS} redirects"),
    ))
}

fn redirect_target(url: &Url, response: &Response) -> Result<Url, Failure> {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok());
    let status = response.status();
    let location = location.ok_or_else(|| {
        Failure::new(
            FailureClass::Redirect,
            format!("redirected ({status}) without a Location"),
        )
        .with_status(status.as_u16())
    })?;
    url.join(location).map_err(|_| {
        Failure::new(
            FailureClass::Redirect,
            format!("redirected ({status}) to an invalid Location"),
        )
        .with_status(status.as_u16())
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = Url::parse("https://api.test/v1").unwrap();
        assert!(same_origin(
            &a,
            &Url::parse("https://api.test:443/v2?x=1").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://api.test:8443/v1").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://evil.test/v1").unwrap()
        ));
        assert!(!same_origin(&a, &Url::parse("http://api.test/v1").unwrap()));
    }
}
