//! Sorts a transport error — no connection, no TLS, no answer in time — into a failure class by walking its
//! causes, so a user reads "the server's certificate is not trusted", not a library's chain of errors. Pure.

use std::error::Error as _;

use super::failure::{Failure, FailureClass};

/// Sorts a transport error into a failure class by walking its causes. With a proxy in use, a failure to
/// connect is the proxy's: it is what refused or could not be reached.
pub fn from_transport(error: &reqwest::Error, proxy: Option<&str>) -> Failure {
    if error.is_timeout() {
        return Failure::new(FailureClass::Timeout, "timed out");
    }
    let mut source = error.source();
    let mut details = Vec::new();
    let mut found = None;
    while let Some(cause) = source {
        if let Some(tls) = tls_cause(cause) {
            return classify_tls(tls);
        }
        if found.is_none() {
            found = io_failure(cause);
        }
        details.push(without_links(&cause.to_string()));
        source = cause.source();
    }
    let detail = details.last().cloned().unwrap_or_else(|| error.to_string());
    if let Some(proxy) = proxy.filter(|_| error.is_connect()) {
        return Failure::new(
            FailureClass::Proxy,
            format!("the proxy {proxy} (HTTPS_PROXY) refused or could not be reached ({detail})"),
        );
    }
    if let Some(failure) = found {
        return failure;
    }
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

/// Drops library documentation links from an error's text: an operator needs what happened, not a manual.
fn without_links(text: &str) -> String {
    let kept: Vec<&str> = text
        .split_whitespace()
        .filter(|word| !word.starts_with("http://") && !word.starts_with("https://"))
        .collect();
    kept.join(" ")
        .trim_end_matches([':', ';', ',', ' '])
        .to_string()
}

fn io_failure(cause: &(dyn std::error::Error + 'static)) -> Option<Failure> {
    use std::io::ErrorKind::*;
    let io = cause.downcast_ref::<std::io::Error>()?;
    match io.kind() {
        ConnectionRefused => Some(Failure::new(
            FailureClass::ConnectionRefused,
            "connection refused",
        )),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Some(Failure::new(
            FailureClass::ConnectionReset,
            format!("connection closed: {}", without_links(&io.to_string())),
        )),
        TimedOut => Some(Failure::new(FailureClass::Timeout, "timed out")),
        _ => None,
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
    fn documentation_links_are_dropped_from_error_text() {
        let text = "peer closed connection without sending TLS close_notify: https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof";
        assert_eq!(
            without_links(text),
            "peer closed connection without sending TLS close_notify"
        );
    }

    #[test]
    fn an_io_error_names_what_happened_to_the_connection() {
        use std::io::{Error, ErrorKind};
        let class = |kind: ErrorKind| io_failure(&Error::from(kind)).map(|f| f.class);
        assert_eq!(
            class(ErrorKind::ConnectionRefused),
            Some(FailureClass::ConnectionRefused)
        );
        for closed in [
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
            ErrorKind::BrokenPipe,
            ErrorKind::UnexpectedEof,
        ] {
            assert_eq!(
                class(closed),
                Some(FailureClass::ConnectionReset),
                "{closed:?}"
            );
        }
        assert_eq!(class(ErrorKind::TimedOut), Some(FailureClass::Timeout));
        assert_eq!(class(ErrorKind::PermissionDenied), None);
        let eof = Error::new(ErrorKind::UnexpectedEof, "peer closed: https://docs.rs/x");
        assert_eq!(
            io_failure(&eof).unwrap().message,
            "connection closed: peer closed"
        );
        // Not an io::Error at all: nothing to say here.
        let other = std::fmt::Error;
        assert!(io_failure(&other).is_none());
    }
}
