//! Where a notification goes, read from the environment before anything is sent: Slack through a bot token
//! (`chat.postMessage`, as the team posts) or an incoming webhook, or a generic webhook. URLs and tokens are
//! secrets: from the environment only, never printed, never in a message, and a bot token only ever goes to
//! Slack.

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use crate::delivery::{checked_url, is_loopback, secret_url};
use crate::environment::Environment;
use crate::error::Problem;

/// The variable holding the Slack incoming-webhook URL.
pub const SLACK_WEBHOOK_URL: &str = "SLACK_WEBHOOK_URL";
/// The variable holding a Slack bot token (`xoxb-…`), used with `SLACK_CHANNEL`.
pub const SLACK_BOT_TOKEN: &str = "SLACK_BOT_TOKEN";
/// The channel a bot token posts to (a name or an id).
pub const SLACK_CHANNEL: &str = "SLACK_CHANNEL";
/// Where the Slack Web API is [default: https://slack.com/api]; only Slack's own hosts or a loopback
/// stand-in, so the token cannot be sent elsewhere.
pub const SLACK_API_URL: &str = "SLACK_API_URL";
/// The variable holding the generic webhook URL.
pub const HEARTBEAT_WEBHOOK_URL: &str = "HEARTBEAT_WEBHOOK_URL";

const SLACK_API_DEFAULT: &str = "https://slack.com/api";

/// A receiver, validated.
pub enum Target {
    /// `chat.postMessage` with a bot token to a channel.
    SlackApi {
        endpoint: SecretString,
        token: SecretString,
        channel: String,
    },
    SlackWebhook(SecretString),
    Webhook(SecretString),
}

impl Target {
    /// Names the receiver in a warning.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::SlackApi { .. } => "the Slack message (chat.postMessage)",
            Self::SlackWebhook(_) => "the Slack notification",
            Self::Webhook(_) => "the webhook notification",
        }
    }
}

/// Reads Slack's target: the bot token when `SLACK_BOT_TOKEN` is set (it wins over a webhook), else the
/// incoming webhook.
pub fn slack(env: &Environment) -> Result<Target, Vec<Problem>> {
    if env.get(SLACK_BOT_TOKEN).is_none() && env.utf8_problem(SLACK_BOT_TOKEN).is_none() {
        return secret_url(env, SLACK_WEBHOOK_URL)
            .map(Target::SlackWebhook)
            .map_err(|p| {
                vec![Problem::new(
                    p.input,
                    format!(
                        "{}; or set {SLACK_BOT_TOKEN} and {SLACK_CHANNEL} to post as a Slack app",
                        p.message
                    ),
                )]
            });
    }
    let mut problems = Vec::new();
    let token = bot_token(env).map_err(|p| problems.push(p)).ok();
    let channel = channel(env).map_err(|p| problems.push(p)).ok();
    let endpoint = api_endpoint(env).map_err(|p| problems.push(p)).ok();
    match (token, channel, endpoint) {
        (Some(token), Some(channel), Some(endpoint)) => Ok(Target::SlackApi {
            endpoint,
            token,
            channel,
        }),
        _ => Err(problems),
    }
}

/// Reads the generic webhook's target.
pub fn webhook(env: &Environment) -> Result<Target, Vec<Problem>> {
    secret_url(env, HEARTBEAT_WEBHOOK_URL)
        .map(Target::Webhook)
        .map_err(|p| vec![p])
}

fn bot_token(env: &Environment) -> Result<SecretString, Problem> {
    if let Some(problem) = env.utf8_problem(SLACK_BOT_TOKEN) {
        return Err(problem);
    }
    let token = env.get(SLACK_BOT_TOKEN).unwrap_or_default().trim();
    // A header value must be visible ASCII; a token is `xox…` letters, digits and dashes.
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Problem::new(
            SLACK_BOT_TOKEN,
            "is not a Slack token (the value is not shown): it is the bot user OAuth token, xoxb-…",
        ));
    }
    Ok(SecretString::from(token.to_string()))
}

fn channel(env: &Environment) -> Result<String, Problem> {
    if let Some(problem) = env.utf8_problem(SLACK_CHANNEL) {
        return Err(problem);
    }
    let channel = env.get(SLACK_CHANNEL).map(str::trim).unwrap_or_default();
    let valid = channel
        .trim_start_matches('#')
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if channel.is_empty() || channel.len() > 80 || !valid {
        return Err(Problem::new(
            SLACK_CHANNEL,
            "must name the channel the bot token posts to (hmpps-integration-api-alerts, or an id like C0123456789)",
        ));
    }
    Ok(channel.to_string())
}

/// The `chat.postMessage` URL: Slack's API, or a stand-in on this machine for tests. Any other host is
/// refused, so a bot token never leaves Slack.
fn api_endpoint(env: &Environment) -> Result<SecretString, Problem> {
    let base = env.get(SLACK_API_URL).unwrap_or(SLACK_API_DEFAULT).trim();
    let checked = checked_url(SLACK_API_URL, base)?;
    let url = Url::parse(checked.expose_secret())
        .map_err(|_| Problem::new(SLACK_API_URL, "is not a URL"))?;
    let host = url.host_str().unwrap_or_default();
    let slack = host == "slack.com"
        || host.ends_with(".slack.com")
        || host == "slack-gov.com"
        || host.ends_with(".slack-gov.com");
    if !slack && !is_loopback(&url) {
        return Err(Problem::new(
            SLACK_API_URL,
            "must be Slack's API (https://slack.com/api) or a stand-in on this machine: the bot token goes nowhere else",
        ));
    }
    let base = checked.expose_secret().trim_end_matches('/');
    Ok(SecretString::from(format!("{base}/chat.postMessage")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&'static str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().map(|(k, v)| (*k, v.to_string())))
    }

    fn problems(result: Result<Target, Vec<Problem>>) -> String {
        match result {
            Ok(_) => String::new(),
            Err(problems) => problems
                .iter()
                .map(|p| format!("{}: {}", p.input, p.message))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn a_bot_token_wins_over_a_webhook_and_needs_a_channel() {
        let both = env(&[
            (SLACK_BOT_TOKEN, "xoxb-SENTINEL"),
            (SLACK_CHANNEL, "hmpps-integration-api-alerts"),
            (SLACK_WEBHOOK_URL, "https://hooks.slack.com/services/X"),
        ]);
        match slack(&both) {
            Ok(Target::SlackApi {
                endpoint, channel, ..
            }) => {
                assert_eq!(
                    endpoint.expose_secret(),
                    "https://slack.com/api/chat.postMessage"
                );
                assert_eq!(channel, "hmpps-integration-api-alerts");
            }
            _ => panic!("the bot token should win"),
        }
        let no_channel = problems(slack(&env(&[(SLACK_BOT_TOKEN, "xoxb-SENTINEL")])));
        assert!(no_channel.contains(SLACK_CHANNEL), "{no_channel}");
        assert!(!no_channel.contains("SENTINEL"));
        let webhook_only = env(&[(SLACK_WEBHOOK_URL, "https://hooks.slack.com/services/X")]);
        assert!(matches!(slack(&webhook_only), Ok(Target::SlackWebhook(_))));
        let nothing = problems(slack(&env(&[])));
        assert!(nothing.contains(SLACK_WEBHOOK_URL) && nothing.contains(SLACK_BOT_TOKEN));
    }

    #[test]
    fn the_token_goes_only_to_slack_or_a_local_stand_in() {
        let with_api = |api: &'static str| {
            env(&[
                (SLACK_BOT_TOKEN, "xoxb-SENTINEL"),
                (SLACK_CHANNEL, "C0123456789"),
                (SLACK_API_URL, api),
            ])
        };
        match slack(&with_api("http://127.0.0.1:1234/api/")) {
            Ok(Target::SlackApi { endpoint, .. }) => {
                assert_eq!(
                    endpoint.expose_secret(),
                    "http://127.0.0.1:1234/api/chat.postMessage"
                )
            }
            _ => panic!("a loopback stand-in is Slack's API for tests"),
        }
        assert!(slack(&with_api("https://api.slack.com/api")).is_ok());
        assert!(slack(&with_api("https://x.slack-gov.com/api")).is_ok());
        assert!(slack(&with_api("https://slack-gov.com/api")).is_ok());
        for elsewhere in [
            "https://evil.example/api",
            "https://slack.com.evil.example/api",
            "http://slack.com/api",
        ] {
            let why = problems(slack(&with_api(elsewhere)));
            assert!(why.contains(SLACK_API_URL), "{elsewhere}: {why}");
        }
    }

    #[test]
    fn tokens_and_channels_that_cannot_be_sent_are_refused() {
        for (token, channel) in [
            ("xoxb SENTINEL", "alerts"),
            ("xoxb-SENTINEL", "#al erts"),
            ("xoxb-SENTINEL", "<!channel>"),
        ] {
            let why = problems(slack(&env(&[
                (SLACK_BOT_TOKEN, token),
                (SLACK_CHANNEL, channel),
            ])));
            assert!(
                !why.is_empty() && !why.contains("SENTINEL"),
                "{token} {channel}: {why}"
            );
        }
        assert!(
            slack(&env(&[
                (SLACK_BOT_TOKEN, "xoxb-1"),
                (SLACK_CHANNEL, "#alerts")
            ]))
            .is_ok()
        );
        // Slack's channel names stop at 80 characters.
        let longest = "c".repeat(80);
        assert!(
            slack(&env(&[
                (SLACK_BOT_TOKEN, "xoxb-1"),
                (SLACK_CHANNEL, &longest)
            ]))
            .is_ok()
        );
        let longer = "c".repeat(81);
        assert!(
            slack(&env(&[
                (SLACK_BOT_TOKEN, "xoxb-1"),
                (SLACK_CHANNEL, &longer)
            ]))
            .is_err()
        );
    }
}
