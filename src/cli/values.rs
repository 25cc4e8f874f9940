//! The command line's names for plain values: how `--format`, `--color`, `--notify` and `--notify-on` are
//! spelled and described. The enums themselves belong to the modules that use them and know nothing of clap.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::environment::{ColorChoice, Environment};
use crate::notify::{Kind, On};
use crate::report::Format;

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Text, Self::Json]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Self::Text => PossibleValue::new("text"),
            Self::Json => PossibleValue::new("json"),
        })
    }
}

impl ValueEnum for ColorChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Auto, Self::Always, Self::Never]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Self::Auto => PossibleValue::new("auto"),
            Self::Always => PossibleValue::new("always"),
            Self::Never => PossibleValue::new("never"),
        })
    }
}

impl ValueEnum for Kind {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Slack, Self::Webhook]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Self::Slack => {
                PossibleValue::new("slack").help("A Slack incoming webhook, from SLACK_WEBHOOK_URL")
            }
            Self::Webhook => PossibleValue::new("webhook")
                .help("The JSON result POSTed to HEARTBEAT_WEBHOOK_URL"),
        })
    }
}

impl ValueEnum for On {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Failure, Self::Always]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Self::Failure => PossibleValue::new("failure"),
            Self::Always => PossibleValue::new("always"),
        })
    }
}

/// Decides the colour of clap's own messages (usage errors, help) as the rest of the output decides it, from
/// the `--color` value found on the command line, if any.
pub(super) fn clap_color(env: &Environment, flag: Option<ColorChoice>) -> clap::ColorChoice {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    if env.use_color(flag.unwrap_or(ColorChoice::Auto), terminal) {
        clap::ColorChoice::Always
    } else {
        clap::ColorChoice::Never
    }
}
