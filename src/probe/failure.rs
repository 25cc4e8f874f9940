//! Why an attempt failed: the failure classes (each with its exit code, hint and whether waiting can heal it)
//! and the `Failure` value the reports print. Sorting answers and errors into classes lives in `classify`.

use std::time::Duration;

use crate::error::ExitCode;

/// Why one attempt at the API failed. The class decides the exit code, the hint and whether waiting can heal it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    UnexpectedStatus,
    Unauthorized,
    /// A 403 whose origin cannot be told: the gateway's or the application's.
    Forbidden,
    /// The API gateway refused the request (API key or client certificate) before the application saw it.
    GatewayForbidden,
    /// The application refused this consumer (the certificate's CN) for this path.
    ConsumerForbidden,
    /// The gateway got no good answer from the application in time (502, 504 in the gateway's shape).
    GatewayError,
    Assertion,
    Redirect,
    BodyTooLarge,
    ClientCertRejected,
    ServerCertInvalid,
    TlsHandshake,
    Dns,
    ConnectionRefused,
    ConnectionReset,
    Timeout,
    /// The proxy in HTTPS_PROXY refused the tunnel or could not be reached.
    Proxy,
    /// A request that must be refused got a 2xx or 3xx answer: a security regression.
    DoorOpen,
    /// A locked door held, but refused by someone else, or for another reason, than the check names.
    WrongRefusal,
    /// A healthy answer slower than `max_latency`.
    TooSlow,
    /// The run was stopped by a signal before this check ended.
    Interrupted(crate::interrupt::Signal),
}

impl FailureClass {
    /// Names the class in JSON and JUnit output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnexpectedStatus => "unexpected_status",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::GatewayForbidden => "gateway_forbidden",
            Self::ConsumerForbidden => "consumer_forbidden",
            Self::GatewayError => "gateway_error",
            Self::Assertion => "assertion",
            Self::Redirect => "redirect",
            Self::BodyTooLarge => "body_too_large",
            Self::ClientCertRejected => "client_certificate_rejected",
            Self::ServerCertInvalid => "server_certificate_invalid",
            Self::TlsHandshake => "tls_handshake",
            Self::Dns => "dns",
            Self::ConnectionRefused => "connection_refused",
            Self::ConnectionReset => "connection_reset",
            Self::Timeout => "timeout",
            Self::Proxy => "proxy",
            Self::DoorOpen => "door_open",
            Self::WrongRefusal => "wrong_refusal",
            Self::TooSlow => "too_slow",
            Self::Interrupted(_) => "interrupted",
        }
    }

    /// Maps the class to the process exit code.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::ClientCertRejected | Self::ServerCertInvalid | Self::TlsHandshake => {
                ExitCode::Tls
            }
            Self::Dns
            | Self::ConnectionRefused
            | Self::ConnectionReset
            | Self::Timeout
            | Self::Proxy => ExitCode::NoAnswer,
            Self::DoorOpen => ExitCode::DoorOpen,
            Self::Interrupted(signal) => signal.exit_code(),
            _ => ExitCode::Unhealthy,
        }
    }

    /// Tells whether another attempt could succeed; credentials and certificates do not heal by waiting.
    pub fn is_retryable(self) -> bool {
        !matches!(
            self,
            Self::Unauthorized
                | Self::Forbidden
                | Self::GatewayForbidden
                | Self::ConsumerForbidden
                | Self::ClientCertRejected
                | Self::ServerCertInvalid
                | Self::Redirect
                | Self::DoorOpen
                | Self::WrongRefusal
                | Self::Interrupted(_)
        )
    }

    /// Gives the one-line hint printed under a failed verdict.
    pub fn hint(self) -> &'static str {
        match self {
            Self::UnexpectedStatus => {
                "the API answered with an unexpected status: search its logs (Sentry) for the request id"
            }
            Self::Unauthorized => {
                "the API did not accept the API key: check API_KEY belongs to this environment"
            }
            Self::Forbidden => {
                "access was refused: from the API gateway a 403 means the API key or the client certificate was refused; from the application it means the certificate's CN may not call this path (application-<env>.yml)"
            }
            Self::GatewayForbidden => {
                "the API gateway refused the request before it reached the application: check the API key (API_KEY wrong, missing, or not in the environment's usage plan) and the client certificate (issuer not in the gateway's truststore, self-signed, expired or revoked); the gateway request id finds it in the gateway's logs"
            }
            Self::ConsumerForbidden => {
                "the application refused this consumer for this path: add the path to the allow-list of the certificate's CN (authorisation.consumers.<CN>.include in application-<env>.yml), or point SERVICE_URL at a path it may call"
            }
            Self::GatewayError => {
                "the API gateway did not get a good answer from the application in time: search the gateway's logs for the gateway request id, and Sentry for the request id"
            }
            Self::Assertion => {
                "the API answered but not with the expected content: compare the body with --expect-json/--expect-body"
            }
            Self::Redirect => {
                "the API redirected: point SERVICE_URL at the final address, or pass --follow-redirects (same origin only)"
            }
            Self::BodyTooLarge => {
                "the answer is larger than --max-body: raise the limit or check a smaller resource"
            }
            Self::ClientCertRejected => {
                "the server did not accept the client certificate: check MTLS_CERT is signed by this environment's CA and not expired"
            }
            Self::ServerCertInvalid => {
                "the server's certificate is not trusted or not valid for this host: check SERVICE_URL, or set SERVICE_CA_CERT to the server's private CA"
            }
            Self::TlsHandshake => {
                "the TLS handshake failed: check the server speaks TLS 1.2 or 1.3 on this port"
            }
            Self::Dns => "the host name did not resolve: check SERVICE_URL",
            Self::ConnectionRefused => {
                "nothing accepted the connection: check SERVICE_URL's host and port, and that the service is up"
            }
            Self::ConnectionReset => {
                "the connection was closed before an answer: check the service and any proxy in front of it"
            }
            Self::Timeout => {
                "no answer in time: the service may be down or slow; raise --timeout if it is known to be slow"
            }
            Self::Proxy => {
                "the proxy, not SERVICE_URL, refused or could not be reached: check HTTPS_PROXY (and NO_PROXY for hosts to reach directly)"
            }
            Self::DoorOpen => {
                "a door that must stay locked was open: check the gateway's mutual TLS and API key settings and the consumer's allow-list now"
            }
            Self::WrongRefusal => {
                "the door held, but not for the reason the check names: the rule it tests (revocation, suspension, the WAF, a role) may be off while another refused in its place"
            }
            Self::Interrupted(_) => {
                "the run was stopped (Ctrl-C, a cancelled job, a pod being stopped); what finished is reported above"
            }
            Self::TooSlow => {
                "the answer was right but slow: check the service's latency, or raise max_latency if this is its normal pace"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FailureClass::*;
    use super::*;
    use crate::interrupt::Signal;

    /// Every class: its name in reports, its exit code and whether waiting can heal it.
    const TABLE: [(FailureClass, &str, ExitCode, bool); 22] = [
        (
            UnexpectedStatus,
            "unexpected_status",
            ExitCode::Unhealthy,
            true,
        ),
        (Unauthorized, "unauthorized", ExitCode::Unhealthy, false),
        (Forbidden, "forbidden", ExitCode::Unhealthy, false),
        (
            GatewayForbidden,
            "gateway_forbidden",
            ExitCode::Unhealthy,
            false,
        ),
        (
            ConsumerForbidden,
            "consumer_forbidden",
            ExitCode::Unhealthy,
            false,
        ),
        (GatewayError, "gateway_error", ExitCode::Unhealthy, true),
        (Assertion, "assertion", ExitCode::Unhealthy, true),
        (Redirect, "redirect", ExitCode::Unhealthy, false),
        (BodyTooLarge, "body_too_large", ExitCode::Unhealthy, true),
        (
            ClientCertRejected,
            "client_certificate_rejected",
            ExitCode::Tls,
            false,
        ),
        (
            ServerCertInvalid,
            "server_certificate_invalid",
            ExitCode::Tls,
            false,
        ),
        (TlsHandshake, "tls_handshake", ExitCode::Tls, true),
        (Dns, "dns", ExitCode::NoAnswer, true),
        (
            ConnectionRefused,
            "connection_refused",
            ExitCode::NoAnswer,
            true,
        ),
        (
            ConnectionReset,
            "connection_reset",
            ExitCode::NoAnswer,
            true,
        ),
        (Timeout, "timeout", ExitCode::NoAnswer, true),
        (Proxy, "proxy", ExitCode::NoAnswer, true),
        (DoorOpen, "door_open", ExitCode::DoorOpen, false),
        (WrongRefusal, "wrong_refusal", ExitCode::Unhealthy, false),
        (TooSlow, "too_slow", ExitCode::Unhealthy, true),
        (
            Interrupted(Signal::Interrupt),
            "interrupted",
            ExitCode::Interrupted,
            false,
        ),
        (
            Interrupted(Signal::Terminate),
            "interrupted",
            ExitCode::Terminated,
            false,
        ),
    ];

    #[test]
    fn each_class_has_its_name_exit_code_and_retry_rule() {
        for (class, name, code, retryable) in TABLE {
            assert_eq!(class.as_str(), name);
            assert_eq!(class.exit_code(), code, "{class:?}");
            assert_eq!(class.is_retryable(), retryable, "{class:?}");
        }
    }

    #[test]
    fn each_class_has_a_hint_of_its_own() {
        // The two signals share the one hint of an interrupted run.
        let mut hints: Vec<&str> = TABLE[..21].iter().map(|(class, ..)| class.hint()).collect();
        assert!(hints.iter().all(|h| h.len() > 40), "{hints:?}");
        hints.sort_unstable();
        hints.dedup();
        assert_eq!(hints.len(), 21, "two classes share a hint");
        assert!(ClientCertRejected.hint().contains("MTLS_CERT"));
        assert!(Dns.hint().contains("did not resolve"));
    }
}

/// Why an attempt failed, in words safe to print.
#[derive(Debug, Clone)]
pub struct Failure {
    pub class: FailureClass,
    pub message: String,
    /// The status of an answer that failed before its body was judged (a redirect, a body too large).
    pub status: Option<u16>,
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
            status: None,
            user_message: None,
            excerpt: None,
            retry_after: None,
        }
    }

    /// Records the status of the answer that failed.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}
