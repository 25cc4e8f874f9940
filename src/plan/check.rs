//! One check as plain values, however it was written down — flags and environment, a suite file, the demo:
//! what to send, what counts as the expected answer, and how to retry. Built without clap.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::probe::assert::Expectations;

/// One check.
#[derive(Debug, Clone)]
pub struct Check {
    /// Unique within a run: the JUnit test case name.
    pub name: String,
    pub request: Request,
    pub expectations: Expectations,
    pub retry: RetryPolicy,
    pub follow_redirects: bool,
    pub max_body: u64,
    /// A healthy answer slower than this is a failure.
    pub max_latency: Option<Duration>,
    /// The front door must refuse this request: a refusal passes, a 2xx or 3xx answer is a door left open.
    pub expect_refused: bool,
    /// Who must refuse, and a text the refusal must hold; `None` takes any refusal.
    pub refusal: Option<Refusal>,
    /// Values this check's answer gives later checks: a name and the JSONPath that selects it.
    pub captures: Vec<Capture>,
    /// The checks (by name, earlier in the plan) that must pass before this one runs; when one does not,
    /// this check is skipped, saying why. Includes every check whose capture this one uses.
    pub requires: Vec<String>,
    /// The captured values this check's request uses, as `{name}` in its path, query or body.
    pub uses: Vec<String>,
}

/// The largest body read unless a check says otherwise (`--max-body`, `max_body`).
pub const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;

impl Check {
    /// Builds a GET of a URL with these expectations and retries, and nothing else: no redirects followed, the
    /// default body cap, no latency limit, no locked door, no chain (what `check` and the demo's scenes send).
    pub fn get(name: String, url: Url, expectations: Expectations, retry: RetryPolicy) -> Self {
        Self {
            name,
            request: Request::get(url),
            expectations,
            retry,
            follow_redirects: false,
            max_body: DEFAULT_MAX_BODY,
            max_latency: None,
            expect_refused: false,
            refusal: None,
            captures: Vec::new(),
            requires: Vec::new(),
            uses: Vec::new(),
        }
    }

    /// Returns the check with another request (its captured values filled in).
    pub fn with_request(&self, request: Request) -> Self {
        Self {
            request,
            ..self.clone()
        }
    }
}

/// A value one check's answer gives later checks.
#[derive(Debug, Clone)]
pub struct Capture {
    pub name: String,
    /// The JSONPath as written, for messages.
    pub source: String,
    pub path: serde_json_path::JsonPath,
}

/// Who refuses a request that must stay locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedBy {
    /// The TLS handshake: a client certificate refused by an alert (or nginx's certificate page).
    Tls,
    /// The API gateway: 403 `{"message":"Forbidden"}` or `x-amzn-ErrorType`.
    Gateway,
    /// The application: its 401 or 403, in its own error shape or Spring's.
    Application,
    /// The web application firewall: a 403 page from nginx (ModSecurity at the ingress).
    Waf,
}

impl RefusedBy {
    /// Names who refused, as people say it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tls => "the TLS handshake",
            Self::Gateway => "the API gateway",
            Self::Application => "the application",
            Self::Waf => "the WAF",
        }
    }
}

/// What a refusal must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub by: Option<RefusedBy>,
    /// Text the refusal's body (or, for TLS, its error) must contain.
    pub with: Option<String>,
}

/// What is sent.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    /// Extra headers, never secret ones.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// A GET of a URL with no extra headers.
    pub fn get(url: Url) -> Self {
        Self {
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// How often and how long to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub delay: Duration,
    pub timeout: Duration,
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    /// The old script's rhythm: 5 attempts 10 s apart, 30 s each.
    fn default() -> Self {
        Self {
            attempts: 5,
            delay: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            deadline: None,
        }
    }
}

/// Parses a body limit: `10MiB`, `512KB` or a plain number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|_| {
            format!("{text:?} is not a size; write it like 10MiB, 512KiB or 65536 (bytes)")
        })
}
