//! One check as plain values, however it was written down — flags and environment, a suite file, the demo:
//! what to send, what counts as the expected answer, and how to retry. Built without clap.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::probe::assert::Expectations;

/// One check.
#[derive(Debug)]
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
