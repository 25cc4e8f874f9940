//! Sorts answers into failure classes: by status and by who gave them (the API gateway in front, or the
//! application behind it), and decides what counts as a refusal. Pure: no I/O. Transport errors are `transport`'s.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::plan::check::{Refusal, RefusedBy};
use crate::probe::answer::{Answer, describe};
use crate::probe::assert::Expectations;
use crate::probe::failure::{Failure, FailureClass};
use crate::redact::Redactor;

/// How much of a body a failure shows.
const EXCERPT_CHARS: usize = 200;

/// Who gave an answer, told by its headers and the shape of its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// AWS API Gateway: `x-amzn-ErrorType`, or a body that is only `{"message": …}`.
    Gateway,
    /// The Integration API: its error shape (`userMessage`, `developerMessage`, …) or Spring Boot's default one.
    Application,
    Unknown,
}

/// Tells who gave the answer.
pub fn origin(answer: &Answer) -> Origin {
    if answer.gateway_error_type.is_some() {
        return Origin::Gateway;
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&answer.body) else {
        return Origin::Unknown;
    };
    let has = |key: &str| body.contains_key(key);
    if ["userMessage", "developerMessage", "errorCode", "moreInfo"]
        .iter()
        .any(|k| has(k))
        || (has("timestamp") && has("status") && has("error"))
    {
        Origin::Application
    } else if body.len() == 1 && body.get("message").is_some_and(Value::is_string) {
        Origin::Gateway
    } else {
        Origin::Unknown
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
    if expectations.accepts_status(status.as_u16()) && !is_nginx_client_cert_page(status, &text) {
        // A 204 or 304 has no body to assert on.
        if matches!(status.as_u16(), 204 | 304) && answer.body.is_empty() {
            return None;
        }
        let problem = expectations
            .check_headers(&answer.headers)
            .and_then(|()| expectations.check_body(answer.content_type.as_deref(), &answer.body))
            .err()?;
        return Some(with_body(
            Failure::new(FailureClass::Assertion, redactor.clean(&problem, 300)),
            redactor,
            &text,
        ));
    }
    let origin = origin(answer);
    let class = status_class(status, origin, &text);
    let from = match origin {
        Origin::Gateway => " from the API gateway",
        Origin::Application => " from the application",
        Origin::Unknown => "",
    };
    let message = format!(
        "status {}{from} (expected {})",
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

fn status_class(status: StatusCode, origin: Origin, body: &str) -> FailureClass {
    match (status, origin) {
        _ if is_nginx_client_cert_page(status, body) => FailureClass::ClientCertRejected,
        (StatusCode::UNAUTHORIZED, _) => FailureClass::Unauthorized,
        (StatusCode::FORBIDDEN, Origin::Gateway) => FailureClass::GatewayForbidden,
        (StatusCode::FORBIDDEN, Origin::Application) => FailureClass::ConsumerForbidden,
        (StatusCode::FORBIDDEN, Origin::Unknown) => FailureClass::Forbidden,
        (StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT, Origin::Gateway) => {
            FailureClass::GatewayError
        }
        _ => FailureClass::UnexpectedStatus,
    }
}

/// The statuses by which a front door refuses: a bad request (nginx's certificate pages), unauthenticated,
/// forbidden, and nginx's 495/496 for certificate errors.
const REFUSALS: [u16; 5] = [400, 401, 403, 495, 496];

/// Judges a request that must be refused: a TLS alert about our client certificate or a refusal status
/// passes; a 2xx or 3xx answer is a door left open; anything else fails with its own class, since it proves
/// nothing — a port that speaks no TLS (a handshake failure of another kind), a reset, no answer, a 500. When
/// the check names who must refuse (or a text the refusal must hold), a refusal by anyone else fails too,
/// naming both.
pub fn refusal(
    redactor: &Redactor,
    rule: Option<&Refusal>,
    outcome: &Result<Answer, Failure>,
) -> Option<Failure> {
    let status = match outcome {
        Err(failure) if failure.status.is_none() => {
            return match failure.class {
                FailureClass::ClientCertRejected => {
                    reason(rule, RefusedBy::Tls, &failure.message, redactor)
                }
                _ => Some(failure.clone()),
            };
        }
        Err(failure) => failure.status.unwrap_or_default(),
        Ok(answer) => answer.status.as_u16(),
    };
    let text = match outcome {
        Ok(answer) => String::from_utf8_lossy(&answer.body).into_owned(),
        Err(_) => String::new(),
    };
    if REFUSALS.contains(&status) {
        let by = match outcome {
            Ok(answer) => refused_by(answer, &text),
            // A refusal status with a failure (a body over the cap): who cannot be told.
            Err(_) => None,
        };
        return match by {
            Some(by) => reason(rule, by, &text, redactor),
            None if rule.is_some_and(|r| r.by.is_some() || r.with.is_some()) => Some(
                with_body(
                    Failure::new(
                        FailureClass::WrongRefusal,
                        format!(
                            "status {status}, but from someone it cannot tell (expected {})",
                            expected(rule)
                        ),
                    ),
                    redactor,
                    &text,
                )
                .with_status(status),
            ),
            None => None,
        }
        .map(|f| f.with_status(status));
    }
    let class = if (200..400).contains(&status) {
        FailureClass::DoorOpen
    } else {
        FailureClass::UnexpectedStatus
    };
    let message = format!(
        "status {} where the front door must refuse (a TLS alert refusing the certificate, or 400, 401, 403, 495, 496)",
        reqwest::StatusCode::from_u16(status).map_or(status.to_string(), describe)
    );
    Some(with_body(Failure::new(class, message), redactor, &text).with_status(status))
}

/// Tells who refused an answer with a refusal status.
fn refused_by(answer: &Answer, text: &str) -> Option<RefusedBy> {
    if is_nginx_client_cert_page(answer.status, text) {
        return Some(RefusedBy::Tls);
    }
    match origin(answer) {
        Origin::Gateway => Some(RefusedBy::Gateway),
        Origin::Application => Some(RefusedBy::Application),
        Origin::Unknown if answer.status == StatusCode::FORBIDDEN && text.contains("nginx") => {
            Some(RefusedBy::Waf)
        }
        Origin::Unknown => None,
    }
}

/// Holds a refusal by `by`, whose words are `text`, to the check's rule: `None` when it is the refusal wanted.
fn reason(
    rule: Option<&Refusal>,
    by: RefusedBy,
    text: &str,
    redactor: &Redactor,
) -> Option<Failure> {
    let rule = rule?;
    let right_party = rule.by.is_none_or(|want| want == by);
    let right_words = rule
        .with
        .as_ref()
        .is_none_or(|words| text.contains(words.as_str()));
    if right_party && right_words {
        return None;
    }
    let saw = match redactor.clean(text, 120) {
        words if words.is_empty() => String::new(),
        words => format!(": {words}"),
    };
    let message = format!(
        "refused by {}{saw} (expected {})",
        by.name(),
        expected(Some(rule))
    );
    Some(with_body(
        Failure::new(FailureClass::WrongRefusal, message),
        redactor,
        text,
    ))
}

/// Describes the refusal a check wants: who, and with which words.
fn expected(rule: Option<&Refusal>) -> String {
    let who = rule
        .and_then(|r| r.by)
        .map_or("a refusal".to_string(), |by| {
            format!("refused by {}", by.name())
        });
    match rule.and_then(|r| r.with.as_deref()) {
        Some(words) => format!("{who} with {words:?}"),
        None => who,
    }
}

/// nginx answers a missing or unverifiable client certificate with a 400 HTML page, not a TLS alert.
fn is_nginx_client_cert_page(status: StatusCode, body: &str) -> bool {
    status == StatusCode::BAD_REQUEST
        && (body.contains("No required SSL certificate was sent")
            || body.contains("The SSL certificate error"))
}

fn with_body(mut failure: Failure, redactor: &Redactor, body: &str) -> Failure {
    // The application's own words: `userMessage`, or the `message` of Spring's error body (what its
    // authorisation filter sends: "Access suspended", "… has been revoked").
    failure.user_message = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        let spring = v.get("timestamp").is_some() && v.get("error").is_some();
        v.get("userMessage")
            .or_else(|| v.get("message").filter(|_| spring))
            .and_then(|m| m.as_str())
            .map(|m| redactor.clean(m, 300))
    });
    let excerpt = redactor.clean(body, EXCERPT_CHARS);
    failure.excerpt = (!excerpt.is_empty()).then_some(excerpt);
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, error_type: Option<&str>, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            content_type: Some("application/json".into()),
            retry_after: None,
            gateway_error_type: error_type.map(str::to_string),
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn class_of(answer: &Answer) -> FailureClass {
        let expectations = Expectations::new(&[200], &[], &[]).unwrap();
        from_answer(&expectations, &Redactor::default(), answer)
            .unwrap()
            .class
    }

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

    #[test]
    fn a_403_is_told_apart_by_who_gave_it() {
        let gateway = r#"{"message":"Forbidden"}"#;
        assert_eq!(
            class_of(&answer(403, Some("ForbiddenException"), gateway)),
            FailureClass::GatewayForbidden
        );
        assert_eq!(
            class_of(&answer(403, None, gateway)),
            FailureClass::GatewayForbidden
        );
        let application = r#"{"status":403,"errorCode":null,"userMessage":"no","developerMessage":"no","moreInfo":null}"#;
        assert_eq!(
            class_of(&answer(403, None, application)),
            FailureClass::ConsumerForbidden
        );
        let spring = r#"{"timestamp":"2026-01-01T00:00:00Z","status":403,"error":"Forbidden","path":"/v1/x"}"#;
        assert_eq!(
            class_of(&answer(403, None, spring)),
            FailureClass::ConsumerForbidden
        );
        assert_eq!(
            class_of(&answer(403, None, "<html>no</html>")),
            FailureClass::Forbidden
        );
    }

    #[test]
    fn gateway_timeouts_are_the_gateways_and_retried() {
        let timeout = answer(504, None, r#"{"message": "Endpoint request timed out"}"#);
        assert_eq!(class_of(&timeout), FailureClass::GatewayError);
        assert!(FailureClass::GatewayError.is_retryable());
        let app_500 = answer(504, None, r#"{"status":504,"userMessage":"upstream"}"#);
        assert_eq!(class_of(&app_500), FailureClass::UnexpectedStatus);
    }
}
