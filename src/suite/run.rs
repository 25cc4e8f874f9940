//! Runs a planned suite: checks concurrently (at most `concurrency` in flight), one keep-alive connection
//! pool per consumer, a fresh connection for every check of a door that must stay locked, and each result
//! handed on as it finishes. A failed check never stops the others.

use std::time::Duration;

use futures_util::StreamExt as _;

use super::plan::Suite;
use crate::probe::{self, Attempt, Caller, CheckResult};
use crate::redact::Redactor;

/// How long a pooled client waits to connect; each attempt's own timeout bounds it further.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The attempts each check (by its index) has finished so far: what an interrupted run still reports.
pub type Progress = std::cell::RefCell<Vec<Vec<Attempt>>>;

/// Runs every check, recording each attempt in `progress` and calling `on_done` as each check finishes;
/// returns the results in the file's order.
pub async fn run(
    suite: &Suite,
    redactor: &Redactor,
    progress: &Progress,
    on_done: &mut dyn FnMut(&CheckResult),
) -> Vec<CheckResult> {
    let pools: Vec<reqwest::Client> = suite
        .consumers
        .iter()
        .map(|consumer| consumer.client(true, CONNECT_TIMEOUT))
        .collect();
    let tasks = suite.checks.iter().enumerate().map(|(index, planned)| {
        let consumer = &suite.consumers[planned.consumer];
        let pool = &pools[planned.consumer];
        async move {
            // A locked door is tried as a stranger would: a new connection, never a pooled one.
            let fresh = planned
                .check
                .expect_refused
                .then(|| consumer.client(false, planned.check.retry.timeout));
            let caller = Caller {
                consumer,
                client: fresh.as_ref().unwrap_or(pool),
                redactor,
            };
            let mut record = |attempt: &Attempt, _| {
                if let Some(attempts) = progress.borrow_mut().get_mut(index) {
                    attempts.push(attempt.clone());
                }
            };
            let result = probe::run(&planned.check, &caller, &mut record).await;
            (index, result)
        }
    });
    let mut finished = futures_util::stream::iter(tasks).buffer_unordered(suite.concurrency.max(1));
    let mut results: Vec<Option<CheckResult>> = vec![None; suite.checks.len()];
    while let Some((index, result)) = finished.next().await {
        on_done(&result);
        results[index] = Some(result);
    }
    results.into_iter().flatten().collect()
}
