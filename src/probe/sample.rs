//! Results made by hand, for the unit tests of what reads them (state, notifications, metrics).

use std::time::Duration;

use super::failure::{Failure, FailureClass};
use super::{Attempt, CheckResult};

/// A passing check of one attempt.
pub(crate) fn passing(name: &str) -> CheckResult {
    CheckResult {
        name: name.to_string(),
        consumer: None,
        method: "GET".to_string(),
        url: "https://api.example/v1/status".to_string(),
        attempts: vec![Attempt {
            number: 1,
            request_id: "rid-1".to_string(),
            status: Some(200),
            gateway_request_id: None,
            head: Vec::new(),
            latency: Duration::from_millis(12),
            failure: None,
            captured: Vec::new(),
        }],
        max_attempts: 1,
        elapsed: Duration::from_millis(12),
        cert_days_left: None,
        stopped: None,
        skipped: None,
    }
}

/// A check whose one attempt failed with a class and a message.
pub(crate) fn failing(name: &str, class: FailureClass, message: &str) -> CheckResult {
    let mut result = passing(name);
    result.attempts[0].status = Some(500);
    result.attempts[0].failure = Some(Failure::new(class, message));
    result
}
