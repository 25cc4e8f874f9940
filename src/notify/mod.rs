//! Telling people: after a check or a suite, one message to Slack (a bot token through `chat.postMessage`,
//! or an incoming webhook) or any webhook (the JSON result), when the run's news calls for it. A notification
//! never changes the verdict: if it cannot be sent, a warning says so and the exit code stands.

mod mrkdwn;
mod notifier;
mod slack;
mod target;

pub use notifier::{Kind, Notifier, On, Report, Request};
