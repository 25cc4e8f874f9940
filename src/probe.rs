//! One check: the request a real consumer makes, retries, timing and the verdict of each attempt. Returns
//! data and reports progress through a callback; it never prints.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode, Url};
use secrecy::ExposeSecret;

use crate::config::CheckConfig;
use crate::error::{ExitCode, FailureClass};
use crate::failure::{self, Failure};
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
    let deadline = config.retry.deadline.map(|d| started + d);
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
        Some(deadline) if Instant::now() + wait >= deadline => Err(format!(
            "not retried: waiting {} would pass --deadline",
            humantime::format_duration(wait)
        )),
        None if server_asked && wait > MAX_RETRY_AFTER => Err(format!(
            "not retried: the server asked to wait {}",
            humantime::format_duration(wait)
        )),
        _ => Ok(Some(wait)),
    }
}

fn client(config: &CheckConfig) -> Client {
    let tls = identity::client_config(config.roots.clone(), &config.identity);
    Client::builder()
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
    let outcome = tokio::time::timeout(budget, exchange(client, config, &request_id)).await;
    let latency = started.elapsed();
    let (status, failure) = match outcome {
        Err(_) => (
            None,
            Some(Failure::new(
                FailureClass::Timeout,
                format!(
                    "no complete answer within {}",
                    humantime::format_duration(budget)
                ),
            )),
        ),
        Ok(Err(failure)) => (None, Some(failure)),
        Ok(Ok(answer)) => (
            Some(answer.status.as_u16()),
            failure::from_answer(&config.expectations, redactor, &answer),
        ),
    };
    // Messages can carry server text (a Location, an error's detail): clean them like any server text.
    let failure = failure.map(|f| Failure {
        message: redactor.clean(&f.message, 500),
        ..f
    });
    Attempt {
        number,
        request_id,
        status,
        latency,
        failure,
    }
}

/// What the server answered.
pub struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

async fn exchange(
    client: &Client,
    config: &CheckConfig,
    request_id: &str,
) -> Result<Answer, Failure> {
    let mut api_key = HeaderValue::from_str(config.api_key.expose_secret())
        .expect("CheckConfig::load refuses an API_KEY that is not a header value");
    api_key.set_sensitive(true);
    let mut url = config.url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let response = client
            .get(url.clone())
            .header(&config.api_key_header, api_key.clone())
            .header(&config.request_id_header, request_id)
            .send()
            .await
            .map_err(|e| failure::from_transport(&e))?;
        let status = response.status();
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
                format!("redirected ({status}) to {next} {why}"),
            ));
        }
        return read_answer(response, config.max_body).await;
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
    })?;
    url.join(location).map_err(|_| {
        Failure::new(
            FailureClass::Redirect,
            format!("redirected ({status}) to an invalid Location"),
        )
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Reads the body in chunks, so memory stays bounded by `max_body` whatever the server sends.
async fn read_answer(mut response: Response, max_body: u64) -> Result<Answer, Failure> {
    let status = response.status();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(CONTENT_TYPE);
    let retry_after = header(RETRY_AFTER).and_then(|v| parse_retry_after(&v));
    let too_large = || {
        Failure::new(
            FailureClass::BodyTooLarge,
            format!("the body is larger than --max-body ({max_body} bytes)"),
        )
    };
    if response.content_length().is_some_and(|len| len > max_body) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failure::from_transport(&e))?
    {
        if body.len() as u64 + chunk.len() as u64 > max_body {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        content_type,
        retry_after,
        body,
    })
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    match value.trim().parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => httpdate::parse_http_date(value.trim()).ok().map(|at| {
            at.duration_since(std::time::SystemTime::now())
                .unwrap_or_default()
        }),
    }
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

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
