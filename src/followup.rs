//! What a run does after its verdict, in this order: the metrics file (local), then — on the network, each
//! bounded — the notification (as the state file's rules decide), the state, the Pushgateway and the dead
//! man's switch. None of it changes the verdict: what fails is a warning. A run a signal stopped has no
//! verdict and does none of it.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use secrecy::SecretString;

use crate::delivery::Delivery;
use crate::error::ExitCode;
use crate::notify::{Notifier, Report};
use crate::probe::CheckResult;
use crate::redact::Redactor;
use crate::state::Policy;

/// Where the state between runs is kept, and the rules it serves.
pub struct StateFile {
    pub path: PathBuf,
    pub policy: Policy,
}

/// Everything asked for after the verdict, validated before any request was made.
#[derive(Default)]
pub struct Followup {
    /// The name messages, pings and pushes give the run.
    pub name: String,
    pub notifier: Option<Notifier>,
    pub state: Option<StateFile>,
    pub ping: Option<SecretString>,
    /// Ping `URL/start` before the checks.
    pub ping_start: bool,
    pub metrics: Option<PathBuf>,
    pub push: Option<SecretString>,
}

/// What the run found, for what follows it.
pub struct Verdict<'a> {
    pub results: &'a [CheckResult],
    pub code: ExitCode,
    pub elapsed: Duration,
    /// Each consumer's name and its client certificate's last valid second.
    pub certificates: Vec<(String, i64)>,
    pub result_json: &'a str,
    pub redactor: &'a Redactor,
}

impl Followup {
    /// Tells whether anything after the verdict goes over the network.
    pub fn sends(&self) -> bool {
        self.notifier.is_some() || self.ping.is_some() || self.push.is_some()
    }

    /// Pings `URL/start` when asked; returns a warning when it could not.
    pub async fn start(&self, delivery: &Delivery) -> Option<String> {
        let base = self.ping.as_ref().filter(|_| self.ping_start)?;
        let summary = format!("heartbeat {}: starting", self.name);
        crate::ping::send(delivery, base, crate::ping::Signal::Start, summary)
            .await
            .err()
            .map(|why| format!("the start ping was not sent ({why})"))
    }

    /// Writes the metrics file; returns a warning when it could not.
    pub fn write_metrics(&self, verdict: &Verdict<'_>, now: SystemTime) -> Option<String> {
        let path = self.metrics.as_ref()?;
        let text = metrics_text(verdict, now);
        crate::metrics::write(path, &text).err().map(|error| {
            format!(
                "the metrics file {} was not written ({error})",
                path.display()
            )
        })
    }

    /// Does the network part, in order; returns the warnings.
    pub async fn finish(
        &self,
        delivery: Option<&Delivery>,
        verdict: &Verdict<'_>,
        now: SystemTime,
    ) -> Vec<String> {
        let mut warnings = Vec::new();
        let seconds = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Without a state file every failing check is news, every run: what a stateless run can say.
        let (path, policy) = match &self.state {
            Some(state) => (Some(&state.path), state.policy),
            None => (
                None,
                Policy {
                    alert_after: 1,
                    remind_every: Some(Duration::ZERO),
                },
            ),
        };
        let (mut record, warning) = match path {
            Some(path) => crate::state::load(path),
            None => Default::default(),
        };
        warnings.extend(warning);
        let (mut next, news) =
            crate::state::advance(&record.checks, verdict.results, seconds, policy);
        if let (Some(notifier), Some(delivery)) = (&self.notifier, delivery) {
            let report = Report {
                results: verdict.results,
                code: verdict.code,
                news: &news,
                remembered: path.is_some(),
                result_json: verdict.result_json,
                redactor: verdict.redactor,
            };
            let sent = notifier.notify(delivery, &report).await;
            if !sent.delivered {
                crate::state::untold(&record.checks, &mut next, &news);
            }
            warnings.extend(sent.warnings);
        }
        if let Some(path) = path {
            record.checks = next;
            if let Err(error) = crate::state::save(path, &record) {
                warnings.push(format!(
                    "the state file {} was not written ({error})",
                    path.display()
                ));
            }
        }
        let Some(delivery) = delivery else {
            return warnings;
        };
        if let Some(base) = &self.push {
            let text = metrics_text(verdict, now);
            if let Err(why) = crate::metrics::push(delivery, base, &self.name, text).await {
                warnings.push(format!("the metrics were not pushed ({why})"));
            }
        }
        if let Some(base) = &self.ping {
            let signal = match verdict.code {
                ExitCode::Healthy => crate::ping::Signal::Success,
                _ => crate::ping::Signal::Fail,
            };
            let failed = verdict
                .results
                .iter()
                .filter(|r| r.failure().is_some())
                .count();
            let summary = format!(
                "heartbeat {}: exit {}, {failed} of {} checks failed",
                self.name,
                verdict.code.code(),
                verdict.results.len()
            );
            if let Err(why) = crate::ping::send(delivery, base, signal, summary).await {
                warnings.push(format!("the ping was not sent ({why})"));
            }
        }
        warnings
    }
}

fn metrics_text(verdict: &Verdict<'_>, now: SystemTime) -> String {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let text = crate::metrics::text(&crate::metrics::Run {
        results: verdict.results,
        certificates: verdict.certificates.clone(),
        code: verdict.code,
        elapsed: verdict.elapsed,
        now,
    });
    // Defence in depth: labels are names, but a name could hold a secret by mistake.
    verdict.redactor.redact(&text)
}
