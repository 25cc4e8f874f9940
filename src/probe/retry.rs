//! Whether a failed attempt is tried again, and after how long: the failure's class, the answer's status, what
//! the server asked for and the run's deadline decide.

use std::time::{Duration, Instant};

use super::Attempt;
use crate::plan::check::RetryPolicy;

/// The longest `Retry-After` honoured when no `--deadline` bounds the run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Decides how long to wait before the next attempt: `Ok(None)` when done, `Err` when retrying must stop early.
pub(super) fn next_wait(
    policy: &RetryPolicy,
    attempt: &Attempt,
    deadline: Option<Instant>,
) -> Result<Option<Duration>, String> {
    let Some(failure) = &attempt.failure else {
        return Ok(None);
    };
    if attempt.number >= policy.attempts {
        return Ok(None);
    }
    if !failure.class.is_retryable() {
        return Err("not retried: waiting cannot heal this".into());
    }
    // A client error says the same on every attempt — but for a timeout (408), too early (425) and too many
    // requests (429), which ask for a later try.
    if let Some(status) = attempt
        .status
        .filter(|s| (400..500).contains(s) && ![408, 425, 429].contains(s))
    {
        return Err(format!(
            "not retried: a {status} is the same on every attempt"
        ));
    }
    let wait = failure.retry_after.unwrap_or(policy.delay);
    let server_asked = failure.retry_after.is_some();
    match deadline {
        Some(deadline)
            if Instant::now()
                .checked_add(wait)
                .is_none_or(|at| at >= deadline) =>
        {
            Err(format!(
                "not retried: waiting {} would pass --deadline",
                crate::duration::human(wait)
            ))
        }
        None if server_asked && wait > MAX_RETRY_AFTER => Err(format!(
            "not retried: the server asked to wait {}",
            crate::duration::human(wait)
        )),
        _ => Ok(Some(wait)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::failure::{Failure, FailureClass};

    fn policy(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            delay: Duration::from_secs(2),
            timeout: Duration::from_secs(30),
            deadline: None,
        }
    }

    fn failed(number: u32, class: FailureClass, status: Option<u16>) -> Attempt {
        Attempt {
            number,
            request_id: "rid".into(),
            status,
            gateway_request_id: None,
            head: Vec::new(),
            latency: Duration::ZERO,
            failure: Some(Failure::new(class, "failed")),
            captured: Vec::new(),
        }
    }

    fn asking(mut attempt: Attempt, wait: Duration) -> Attempt {
        attempt.failure.as_mut().unwrap().retry_after = Some(wait);
        attempt
    }

    const WAIT: Result<Option<Duration>, String> = Ok(Some(Duration::from_secs(2)));

    #[test]
    fn a_pass_or_the_last_attempt_ends_the_check() {
        let mut passed = failed(1, FailureClass::Timeout, None);
        passed.failure = None;
        assert_eq!(next_wait(&policy(3), &passed, None), Ok(None));
        let failure = |n| failed(n, FailureClass::Timeout, None);
        assert_eq!(next_wait(&policy(3), &failure(2), None), WAIT);
        assert_eq!(next_wait(&policy(3), &failure(3), None), Ok(None));
        assert_eq!(next_wait(&policy(3), &failure(4), None), Ok(None));
    }

    #[test]
    fn only_what_waiting_can_heal_is_retried() {
        let retried = [
            FailureClass::Timeout,
            FailureClass::ConnectionRefused,
            FailureClass::GatewayError,
        ];
        for class in retried {
            assert_eq!(
                next_wait(&policy(5), &failed(1, class, None), None),
                WAIT,
                "{class:?}"
            );
        }
        let stopped = [
            FailureClass::GatewayForbidden,
            FailureClass::ClientCertRejected,
            FailureClass::DoorOpen,
        ];
        for class in stopped {
            let told = next_wait(&policy(5), &failed(1, class, None), None).unwrap_err();
            assert_eq!(told, "not retried: waiting cannot heal this", "{class:?}");
        }
    }

    #[test]
    fn a_client_error_is_final_but_for_408_425_and_429() {
        let status = |s| failed(1, FailureClass::UnexpectedStatus, Some(s));
        for s in [400, 404, 422, 499] {
            let told = next_wait(&policy(5), &status(s), None).unwrap_err();
            assert_eq!(
                told,
                format!("not retried: a {s} is the same on every attempt")
            );
        }
        for s in [408, 425, 429, 500, 503, 399] {
            assert_eq!(next_wait(&policy(5), &status(s), None), WAIT, "{s}");
        }
    }

    #[test]
    fn the_server_s_wait_is_taken_up_to_five_minutes_without_a_deadline() {
        let ask = |secs| {
            asking(
                failed(1, FailureClass::UnexpectedStatus, Some(503)),
                Duration::from_secs(secs),
            )
        };
        assert_eq!(
            next_wait(&policy(5), &ask(7), None),
            Ok(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            next_wait(&policy(5), &ask(300), None),
            Ok(Some(MAX_RETRY_AFTER))
        );
        let told = next_wait(&policy(5), &ask(301), None).unwrap_err();
        assert!(
            told.starts_with("not retried: the server asked to wait "),
            "{told}"
        );
        // Our own delay is never refused for its length: only a server's request is.
        let mut long = policy(5);
        long.delay = Duration::from_secs(600);
        let own = failed(1, FailureClass::Timeout, None);
        assert_eq!(next_wait(&long, &own, None), Ok(Some(long.delay)));
    }

    #[test]
    fn a_wait_that_would_pass_the_deadline_stops_the_retries() {
        let attempt = failed(1, FailureClass::Timeout, None);
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(next_wait(&policy(5), &attempt, Some(far)), WAIT);
        let near = Instant::now() + Duration::from_secs(1);
        let told = next_wait(&policy(5), &attempt, Some(near)).unwrap_err();
        assert!(
            told.starts_with("not retried: waiting 2") && told.ends_with("would pass --deadline"),
            "{told}"
        );
        // A deadline bounds the server's wait instead of the five minutes.
        let asked = asking(attempt, Duration::from_secs(400));
        let later = Instant::now() + Duration::from_secs(3600);
        assert_eq!(
            next_wait(&policy(5), &asked, Some(later)),
            Ok(Some(Duration::from_secs(400)))
        );
    }
}
