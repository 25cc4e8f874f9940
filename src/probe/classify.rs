//! Sorts answers into failure classes: by status and by who gave them (the API gateway in front, or the
//! application behind it). Pure: no I/O. Transport errors are `transport`'s; locked doors are `refusal`'s.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

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

/// nginx answers a missing or unverifiable client certificate with a 400 HTML page, not a TLS alert.
pub(super) fn is_nginx_client_cert_page(status: StatusCode, body: &str) -> bool {
    status == StatusCode::BAD_REQUEST
        && (body.contains("No required SSL certificate was sent")
            || body.contains("The SSL certificate error"))
}

pub(super) fn with_body(mut failure: Failure, redactor: &Redactor, body: &str) -> Failure {
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
pub(super) mod tests {
    use super::*;

    /// An answer with a status, perhaps the gateway's error type, and a body.
    pub(in crate::probe) fn answer(status: u16, error_type: Option<&str>, body: &str) -> Answer {
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
    fn who_answered_is_told_only_from_a_whole_shape() {
        let of = |body: &str| origin(&answer(403, None, body));
        assert_eq!(
            of(r#"{"timestamp":1,"status":403,"error":"Forbidden"}"#),
            Origin::Application
        );
        assert_eq!(of(r#"{"timestamp":1,"status":403}"#), Origin::Unknown);
        assert_eq!(of(r#"{"status":403,"error":"Forbidden"}"#), Origin::Unknown);
        assert_eq!(of(r#"{"developerMessage":"x"}"#), Origin::Application);
        assert_eq!(of(r#"{"message":"Forbidden"}"#), Origin::Gateway);
        assert_eq!(of(r#"{"message":"Forbidden","path":"/"}"#), Origin::Unknown);
        assert_eq!(of(r#"{"message":403}"#), Origin::Unknown);
        assert_eq!(of("[1]"), Origin::Unknown);
        assert_eq!(origin(&answer(500, Some("x"), "")), Origin::Gateway);
    }

    #[test]
    fn an_accepted_status_is_still_judged_on_what_it_is() {
        // nginx's certificate page is a refused certificate even where 400 is accepted.
        let expectations = Expectations::new(&[400], &[], &[]).unwrap();
        let page = answer(
            400,
            None,
            "<title>400 No required SSL certificate was sent</title>",
        );
        let failure = from_answer(&expectations, &Redactor::default(), &page).unwrap();
        assert_eq!(failure.class, FailureClass::ClientCertRejected);
        // An empty 204 has nothing to assert on; a 204 with a body is held to the body's expectations.
        let expectations = Expectations::new(&[204], &[], &[]).unwrap();
        assert!(from_answer(&expectations, &Redactor::default(), &answer(204, None, "")).is_none());
        let with_body = from_answer(
            &expectations,
            &Redactor::default(),
            &answer(204, None, "{}"),
        );
        assert_eq!(with_body.unwrap().class, FailureClass::Assertion);
        assert_eq!(
            class_of(&answer(401, None, GATEWAY_BODY)),
            FailureClass::Unauthorized
        );
    }

    const GATEWAY_BODY: &str = r#"{"message":"Unauthorized"}"#;

    #[test]
    fn a_message_is_the_applications_words_only_in_springs_whole_shape() {
        let words = |body: &str| {
            with_body(
                Failure::new(FailureClass::Forbidden, "x"),
                &Redactor::default(),
                body,
            )
            .user_message
        };
        let spring = r#"{"timestamp":"t","error":"Forbidden","message":"Access suspended"}"#;
        assert_eq!(words(spring).as_deref(), Some("Access suspended"));
        for partial in [
            r#"{"timestamp":"t","message":"Access suspended"}"#,
            r#"{"error":"Forbidden","message":"Access suspended"}"#,
        ] {
            assert_eq!(words(partial), None, "{partial}");
        }
        let own = r#"{"userMessage":"No person found","message":"ignored"}"#;
        assert_eq!(words(own).as_deref(), Some("No person found"));
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
