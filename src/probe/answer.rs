//! What a server answered, read safely: the status, the headers a verdict needs (the gateway's request id and
//! error type, `Retry-After`), the response head for `--verbose`, and a body bounded by `--max-body`.

use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Response, StatusCode};

use crate::probe::failure::{Failure, FailureClass};
use crate::redact::Redactor;

/// The header API Gateway puts on every answer: what to search in its CloudWatch logs.
pub const GATEWAY_REQUEST_ID: &str = "x-amzn-requestid";
/// The header API Gateway puts on its own refusals (`ForbiddenException`, …).
pub const GATEWAY_ERROR_TYPE: &str = "x-amzn-errortype";
/// Headers whose values are never shown, even with `--verbose`.
const SECRET_HEADERS: [&str; 5] = [
    "set-cookie",
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];
/// How many response headers `--verbose` keeps, so a hostile server cannot fill memory with them.
const MAX_HEAD_LINES: usize = 64;

/// What the server answered.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub retry_after: Option<Duration>,
    /// `x-amzn-ErrorType`, cleaned for printing.
    pub gateway_error_type: Option<String>,
    /// The headers as received, for the check's header expectations (never printed whole).
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The parts of a response head a verdict needs, read before the body.
pub struct Head {
    pub status: StatusCode,
    pub gateway_request_id: Option<String>,
    pub lines: Vec<String>,
}

impl Head {
    /// Reads the head of a response: status line and headers, cleaned by the redactor.
    pub fn read(response: &Response, redactor: &Redactor) -> Self {
        let headers = response.headers();
        let mut lines = vec![format!(
            "{:?} {}",
            response.version(),
            describe(response.status())
        )];
        lines.extend(
            headers
                .iter()
                .take(MAX_HEAD_LINES)
                .map(|(name, value)| head_line(redactor, name.as_str(), value.as_bytes())),
        );
        Self {
            status: response.status(),
            gateway_request_id: header(headers, GATEWAY_REQUEST_ID, redactor),
            lines,
        }
    }
}

fn head_line(redactor: &Redactor, name: &str, value: &[u8]) -> String {
    let value = if SECRET_HEADERS.contains(&name) {
        crate::redact::REDACTED.to_string()
    } else {
        redactor.clean(&String::from_utf8_lossy(value), 200)
    };
    format!("{name}: {value}")
}

fn header(headers: &HeaderMap, name: &str, redactor: &Redactor) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    let cleaned = redactor.clean(value, 100);
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Describes a status as `403 Forbidden`.
pub fn describe(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// Reads the body in chunks, so memory stays bounded by `max_body` whatever the server sends.
pub async fn read(
    mut response: Response,
    max_body: u64,
    redactor: &Redactor,
) -> Result<Answer, Failure> {
    let head = Head::read(&response, redactor);
    let headers = response.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = text(CONTENT_TYPE);
    let retry_after = text(RETRY_AFTER).and_then(|v| parse_retry_after(&v, SystemTime::now()));
    let gateway_error_type = header(headers, GATEWAY_ERROR_TYPE, redactor);
    let too_large = || {
        Failure::new(
            FailureClass::BodyTooLarge,
            format!("the body is larger than --max-body ({max_body} bytes)"),
        )
        .with_status(head.status.as_u16())
    };
    if response.content_length().is_some_and(|len| len > max_body) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| super::transport::from_transport(&e, None))?
    {
        if body.len() as u64 + chunk.len() as u64 > max_body {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status: head.status,
        content_type,
        retry_after,
        gateway_error_type,
        headers: response.headers().clone(),
        body,
    })
}

/// Reads `Retry-After` as seconds or an HTTP date; absurd values saturate instead of overflowing.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Longer than u64 is still "a very long time", not "no answer".
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    httpdate::parse_http_date(value)
        .ok()
        .map(|at| at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_dates_and_saturates() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn secret_headers_are_never_shown() {
        let redactor = Redactor::new(vec![secrecy::SecretString::from(
            "k3y-sentinel".to_string(),
        )]);
        assert_eq!(
            head_line(&redactor, "set-cookie", b"session=abc"),
            "set-cookie: [redacted]"
        );
        assert_eq!(
            head_line(&redactor, "x-echo", b"got k3y-sentinel"),
            "x-echo: got [redacted]"
        );
    }

    fn response(body: &'static str, length: Option<&str>) -> Response {
        let mut builder = http::Response::builder()
            .status(503)
            .header("x-amzn-ErrorType", "  ")
            .header(RETRY_AFTER, "7");
        if let Some(length) = length {
            builder = builder.header("content-length", length);
        }
        Response::from(builder.body(body).unwrap())
    }

    fn read_now(response: Response, max_body: u64) -> Result<Answer, Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(read(response, max_body, &Redactor::new(Vec::new())))
    }

    #[test]
    fn a_body_of_max_body_is_read_and_one_byte_more_is_too_large() {
        let answer = read_now(response("0123456789", None), 10).unwrap();
        assert_eq!(answer.body, b"0123456789");
        assert_eq!(answer.retry_after, Some(Duration::from_secs(7)));
        // A header that cleans to nothing is no header.
        assert_eq!(answer.gateway_error_type, None);
        let failure = read_now(response("0123456789", None), 9).err().unwrap();
        assert_eq!(failure.class, FailureClass::BodyTooLarge);
        assert_eq!(failure.status, Some(503));
        // A Content-Length past the bound is refused before reading; one at the bound is read.
        let failure = read_now(response("0123456789", Some("10")), 9)
            .err()
            .unwrap();
        assert_eq!(
            failure.message,
            "the body is larger than --max-body (9 bytes)"
        );
        assert!(read_now(response("0123456789", Some("10")), 10).is_ok());
        assert_eq!(describe(StatusCode::FORBIDDEN), "403 Forbidden");
        assert_eq!(describe(StatusCode::from_u16(599).unwrap()), "599");
    }
}
