//! Deciding whether a run's news is worth a message, and sending one message per target. The URLs and tokens
//! were read and checked before any request was made; here they are only used.

use serde_json::Value;

use super::slack::Story;
use super::target::{self, Target};
use crate::delivery::{Delivery, Message};
use crate::environment::Environment;
use crate::error::{ExitCode, Problem};
use crate::probe::CheckResult;
use crate::redact::Redactor;
use crate::state::News;

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Slack: a bot token (SLACK_BOT_TOKEN, SLACK_CHANNEL) or an incoming webhook (SLACK_WEBHOOK_URL).
    Slack,
    /// The JSON result POSTed to HEARTBEAT_WEBHOOK_URL.
    Webhook,
}

/// When to notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// When there is news: a check down (after `--alert-after`), a reminder, a recovery.
    Failure,
    /// After every run.
    Always,
}

/// What the user asked for, before the environment is read.
#[derive(Debug, Clone)]
pub struct Request {
    pub targets: Vec<Kind>,
    pub on: On,
}

/// What a run gives the notifier.
pub struct Report<'a> {
    pub results: &'a [CheckResult],
    pub code: ExitCode,
    pub news: &'a News,
    /// Whether the news comes from a state file (so "went down" is known, not assumed).
    pub remembered: bool,
    pub result_json: &'a str,
    pub redactor: &'a Redactor,
}

/// Where and when to notify, validated before anything is sent.
pub struct Notifier {
    targets: Vec<Target>,
    on: On,
    name: String,
    run_link: Option<String>,
}

/// What sending did.
pub struct Sent {
    /// One line per message that could not be sent.
    pub warnings: Vec<String>,
    /// Whether every target that was due got its message (a state records news only then).
    pub delivered: bool,
}

impl Notifier {
    /// Reads the targets from the environment; `Ok(None)` when no `--notify` was given.
    pub fn load(
        request: &Request,
        env: &Environment,
        name: &str,
    ) -> Result<Option<Self>, Vec<Problem>> {
        if request.targets.is_empty() {
            return Ok(None);
        }
        let mut targets = Vec::new();
        let mut problems = Vec::new();
        for kind in &request.targets {
            let loaded = match kind {
                Kind::Slack => target::slack(env),
                Kind::Webhook => target::webhook(env),
            };
            match loaded {
                Ok(target) => targets.push(target),
                Err(found) => problems.extend(found),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Some(Self {
            targets,
            on: request.on,
            name: name.to_string(),
            run_link: run_link(env),
        }))
    }

    /// Tells whether this run calls for a message: always when asked, otherwise when there is news.
    pub fn due(&self, news: &News) -> bool {
        self.on == On::Always || !news.is_empty()
    }

    /// Sends one message per target when the run calls for it.
    pub async fn notify(&self, delivery: &Delivery, report: &Report<'_>) -> Sent {
        let mut sent = Sent {
            warnings: Vec::new(),
            delivered: true,
        };
        if !self.due(report.news) {
            return sent;
        }
        let story = Story {
            name: &self.name,
            link: self.run_link.as_deref(),
            results: report.results,
            code: report.code,
            news: report.news,
            remembered: report.remembered,
        };
        for target in &self.targets {
            let (json, redactor) = (report.result_json, report.redactor);
            if let Err(why) = send(delivery, target, &story, json, redactor).await {
                sent.warnings
                    .push(format!("{} was not sent ({why})", target.describe()));
                sent.delivered = false;
            }
        }
        sent
    }
}

impl Notifier {
    /// Sends a message that is not about checks (`cert watch`'s day): Slack gets the lines, a webhook the JSON.
    pub async fn announce(
        &self,
        delivery: &Delivery,
        good: bool,
        summary: &str,
        lines: &[String],
        json: &str,
    ) -> Sent {
        let mut sent = Sent {
            warnings: Vec::new(),
            delivered: true,
        };
        let slack =
            super::slack::announcement(&self.name, self.run_link.as_deref(), good, summary, lines);
        for target in &self.targets {
            let body = match target {
                Target::Webhook(_) => json.to_string(),
                _ => slack.to_string(),
            };
            if let Err(why) = post(delivery, target, body).await {
                sent.warnings
                    .push(format!("{} was not sent ({why})", target.describe()));
                sent.delivered = false;
            }
        }
        sent
    }
}

/// Sends the message a target takes, and judges the answer: Slack's API says `{"ok": false}` in a 200.
async fn send(
    delivery: &Delivery,
    target: &Target,
    story: &Story<'_>,
    result_json: &str,
    redactor: &Redactor,
) -> Result<(), String> {
    let body = match target {
        Target::Webhook(_) => result_json.to_string(),
        _ => super::slack::message(story).to_string(),
    };
    // Defence in depth: everything in the message already passed the redactor; once more, whole.
    post(delivery, target, redactor.redact(&body)).await
}

/// Posts a body to a target (Slack's API gets the channel added) and judges the answer: Slack's API says
/// `{"ok": false}` in a 200.
async fn post(delivery: &Delivery, target: &Target, body: String) -> Result<(), String> {
    let (url, bearer, body) = match target {
        Target::SlackApi {
            endpoint,
            token,
            channel,
        } => {
            let mut message: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            message["channel"] = Value::String(channel.clone());
            (endpoint, Some(token), message.to_string())
        }
        Target::SlackWebhook(url) | Target::Webhook(url) => (url, None, body),
    };
    let message = Message {
        method: reqwest::Method::POST,
        url,
        content_type: "application/json; charset=utf-8",
        body,
        bearer,
    };
    let answer = delivery.send(&message).await?.accepted("the receiver")?;
    if matches!(target, Target::SlackApi { .. }) {
        return slack_ok(&answer.body);
    }
    Ok(())
}

/// Reads Slack's verdict on a `chat.postMessage`: `ok: true`, or the error code it gives (a short word,
/// shown only when it looks like one).
fn slack_ok(body: &str) -> Result<(), String> {
    let answer: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if answer.get("ok") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    let error = answer
        .get("error")
        .and_then(Value::as_str)
        .filter(|e| e.len() <= 64 && e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    Err(match error {
        Some(error) => format!("Slack answered ok: false, error {error}"),
        None => "Slack did not answer ok: true".to_string(),
    })
}

/// The link to the run that sent the message: CircleCI's build, GitHub's run, or the Kubernetes pod.
fn run_link(env: &Environment) -> Option<String> {
    if let Some(url) = env.get("CIRCLE_BUILD_URL") {
        return Some(url.to_string());
    }
    if let (Some(server), Some(repo), Some(run)) = (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    ) {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    env.get("KUBERNETES_SERVICE_HOST")
        .and(env.get("HOSTNAME"))
        .map(|pod| format!("Kubernetes pod {pod}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_ok_false_in_a_200_is_a_failure_and_its_code_is_shown_only_when_plain() {
        assert!(slack_ok(r#"{"ok": true, "ts": "1"}"#).is_ok());
        let why = slack_ok(r#"{"ok": false, "error": "channel_not_found"}"#).unwrap_err();
        assert!(why.contains("channel_not_found"), "{why}");
        let why = slack_ok(r#"{"ok": false, "error": "<!channel> SENTINEL"}"#).unwrap_err();
        assert!(!why.contains("SENTINEL"), "{why}");
        assert!(slack_ok("not json").is_err());
        assert!(slack_ok(r#"{"ok": "true"}"#).is_err());
    }

    #[test]
    fn a_message_is_due_on_news_or_always() {
        let notifier = |on| Notifier {
            targets: Vec::new(),
            on,
            name: String::new(),
            run_link: None,
        };
        let quiet: News = Vec::new();
        let news: News = vec![("a".to_string(), crate::state::Change::Down { failures: 1 })];
        assert!(!notifier(On::Failure).due(&quiet));
        assert!(notifier(On::Failure).due(&news));
        assert!(notifier(On::Always).due(&quiet));
    }

    #[test]
    fn the_link_names_the_run_where_it_ran() {
        let link = |pairs: &[(&str, &str)]| {
            run_link(&Environment::from_pairs(
                pairs.iter().map(|(k, v)| (*k, v.to_string())),
            ))
        };
        let github = [
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "org/repo"),
            ("GITHUB_RUN_ID", "42"),
        ];
        assert_eq!(
            link(&github).as_deref(),
            Some("https://github.com/org/repo/actions/runs/42")
        );
        assert_eq!(link(&github[..2]), None, "a run id is needed");
        let circle = [("CIRCLE_BUILD_URL", "https://circleci.com/gh/o/r/7")];
        assert_eq!(link(&circle).as_deref(), Some(circle[0].1));
        let pod = [
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("HOSTNAME", "heartbeat-29000-x"),
        ];
        assert_eq!(
            link(&pod).as_deref(),
            Some("Kubernetes pod heartbeat-29000-x")
        );
        assert_eq!(link(&pod[1..]), None, "a hostname alone is not a pod");
        assert_eq!(link(&[]), None);
    }
}
