//! Judges a request that must be refused (a locked door): who refused, with which words, and whether that is
//! the refusal the check wants. Pure: no I/O.

use reqwest::StatusCode;

use super::classify::{Origin, is_nginx_client_cert_page, origin, with_body};
use crate::plan::check::{Refusal, RefusedBy};
use crate::probe::answer::{Answer, describe};
use crate::probe::failure::{Failure, FailureClass};
use crate::redact::Redactor;

/// The statuses by which a front door refuses: a bad request (nginx's certificate pages), unauthenticated,
/// forbidden, and nginx's 495/496 for certificate errors.
const REFUSALS: [u16; 5] = [400, 401, 403, 495, 496];

/// Judges a request that must be refused: a TLS alert about our client certificate or a refusal status
/// passes; a 2xx or 3xx answer is a door left open; anything else fails with its own class, since it proves
/// nothing — a port that speaks no TLS (a handshake failure of another kind), a reset, no answer, a 500. When
/// the check names who must refuse (or a text the refusal must hold), a refusal by anyone else fails too,
/// naming both.
pub fn judge(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::classify::tests::answer;

    const GATEWAY: &str = r#"{"message":"Forbidden"}"#;
    const SUSPENDED: &str = r#"{"timestamp":"2026-01-01T00:00:00Z","status":403,"error":"Forbidden","message":"Access suspended"}"#;
    const WAF: &str = "<html><center>403 Forbidden</center><hr><center>nginx</center></html>";
    const NGINX_CERT: &str = "<html><title>400 No required SSL certificate was sent</title></html>";

    fn rule(by: Option<RefusedBy>, with: Option<&str>) -> Refusal {
        Refusal {
            by,
            with: with.map(str::to_string),
        }
    }

    fn judged(rule: Option<&Refusal>, outcome: Result<Answer, Failure>) -> Option<Failure> {
        judge(&Redactor::default(), rule, &outcome)
    }

    fn held(rule: Option<&Refusal>, outcome: Result<Answer, Failure>) -> bool {
        judged(rule, outcome).is_none()
    }

    fn tls_alert() -> Result<Answer, Failure> {
        Err(Failure::new(
            FailureClass::ClientCertRejected,
            "certificate required",
        ))
    }

    #[test]
    fn each_refuser_is_told_and_held_to_the_rule_both_ways() {
        use RefusedBy::*;
        let cases: [(Result<Answer, Failure>, RefusedBy); 5] = [
            (tls_alert(), Tls),
            (Ok(answer(400, None, NGINX_CERT)), Tls),
            (Ok(answer(403, None, GATEWAY)), Gateway),
            (Ok(answer(403, None, SUSPENDED)), Application),
            (Ok(answer(403, None, WAF)), Waf),
        ];
        for (outcome, by) in cases {
            let again = || match &outcome {
                Ok(a) => Ok(answer(
                    a.status.as_u16(),
                    None,
                    std::str::from_utf8(&a.body).unwrap(),
                )),
                Err(f) => Err(f.clone()),
            };
            assert!(held(None, again()), "any refusal holds: {by:?}");
            assert!(held(Some(&rule(Some(by), None)), again()), "{by:?}");
            for other in [Tls, Gateway, Application, Waf]
                .into_iter()
                .filter(|o| *o != by)
            {
                let failure = judged(Some(&rule(Some(other), None)), again()).unwrap();
                assert_eq!(failure.class, FailureClass::WrongRefusal);
                assert!(
                    failure
                        .message
                        .starts_with(&format!("refused by {}", by.name())),
                    "{}",
                    failure.message
                );
                assert!(
                    failure
                        .message
                        .ends_with(&format!("(expected refused by {})", other.name())),
                    "{}",
                    failure.message
                );
            }
        }
    }

    #[test]
    fn the_refusal_s_words_must_be_the_ones_named() {
        let app = Some(RefusedBy::Application);
        assert!(held(
            Some(&rule(app, Some("suspended"))),
            Ok(answer(403, None, SUSPENDED))
        ));
        assert!(held(
            Some(&rule(None, Some("suspended"))),
            Ok(answer(403, None, SUSPENDED))
        ));
        let failure = judged(
            Some(&rule(app, Some("revoked"))),
            Ok(answer(403, None, SUSPENDED)),
        )
        .unwrap();
        assert_eq!(failure.class, FailureClass::WrongRefusal);
        assert!(
            failure
                .message
                .ends_with("(expected refused by the application with \"revoked\")"),
            "{}",
            failure.message
        );
        assert_eq!(failure.status, Some(403));
        assert_eq!(failure.user_message.as_deref(), Some("Access suspended"));
        assert!(
            failure.message.starts_with("refused by the application: {"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("Access suspended"),
            "{}",
            failure.message
        );
        // A refusal without words says who, and nothing more.
        let silent = Ok(answer(403, Some("ForbiddenException"), ""));
        let failure = judged(Some(&rule(app, None)), silent).unwrap();
        assert_eq!(
            failure.message,
            "refused by the API gateway (expected refused by the application)"
        );
        let tls = Some(RefusedBy::Tls);
        assert!(held(Some(&rule(tls, Some("required"))), tls_alert()));
        assert!(!held(Some(&rule(tls, Some("expired"))), tls_alert()));
    }

    #[test]
    fn an_open_door_a_failure_and_an_unknown_refuser_are_told_apart() {
        for status in [200, 204, 302, 399] {
            let failure = judged(None, Ok(answer(status, None, "{}"))).unwrap();
            assert_eq!(
                (failure.class, failure.status),
                (FailureClass::DoorOpen, Some(status))
            );
        }
        for status in [400, 401, 403, 495, 496] {
            assert!(
                held(None, Ok(answer(status, None, "<html>no</html>"))),
                "{status}"
            );
        }
        for status in [404, 429, 500, 502] {
            let failure = judged(None, Ok(answer(status, None, "{}"))).unwrap();
            assert_eq!(failure.class, FailureClass::UnexpectedStatus, "{status}");
        }
        // A timeout or a reset proves nothing about the door: it fails as itself.
        let timeout = Err(Failure::new(FailureClass::Timeout, "timed out"));
        assert_eq!(judged(None, timeout).unwrap().class, FailureClass::Timeout);
        // A refusal whose refuser cannot be told holds only when the check names nobody.
        let unknown = || Ok(answer(403, None, "<html>no</html>"));
        assert!(held(None, unknown()));
        assert!(held(Some(&rule(None, None)), unknown()));
        let failure = judged(Some(&rule(Some(RefusedBy::Gateway), None)), unknown()).unwrap();
        assert_eq!(failure.class, FailureClass::WrongRefusal);
        assert!(
            failure
                .message
                .starts_with("status 403, but from someone it cannot tell"),
            "{}",
            failure.message
        );
        let failure = judged(Some(&rule(None, Some("x"))), unknown()).unwrap();
        assert_eq!(failure.class, FailureClass::WrongRefusal);
        // A refusal status whose body was too large: who refused cannot be told either.
        let large = || Err(Failure::new(FailureClass::BodyTooLarge, "too large").with_status(403));
        assert!(held(None, large()));
        assert_eq!(
            judged(Some(&rule(Some(RefusedBy::Waf), None)), large())
                .unwrap()
                .class,
            FailureClass::WrongRefusal
        );
        let large_ok = Err(Failure::new(FailureClass::BodyTooLarge, "too large").with_status(200));
        assert_eq!(
            judged(None, large_ok).unwrap().class,
            FailureClass::DoorOpen
        );
    }
}
