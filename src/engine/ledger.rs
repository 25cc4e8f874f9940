//! What the checks of a run know of each other while it runs: which have finished, whether they passed, and the
//! values they captured. A check that requires others waits here for them; when one did not pass, it is
//! skipped with the reason. Requirements always come earlier in the plan, so the checks started first never
//! wait on later ones and the concurrency limit cannot deadlock.

use std::cell::RefCell;
use std::collections::HashMap;

use tokio::sync::Notify;

use crate::plan::Plan;
use crate::plan::check::Check;
use crate::probe::CheckResult;

/// How a finished check ended, for the checks that require it.
struct Done {
    /// Why it did not pass; `None` when it passed.
    why_not: Option<String>,
    captured: Vec<(String, String)>,
}

/// The finished checks of a run, by index.
pub(super) struct Ledger<'p> {
    index: HashMap<&'p str, usize>,
    done: RefCell<Vec<Option<Done>>>,
    changed: Notify,
}

impl<'p> Ledger<'p> {
    /// Starts an empty ledger for the plan's checks.
    pub fn new(plan: &'p Plan) -> Self {
        let index = plan
            .checks
            .iter()
            .enumerate()
            .map(|(i, p)| (p.check.name.as_str(), i))
            .collect();
        Self {
            index,
            done: RefCell::new((0..plan.checks.len()).map(|_| None).collect()),
            changed: Notify::new(),
        }
    }

    /// Waits until every check `check` requires has finished; returns the values they captured, or why
    /// `check` is skipped.
    pub async fn wait(&self, check: &Check) -> Result<HashMap<String, String>, String> {
        // Each requirement with its index, kept together so a name is never paired with another's index.
        let required: Vec<(usize, &str)> = check
            .requires
            .iter()
            .filter_map(|name| self.index.get(name.as_str()).map(|&i| (i, name.as_str())))
            .collect();
        loop {
            // Registered before looking, so a check that finishes in between still wakes this one.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(outcome) = self.look(&required) {
                return outcome;
            }
            changed.await;
        }
    }

    /// Looks at the required checks: `None` while one is still running.
    fn look(&self, required: &[(usize, &str)]) -> Option<Result<HashMap<String, String>, String>> {
        let done = self.done.borrow();
        let mut values = HashMap::new();
        for &(index, name) in required {
            let finished = done.get(index)?.as_ref()?;
            if let Some(why) = &finished.why_not {
                return Some(Err(format!("requires {name:?}, which {why}")));
            }
            values.extend(finished.captured.iter().cloned());
        }
        Some(Ok(values))
    }

    /// Records how a check ended and wakes the checks waiting on it.
    pub fn record(&self, index: usize, result: &CheckResult) {
        let why_not = match (&result.skipped, result.failure()) {
            (Some(_), _) => Some("was skipped".to_string()),
            (None, Some(failure)) => Some(format!("failed ({})", failure.message)),
            (None, None) => None,
        };
        let captured = result
            .attempts
            .last()
            .map(|a| a.captured.clone())
            .unwrap_or_default();
        if let Some(slot) = self.done.borrow_mut().get_mut(index) {
            *slot = Some(Done { why_not, captured });
        }
        self.changed.notify_waiters();
    }
}
