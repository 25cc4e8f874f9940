//! The rules of alerting: a check is reported down after `alert_after` failures in a row, reminded about at
//! most once per `remind_every` while it stays down, and reported recovered exactly once, with how long it
//! was down. A check with no verdict this run (skipped, interrupted) changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::probe::CheckResult;

/// What the record keeps of one check (times in seconds since the epoch; no secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Failures in a row, up to this run.
    pub failures: u32,
    /// When the first of those failures was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_since: Option<u64>,
    /// When people were last told it is down (the alert or the last reminder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerted_at: Option<u64>,
}

/// When to tell people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures in a row before the first alert (at least 1).
    pub alert_after: u32,
    /// How often to remind while a check stays down; `None` never reminds.
    pub remind_every: Option<Duration>,
}

/// What this run did to one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Up,
    Down,
    /// Skipped or interrupted: no verdict, no change.
    Unknown,
}

/// What people are told about one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It is down and people have not been told yet; `failures` in a row so far.
    Down { failures: u32 },
    /// It is still down, and the last word was `remind_every` ago or longer.
    StillDown { down_for: Duration },
    /// It answered well again after people were told it was down.
    Recovered { down_for: Duration },
}

/// The changes of one run, by check name, in the run's order.
pub type News = Vec<(String, Change)>;

/// Sorts a result into up, down or no verdict.
pub fn outcome_of(result: &CheckResult) -> Outcome {
    if result.skipped.is_some() {
        return Outcome::Unknown;
    }
    match result.failure() {
        Some(failure)
            if matches!(
                failure.class,
                crate::probe::failure::FailureClass::Interrupted(_)
            ) =>
        {
            Outcome::Unknown
        }
        Some(_) => Outcome::Down,
        None => Outcome::Up,
    }
}

/// Applies one outcome to a check's entry at `now`: the new entry, and what to tell people, if anything.
pub fn step(entry: &Entry, outcome: Outcome, now: u64, policy: Policy) -> (Entry, Option<Change>) {
    let since = |start: Option<u64>| Duration::from_secs(now.saturating_sub(start.unwrap_or(now)));
    match outcome {
        Outcome::Unknown => (entry.clone(), None),
        Outcome::Up => {
            let change = entry.alerted_at.map(|_| Change::Recovered {
                down_for: since(entry.down_since),
            });
            (Entry::default(), change)
        }
        Outcome::Down => {
            let mut next = Entry {
                failures: entry.failures.saturating_add(1),
                down_since: entry.down_since.or(Some(now)),
                alerted_at: entry.alerted_at,
            };
            let change = match entry.alerted_at {
                None if next.failures >= policy.alert_after => Some(Change::Down {
                    failures: next.failures,
                }),
                Some(told) if policy.remind_every.is_some_and(|r| since(Some(told)) >= r) => {
                    Some(Change::StillDown {
                        down_for: since(next.down_since),
                    })
                }
                _ => None,
            };
            if change.is_some() {
                next.alerted_at = Some(now);
            }
            (next, change)
        }
    }
}

/// Applies a run's results to the entries: the new entries (checks not in this run are kept as they were)
/// and the news, in the run's order.
pub fn advance(
    entries: &BTreeMap<String, Entry>,
    results: &[CheckResult],
    now: u64,
    policy: Policy,
) -> (BTreeMap<String, Entry>, News) {
    let mut next = entries.clone();
    let mut news = Vec::new();
    for result in results {
        let key = key(result);
        let entry = entries.get(&key).cloned().unwrap_or_default();
        let (entry, change) = step(&entry, outcome_of(result), now, policy);
        if let Some(change) = change {
            news.push((key.clone(), change));
        }
        next.insert(key, entry);
    }
    (next, news)
}

/// Undoes, in the new entries, the news that could not be told, so the next run tells it: an alert is due
/// again, a reminder keeps its old time, a recovery keeps the check down.
pub fn untold(previous: &BTreeMap<String, Entry>, next: &mut BTreeMap<String, Entry>, news: &News) {
    for (name, change) in news {
        let before = previous.get(name).cloned().unwrap_or_default();
        let Some(entry) = next.get_mut(name) else {
            continue;
        };
        match change {
            Change::Down { .. } => entry.alerted_at = None,
            Change::StillDown { .. } => entry.alerted_at = before.alerted_at,
            Change::Recovered { .. } => *entry = before,
        }
    }
}

/// The name a check is remembered by.
pub fn key(result: &CheckResult) -> String {
    if result.name.is_empty() {
        result.url.clone()
    } else {
        result.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60;

    fn policy(alert_after: u32, remind: Option<u64>) -> Policy {
        Policy {
            alert_after,
            remind_every: remind.map(Duration::from_secs),
        }
    }

    /// Runs outcomes five minutes apart from a fresh entry; returns the changes by run.
    fn run(outcomes: &[Outcome], policy: Policy) -> Vec<Option<Change>> {
        let mut entry = Entry::default();
        outcomes
            .iter()
            .enumerate()
            .map(|(i, outcome)| {
                let (next, change) =
                    step(&entry, *outcome, 1_000_000 + i as u64 * 5 * MINUTE, policy);
                entry = next;
                change
            })
            .collect()
    }

    use Outcome::{Down, Unknown, Up};

    #[test]
    fn the_first_alert_waits_for_alert_after_failures_in_a_row() {
        let changes = run(&[Down, Down, Down], policy(2, None));
        assert_eq!(changes, [None, Some(Change::Down { failures: 2 }), None]);
        let changes = run(&[Down], policy(1, None));
        assert_eq!(changes, [Some(Change::Down { failures: 1 })]);
        // A failure between successes does not count towards the next.
        let changes = run(&[Down, Up, Down, Up], policy(2, None));
        assert_eq!(changes, [None, None, None, None]);
    }

    #[test]
    fn a_reminder_comes_once_per_interval_and_not_before() {
        // Alerted at run 1 (5 min); reminders at ≥ 15 min after the last word.
        let changes = run(
            &[Down, Down, Down, Down, Down, Down],
            policy(2, Some(15 * MINUTE)),
        );
        assert_eq!(changes[1], Some(Change::Down { failures: 2 }));
        assert_eq!(changes[2..4], [None, None]);
        assert_eq!(
            changes[4],
            Some(Change::StillDown {
                down_for: Duration::from_secs(20 * MINUTE)
            })
        );
        assert_eq!(changes[5], None);
        // No interval: never a reminder.
        let changes = run(&[Down; 6], policy(1, None));
        assert_eq!(changes.iter().flatten().count(), 1);
    }

    #[test]
    fn recovery_is_told_once_with_how_long_it_was_down_and_only_after_an_alert() {
        let changes = run(&[Down, Down, Down, Up, Up], policy(2, None));
        assert_eq!(
            changes[3],
            Some(Change::Recovered {
                down_for: Duration::from_secs(15 * MINUTE)
            })
        );
        assert_eq!(changes[4], None);
        // Down once, below the threshold: nobody was told, so nobody hears it recovered.
        assert_eq!(run(&[Down, Up], policy(2, None)), [None, None]);
    }

    #[test]
    fn no_verdict_changes_nothing() {
        let (entry, _) = step(&Entry::default(), Down, 100, policy(3, None));
        let (same, change) = step(&entry, Unknown, 200, policy(3, None));
        assert_eq!((same, change), (entry, None));
        let changes = run(&[Down, Unknown, Down], policy(2, None));
        assert_eq!(changes, [None, None, Some(Change::Down { failures: 2 })]);
    }

    #[test]
    fn news_that_could_not_be_told_is_told_next_run() {
        let p = policy(1, Some(15 * MINUTE));
        let result = |failed: bool| {
            let class = crate::probe::failure::FailureClass::UnexpectedStatus;
            match failed {
                true => crate::probe::sample::failing("prisoner", class, "a 500"),
                false => crate::probe::sample::passing("prisoner"),
            }
        };
        let start = BTreeMap::new();
        // Down, not told: the next failing run alerts again.
        let (mut next, news) = advance(&start, &[result(true)], 1000, p);
        assert_eq!(
            news,
            [("prisoner".to_string(), Change::Down { failures: 1 })]
        );
        untold(&start, &mut next, &news);
        let (told, news) = advance(&next, &[result(true)], 1300, p);
        assert_eq!(
            news,
            [("prisoner".to_string(), Change::Down { failures: 2 })]
        );
        // A reminder not told keeps the old time: due again next run.
        let (mut reminded, news) = advance(&told, &[result(true)], 1300 + 900, p);
        assert!(matches!(news[0].1, Change::StillDown { .. }));
        untold(&told, &mut reminded, &news);
        assert_eq!(reminded["prisoner"].alerted_at, Some(1300));
        // A recovery not told keeps it down: the next healthy run says it recovered.
        let (mut healed, news) = advance(&told, &[result(false)], 2000, p);
        assert!(matches!(news[0].1, Change::Recovered { .. }));
        untold(&told, &mut healed, &news);
        assert_eq!(healed, told);
        let (_, news) = advance(&healed, &[result(false)], 2300, p);
        assert_eq!(
            news,
            [(
                "prisoner".to_string(),
                Change::Recovered {
                    down_for: Duration::from_secs(1300)
                }
            )]
        );
    }

    #[test]
    fn a_check_a_signal_stopped_or_a_requirement_skipped_has_no_verdict() {
        use crate::probe::failure::FailureClass;
        use crate::probe::sample::{failing, passing};
        let stopped = failing(
            "a",
            FailureClass::Interrupted(crate::interrupt::Signal::Terminate),
            "stopped",
        );
        assert_eq!(outcome_of(&stopped), Unknown);
        let mut skipped = passing("a");
        skipped.skipped = Some("needs login".into());
        assert_eq!(outcome_of(&skipped), Unknown);
        assert_eq!(
            outcome_of(&failing("a", FailureClass::Timeout, "slow")),
            Down
        );
        assert_eq!(outcome_of(&passing("a")), Up);
    }

    #[test]
    fn a_clock_that_went_back_never_underflows() {
        let entry = Entry {
            failures: 3,
            down_since: Some(500),
            alerted_at: Some(500),
        };
        let (_, change) = step(&entry, Up, 100, policy(1, None));
        assert_eq!(
            change,
            Some(Change::Recovered {
                down_for: Duration::ZERO
            })
        );
        let (_, change) = step(&entry, Down, 100, policy(1, Some(0)));
        assert_eq!(
            change,
            Some(Change::StillDown {
                down_for: Duration::ZERO
            })
        );
    }
}
