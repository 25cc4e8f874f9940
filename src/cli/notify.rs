//! The notification flags `check` and `suite` share, and what they ask `notify` for.

use clap::Args;

use crate::notify::{Kind as NotifyKind, On as NotifyOn};

/// Notification flags, shared by `check` and `suite`.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// Post the result to Slack (SLACK_WEBHOOK_URL) or a webhook (HEARTBEAT_WEBHOOK_URL); repeatable
    #[arg(long, value_enum, value_name = "TARGET")]
    pub notify: Vec<NotifyKind>,
    /// When to notify
    #[arg(long, value_enum, value_name = "WHEN", default_value = "failure")]
    pub notify_on: NotifyOn,
    /// The name notifications give this check (an environment, say) [default: the URL's host]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Turns the notification flags into what `notify` reads.
pub(super) fn request(args: &NotifyArgs) -> crate::notify::Request {
    crate::notify::Request {
        targets: args.notify.clone(),
        on: args.notify_on,
        name: args.name.clone(),
    }
}
