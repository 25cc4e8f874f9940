//! Sending to receivers other than the API — Slack, webhooks, a dead man's switch, a Pushgateway: one bounded
//! HTTP client for them all. Their URLs and tokens are secrets: every error names the kind of failure only,
//! never the URL, and a send never follows a redirect to another origin.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};

use crate::environment::Environment;
use crate::error::Problem;

/// How long one send may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `Retry-After` a rate-limited send waits out before its one retry.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How much of an answer's body is read (Slack's `{"ok": …}` is small).
const MAX_ANSWER: usize = 64 * 1024;

/// What a send asks for.
pub struct Message<'a> {
    pub method: reqwest::Method,
    pub url: &'a SecretString,
    pub content_type: &'static str,
    pub body: String,
    /// A bearer token for the `Authorization` header (Slack's bot token).
    pub bearer: Option<&'a SecretString>,
}

/// The receiver's answer to a send.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    /// The answer when it is a 2xx; otherwise why not, naming who answered ("the Pushgateway answered 400").
    pub fn accepted(self, who: &str) -> Result<Self, String> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(format!("{who} answered {}", self.status))
        }
    }
}

/// One HTTP client for everything a run sends after its verdict.
pub struct Delivery {
    client: reqwest::Client,
}

impl Delivery {
    /// Builds the client: the public roots, no proxy, no redirects, the timeout.
    pub fn new() -> Result<Self, String> {
        let roots = crate::tls::identity::root_store("receiver", &[]).map_err(|p| p.message)?;
        let tls = crate::tls::identity::client_config(roots, None);
        let client = reqwest::Client::builder()
            .no_proxy()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(concat!("heartbeat/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| "no HTTP client".to_string())?;
        Ok(Self { client })
    }

    /// Sends a message; a 429 with a short enough `Retry-After` is waited out and tried once more. Any answer
    /// is returned (the caller judges it); the error says only what kind of failure it was.
    pub async fn send(&self, message: &Message<'_>) -> Result<Answer, String> {
        let first = self.once(message).await?;
        match first {
            Sent::Done(answer) => Ok(answer),
            Sent::Limited(asked) => {
                let wait = worth_waiting(asked).ok_or_else(|| limited(asked))?;
                tokio::time::sleep(wait).await;
                match self.once(message).await? {
                    Sent::Done(answer) => Ok(answer),
                    Sent::Limited(_) => Err("the receiver rate-limited it twice (429)".to_string()),
                }
            }
        }
    }

    async fn once(&self, message: &Message<'_>) -> Result<Sent, String> {
        let mut request = self
            .client
            .request(message.method.clone(), message.url.expose_secret())
            .header(CONTENT_TYPE, message.content_type)
            .body(message.body.clone());
        if let Some(token) = message.bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| "the token is not a valid header value".to_string())?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        if status == 429 {
            let wait = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(retry_after);
            return Ok(Sent::Limited(wait));
        }
        let body = read_capped(response).await;
        Ok(Sent::Done(Answer { status, body }))
    }
}

enum Sent {
    Done(Answer),
    Limited(Option<Duration>),
}

/// The wait a rate-limited send waits out before its one retry: what `Retry-After` asked, when it asked for at
/// most `MAX_RETRY_AFTER`. No `Retry-After`, or a longer one, is not worth waiting for.
fn worth_waiting(asked: Option<Duration>) -> Option<Duration> {
    asked.filter(|wait| *wait <= MAX_RETRY_AFTER)
}

/// Says why a rate-limited send was given up.
fn limited(asked: Option<Duration>) -> String {
    let asked = asked.map_or("no Retry-After".to_string(), |w| {
        format!("a wait of {} s", w.as_secs())
    });
    format!(
        "the receiver rate-limited it (429) and asked for {asked}, not within the {} s heartbeat waits",
        MAX_RETRY_AFTER.as_secs()
    )
}

/// Reads `Retry-After` in seconds (the form Slack sends); a date or garbage is no answer.
pub fn retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Reads at most `MAX_ANSWER` bytes of the answer, lossily.
async fn read_capped(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ANSWER {
            body.truncate(MAX_ANSWER);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Names the kind of failure: reqwest's own messages would include the (secret) URL.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        "the receiver could not be reached".to_string()
    } else {
        "the request failed".to_string()
    }
}

/// Reads a receiver's URL, a secret, from a variable (or a flag's value given under that name): it must be
/// https, or http to a loopback address (for tests and local stand-ins).
pub fn secret_url(env: &Environment, variable: &'static str) -> Result<SecretString, Problem> {
    if let Some(problem) = env.utf8_problem(variable) {
        return Err(problem);
    }
    let value = env.get(variable).ok_or_else(|| {
        Problem::new(
            variable,
            "is not set; it holds the receiver's URL (a secret: never printed)",
        )
    })?;
    checked_url(variable, value)
}

/// Checks a receiver's URL: https, or http to a loopback address. The value is never quoted back.
pub fn checked_url(input: &str, value: &str) -> Result<SecretString, Problem> {
    let url = Url::parse(value.trim())
        .map_err(|_| Problem::new(input, "is not a URL (the value is not shown)"))?;
    match url.scheme() {
        "https" => Ok(SecretString::from(value.trim().to_string())),
        "http" if is_loopback(&url) => Ok(SecretString::from(value.trim().to_string())),
        _ => Err(Problem::new(
            input,
            "must be an https:// URL (http only to a loopback address)",
        )),
    }
}

/// Tells whether a URL points at this machine.
pub fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_only() {
        assert_eq!(retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after("-1"), None);
    }

    #[test]
    fn only_a_2xx_is_accepted() {
        let answer = |status| Answer {
            status,
            body: String::new(),
        };
        assert!(answer(200).accepted("x").is_ok() && answer(299).accepted("x").is_ok());
        assert_eq!(
            answer(199).accepted("the receiver").unwrap_err(),
            "the receiver answered 199"
        );
        assert_eq!(
            answer(300).accepted("the receiver").unwrap_err(),
            "the receiver answered 300"
        );
    }

    #[test]
    fn a_rate_limit_is_waited_out_up_to_five_seconds_only() {
        let s = Duration::from_secs;
        assert_eq!(worth_waiting(Some(s(5))), Some(s(5)));
        assert_eq!(worth_waiting(Some(s(0))), Some(s(0)));
        assert_eq!(worth_waiting(Some(s(6))), None);
        assert_eq!(worth_waiting(None), None);
        assert!(limited(Some(s(600))).contains("a wait of 600 s"));
        assert!(limited(None).contains("no Retry-After"));
    }

    #[test]
    fn urls_must_be_https_or_loopback_http() {
        assert!(checked_url("X", "https://hooks.example/a").is_ok());
        assert!(checked_url("X", "http://127.0.0.1:9/a").is_ok());
        assert!(checked_url("X", "http://[::1]:9/a").is_ok());
        assert!(checked_url("X", "http://localhost/a").is_ok());
        let remote = checked_url("X", "http://hooks.example/SECRET").unwrap_err();
        assert!(!remote.message.contains("SECRET"));
        let broken = checked_url("X", "not a url SECRET").unwrap_err();
        assert!(!broken.message.contains("SECRET"));
        assert!(checked_url("X", "ftp://127.0.0.1/a").is_err());
    }
}
