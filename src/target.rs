//! What is called, checked before anything is sent: the URL (https, a sane length, DNS name limits) and the
//! header names the key and the request id travel in.

use reqwest::Url;
use reqwest::header::HeaderName;

use crate::environment::{Environment, SERVICE_URL};
use crate::error::Problem;

/// The longest URL accepted; servers refuse longer request lines long before this.
const MAX_URL_LEN: usize = 8192;

/// Reads the URL from `--url` or SERVICE_URL and checks it can be called.
pub fn url(flag: Option<&str>, env: &Environment) -> Result<Url, Problem> {
    if flag.is_none() {
        if let Some(problem) = env.utf8_problem(SERVICE_URL) {
            return Err(problem);
        }
    }
    let (name, text) = match flag {
        Some(text) => ("--url", text),
        None => (
            SERVICE_URL,
            env.get(SERVICE_URL).ok_or_else(|| {
                Problem::new(
                    SERVICE_URL,
                    "is not set (the URL to check); set it or pass --url",
                )
            })?,
        ),
    };
    if text.len() > MAX_URL_LEN {
        return Err(Problem::new(
            name,
            format!(
                "is {} characters long; a URL may be at most {MAX_URL_LEN}",
                text.len()
            ),
        ));
    }
    let url = Url::parse(text.trim()).map_err(|e| {
        Problem::new(
            name,
            format!("is not a valid URL ({e}); write it like https://host/v1/persons"),
        )
    })?;
    if let Some(host) = url.domain() {
        host_problem(host).map_or(Ok(()), |why| Err(Problem::new(name, why)))?;
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" => Err(Problem::new(name, "uses http: mutual TLS needs https://")),
        other => Err(Problem::new(
            name,
            format!("has scheme {other:?}; use https://"),
        )),
    }
}

/// Checks a DNS name's lengths (RFC 1035): at most 253 characters, labels of 1 to 63.
fn host_problem(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.');
    if host.len() > 253 {
        return Some(format!(
            "has a host name of {} characters; at most 253",
            host.len()
        ));
    }
    host.split('.')
        .find(|label| label.is_empty() || label.len() > 63)
        .map(|label| {
            format!(
                "has a host name label of {} characters; labels are 1 to 63",
                label.len()
            )
        })
}

/// Headers with routing or framing meaning: sending a secret in one would break the request or leak it.
const RESERVED_HEADERS: [&str; 12] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "proxy-authorization",
    "proxy-connection",
    "user-agent",
];

/// Parses a header name given on the command line, refusing routing and framing headers.
pub fn header_name(flag: &str, text: &str) -> Result<HeaderName, Problem> {
    let name = HeaderName::from_bytes(text.as_bytes())
        .map_err(|_| Problem::new(flag, "is not a valid HTTP header name"))?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(Problem::new(
            flag,
            format!(
                "names {}, a header with routing or framing meaning; choose the header the API reads",
                name.as_str()
            ),
        ));
    }
    Ok(name)
}
