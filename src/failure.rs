//! Why an attempt failed: sorting transport errors and answers into failure classes, with the API's own
//! words (`userMessage`, a body excerpt) cleaned for printing. Pure: no I/O.

use std::error::Error as _;
use std::time::Duration;

use reqwest::StatusCode;

use crate::assert::Expectations;
use crate::error::FailureClass;
use crate::probe::Answer;
use crate::redact::Redactor;

/// How much of a body a failure shows.
const EXCERPT_CHARS: usize = 200;

/// Why an attempt failed, in words safe to print.
#[derive(Debug, Clone)]
pub struct Failure {
    pub class: FailureClass,
    pub message: String,
    /// The API's own `userMessage`, when the body has one.
    pub user_message: Option<String>,
    /// The start of the body, trimmed and redacted.
    pub excerpt: Option<String>,
    pub(crate) retry_after: Option<Duration>,
}

impl Failure {
    /// Builds a failure of a class with a message.
    pub fn new(class: FailureClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            user_message: None,
            excerpt: None,
            retry_after: None,
        }
    }
}

/// Judges an answer against the expectations; `None` means healthy.
pub fn from_answer(
    expectations: &Expectations,
    redactor: &Redactor,
    answer: &Answer,
) -> Option<Failure> {
    let status = answer.status;
    let text = String::from_utf8_lossy(&answer.body);
    let class = if is_nginx_client_cert_page(status, &text) {
        FailureClass::ClientCertRejected
    } else if !expectations.accepts_status(status.as_u16()) {
        match status {
            StatusCode::UNAUTHORIZED => FailureClass::Unauthorized,
            StatusCode::FORBIDDEN => FailureClass::Forbidden,
            _ => FailureClass::UnexpectedStatus,
        }
    } else {
        let problem = expectations
            .check_body(answer.content_type.as_deref(), &answer.body)
            .err()?;
        return Some(with_body(
            Failure::new(FailureClass::Assertion, redactor.clean(&problem, 300)),
            redactor,
            &text,
        ));
    };
    let message = format!(
        "status {} (expected {})",
        describe(status),
        expectations.statuses()
    );
    let mut failure = with_body(Failure::new(class, message), redactor, &text);
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        failure.retry_after = answer.retry_after.map(|d| d.max(Duration::from_millis(1)));
    }
    Some(failure)
}

/// nginx answers a missing or unverifiable client certificate with a 400 HTML page, not a TLS alert.
fn is_nginx_client_cert_page(status: StatusCode, body: &str) -> bool {
    status == StatusCode::BAD_REQUEST
        && (body.contains("No required SSL certificate was sent")
            || body.contains("The SSL certificate error"))
}

fn describe(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

fn with_body(mut failure: Failure, redactor: &Redactor, body: &str) -> Failure {
    failure.user_message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("userMessage")
                .and_then(|m| m.as_str())
                .map(|m| redactor.clean(m, 300))
        });
    let excerpt = redactor.clean(body, EXCERPT_CHARS);
    failure.excerpt = (!excerpt.is_empty()).then_some(excerpt);
    failure
}

/// Sorts a transport error into a failure class by walking its causes.
pub fn from_transport(error: &reqwest::Error) -> Failure {
    if error.is_timeout() {
        return Failure::new(FailureClass::Timeout, "timed out");
    }
    let mut source = error.source();
    let mut details = Vec::new();
    while let Some(cause) = source {
        if let Some(tls) = tls_cause(cause) {
            return classify_tls(tls);
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionRefused => {
                    return Failure::new(FailureClass::ConnectionRefused, "connection refused");
                }
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    return Failure::new(
                        FailureClass::ConnectionReset,
                        format!("connection closed: {io}"),
                    );
                }
                TimedOut => return Failure::new(FailureClass::Timeout, "timed out"),
                _ => {}
            }
        }
        details.push(cause.to_string());
        source = cause.source();
    }
    let detail = details.last().cloned().unwrap_or_else(|| error.to_string());
    if details
        .iter()
        .any(|d| d.contains("dns error") || d.contains("failed to lookup address"))
    {
        Failure::new(
            FailureClass::Dns,
            format!("the host name did not resolve ({detail})"),
        )
    } else if error.is_connect() {
        Failure::new(
            FailureClass::ConnectionRefused,
            format!("could not connect ({detail})"),
        )
    } else {
        Failure::new(
            FailureClass::ConnectionReset,
            format!("the connection failed before an answer ({detail})"),
        )
    }
}

/// Finds a rustls error behind a cause. io::Error hides its payload from `source()`, and connectors nest
/// io::Errors, so look inside each layer.
fn tls_cause<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: &(dyn std::error::Error + 'static) = cause;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

fn classify_tls(error: &rustls::Error) -> Failure {
    use rustls::AlertDescription as Alert;
    match error {
        rustls::Error::InvalidCertificate(why) => Failure::new(
            FailureClass::ServerCertInvalid,
            format!("the server's certificate was refused: {why}"),
        ),
        rustls::Error::AlertReceived(
            alert @ (Alert::BadCertificate
            | Alert::CertificateRequired
            | Alert::UnknownCA
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::UnsupportedCertificate
            | Alert::AccessDenied
            | Alert::DecryptError),
        ) => Failure::new(
            FailureClass::ClientCertRejected,
            format!("the server refused our client certificate (TLS alert {alert:?})"),
        ),
        other => Failure::new(FailureClass::TlsHandshake, format!("TLS failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_certificate_pages_are_recognised() {
        let page =
            "<html><head><title>400 No required SSL certificate was sent</title></head></html>";
        assert!(is_nginx_client_cert_page(StatusCode::BAD_REQUEST, page));
        assert!(!is_nginx_client_cert_page(StatusCode::OK, page));
        assert!(!is_nginx_client_cert_page(
            StatusCode::BAD_REQUEST,
            "{\"userMessage\":\"bad query\"}"
        ));
    }
}
