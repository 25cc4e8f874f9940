//! Telling people: after a check or a suite, one message to Slack (an incoming webhook) or any webhook (the
//! JSON result), on failure or always. A notification never changes the verdict: if it cannot be sent, a
//! warning says so and the exit code stands. The webhook URLs are secrets: from the environment only, never
//! printed, never in the message.

use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::environment::Environment;
use crate::error::{ExitCode, Problem};
use crate::probe::CheckResult;
use crate::redact::Redactor;

/// The variable holding the Slack incoming-webhook URL.
pub const SLACK_WEBHOOK_URL: &str = "SLACK_WEBHOOK_URL";
/// The variable holding the generic webhook URL.
pub const HEARTBEAT_WEBHOOK_URL: &str = "HEARTBEAT_WEBHOOK_URL";
/// How long a notification may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How many failed checks a Slack message names.
const MAX_NAMED: usize = 5;

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Slack incoming webhook, from SLACK_WEBHOOK_URL.
    Slack,
    /// The JSON result POSTed to HEARTBEAT_WEBHOOK_URL.
    Webhook,
}

/// When to notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Failure,
    Always,
}

/// What the user asked for, before the environment is read.
#[derive(Debug, Clone)]
pub struct Request {
    pub targets: Vec<Kind>,
    pub on: On,
    /// The name messages give the run [default: the URL's host].
    pub name: Option<String>,
}

/// Where and when to notify, validated before anything is sent.
pub struct Notifier {
    targets: Vec<(Kind, SecretString)>,
    on: On,
    name: String,
    run_link: Option<String>,
}

impl Notifier {
    /// Reads the targets' URLs from the environment; `Ok(None)` when no `--notify` was given. A URL must be
    /// https, or http to a loopback address (for tests).
    pub fn load(
        request: &Request,
        env: &Environment,
        default_name: &str,
    ) -> Result<Option<Self>, Vec<Problem>> {
        if request.targets.is_empty() {
            return Ok(None);
        }
        let mut targets = Vec::new();
        let mut problems = Vec::new();
        for kind in &request.targets {
            let variable = match kind {
                Kind::Slack => SLACK_WEBHOOK_URL,
                Kind::Webhook => HEARTBEAT_WEBHOOK_URL,
            };
            match webhook_url(env, variable) {
                Ok(url) => targets.push((*kind, url)),
                Err(problem) => problems.push(problem),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Some(Self {
            targets,
            on: request.on,
            name: request
                .name
                .clone()
                .unwrap_or_else(|| default_name.to_string()),
            run_link: run_link(env),
        }))
    }

    /// Sends one message per target when the verdict calls for it; returns a warning for each message that
    /// could not be sent (a notification never changes the verdict).
    pub async fn notify(
        &self,
        results: &[CheckResult],
        code: ExitCode,
        result_json: &str,
        redactor: &Redactor,
    ) -> Vec<String> {
        if self.on == On::Failure && code == ExitCode::Healthy {
            return Vec::new();
        }
        let mut warnings = Vec::new();
        for (kind, url) in &self.targets {
            let body = match kind {
                Kind::Slack => {
                    slack_message(&self.name, self.run_link.as_deref(), results, code).to_string()
                }
                Kind::Webhook => result_json.to_string(),
            };
            // Defence in depth: everything in the message already passed the redactor; once more, whole.
            if let Err(why) = post(url, redactor.redact(&body)).await {
                let target = match kind {
                    Kind::Slack => "the Slack notification",
                    Kind::Webhook => "the webhook notification",
                };
                warnings.push(format!("{target} was not sent ({why})"));
            }
        }
        warnings
    }
}

fn webhook_url(env: &Environment, variable: &'static str) -> Result<SecretString, Problem> {
    if let Some(problem) = env.utf8_problem(variable) {
        return Err(problem);
    }
    let value = env.get(variable).ok_or_else(|| {
        Problem::new(
            variable,
            "is not set; it holds the webhook URL to notify (a secret: never a flag)",
        )
    })?;
    let url = Url::parse(value.trim())
        .map_err(|_| Problem::new(variable, "is not a URL (the value is not shown)"))?;
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(SecretString::from(value.trim().to_string())),
        "http" if loopback => Ok(SecretString::from(value.trim().to_string())),
        _ => Err(Problem::new(
            variable,
            "must be an https:// URL (http only to a loopback address)",
        )),
    }
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

/// Builds the Slack message: a text line (what notifications show) and blocks with the details.
fn slack_message(name: &str, link: Option<&str>, results: &[CheckResult], code: ExitCode) -> Value {
    let failed: Vec<&CheckResult> = results.iter().filter(|r| r.failure().is_some()).collect();
    let verdict = match code {
        ExitCode::Healthy => "healthy".to_string(),
        ExitCode::DoorOpen => "a door that must stay locked is OPEN".to_string(),
        _ if results.len() == 1 => "unhealthy".to_string(),
        _ => format!("{} of {} checks failed", failed.len(), results.len()),
    };
    let text = format!("heartbeat {name}: {verdict} (exit {})", code.code());
    let mut lines: Vec<String> = failed.iter().take(MAX_NAMED).map(|r| describe(r)).collect();
    if failed.len() > MAX_NAMED {
        lines.push(format!("… and {} more", failed.len() - MAX_NAMED));
    }
    let mut blocks =
        vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{text}*")}})];
    if !lines.is_empty() {
        blocks
            .push(json!({"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}}));
    }
    if let Some(link) = link {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]}));
    }
    json!({"text": text, "blocks": blocks})
}

/// One failed check in a line: name, status, reason and request ids.
fn describe(result: &CheckResult) -> String {
    let last = result.attempts.last();
    let status = last
        .and_then(|a| a.status)
        .map_or("no answer".to_string(), |s| s.to_string());
    let reason = result.failure().map_or("", |f| f.message.as_str());
    let ids = last.map(crate::report::ids).unwrap_or_default();
    let name = if result.name.is_empty() {
        &result.url
    } else {
        &result.name
    };
    format!("• {name}: {status}: {reason} ({ids})")
}

async fn post(url: &SecretString, body: String) -> Result<(), String> {
    let roots = crate::tls::identity::root_store("webhook", &[]).map_err(|p| p.message)?;
    let tls = crate::tls::identity::client_config(roots, None);
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("heartbeat/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| "no HTTP client".to_string())?;
    // Errors name the kind of failure only: reqwest's messages would include the (secret) URL.
    let response = client
        .post(url.expose_secret())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {}s", TIMEOUT.as_secs())
            } else if e.is_connect() {
                "the receiver could not be reached".to_string()
            } else {
                "the request failed".to_string()
            }
        })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "the receiver answered {}",
            response.status().as_u16()
        ))
    }
}
