//! The flags `check` and `suite` share for what follows a run — notifications, the state between scheduled
//! runs, the dead man's switch, metrics — and the one place that turns them into a validated `Followup`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use crate::environment::Environment;
use crate::error::{Error, Problem};
use crate::followup::{Followup, StateFile};
use crate::notify::{Kind as NotifyKind, Notifier, On as NotifyOn};
use crate::state::Policy;

/// The variable that may hold the Pushgateway's URL instead of `--metrics-push`.
const HEARTBEAT_METRICS_PUSH_URL: &str = "HEARTBEAT_METRICS_PUSH_URL";

/// What follows a run, shared by `check` and `suite`.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// Post the result to Slack (SLACK_BOT_TOKEN and SLACK_CHANNEL, or SLACK_WEBHOOK_URL) or a webhook
    /// (HEARTBEAT_WEBHOOK_URL); repeatable
    #[arg(long, value_enum, value_name = "TARGET")]
    pub notify: Vec<NotifyKind>,
    /// When to notify: on news (a check down, a reminder, a recovery), or after every run
    #[arg(long, value_enum, value_name = "WHEN", default_value = "failure")]
    pub notify_on: NotifyOn,
    /// The name notifications give this check (an environment, say) [default: the URL's host]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Remember checks between scheduled runs in this JSON file, so notifications are transitions: down,
    /// reminders, recovered
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Alert only after this many failed runs in a row (needs --state)
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub alert_after: u32,
    /// Remind at most this often while a check stays down (needs --state) [default: never]
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
    pub remind_every: Option<Duration>,
    /// Call this dead man's switch URL after every run (URL/fail on failure), or set HEARTBEAT_PING_URL
    #[arg(long, value_name = "URL")]
    pub ping: Option<String>,
    /// Also call URL/start before the checks
    #[arg(long)]
    pub ping_start: bool,
    /// Write the results in the Prometheus text format to this file (node_exporter's textfile collector)
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Push the metrics to this Pushgateway, or set HEARTBEAT_METRICS_PUSH_URL
    #[arg(long, value_name = "URL")]
    pub metrics_push: Option<String>,
}

/// Validates what follows a run, every problem at once, before anything is sent.
pub(super) fn followup(
    args: &NotifyArgs,
    env: &Environment,
    default_name: &str,
) -> Result<Followup, Error> {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_name.to_string());
    let mut problems = Vec::new();
    let request = crate::notify::Request {
        targets: args.notify.clone(),
        on: args.notify_on,
    };
    let notifier = Notifier::load(&request, env, &name)
        .map_err(|found| problems.extend(found))
        .ok()
        .flatten();
    if args.state.is_none() {
        if args.alert_after > 1 {
            problems.push(Problem::new(
                "--alert-after",
                "needs --state FILE: counting failures in a row needs the runs before",
            ));
        }
        if args.remind_every.is_some() {
            problems.push(Problem::new(
                "--remind-every",
                "needs --state FILE: without it every failing run is told",
            ));
        }
    }
    for (flag, path) in [("--state", &args.state), ("--metrics", &args.metrics)] {
        if let Some(problem) = path.as_deref().and_then(|p| writable_place(flag, p)) {
            problems.push(problem);
        }
    }
    let ping = receiver(
        env,
        "--ping",
        args.ping.as_deref(),
        crate::ping::HEARTBEAT_PING_URL,
    )
    .map_err(|p| problems.push(p))
    .ok()
    .flatten();
    if args.ping_start && ping.is_none() && problems.is_empty() {
        problems.push(Problem::new(
            "--ping-start",
            "needs --ping URL (or HEARTBEAT_PING_URL)",
        ));
    }
    let push = receiver(
        env,
        "--metrics-push",
        args.metrics_push.as_deref(),
        HEARTBEAT_METRICS_PUSH_URL,
    )
    .map_err(|p| problems.push(p))
    .ok()
    .flatten();
    if !problems.is_empty() {
        return Err(Error::Config(problems));
    }
    Ok(Followup {
        name,
        notifier,
        state: args.state.clone().map(|path| StateFile {
            path,
            policy: Policy {
                alert_after: args.alert_after,
                remind_every: args.remind_every,
            },
        }),
        ping,
        ping_start: args.ping_start,
        metrics: args.metrics.clone(),
        push,
    })
}

/// Reads a receiver's URL from its flag, or else its variable; checked, never shown.
fn receiver(
    env: &Environment,
    flag: &'static str,
    value: Option<&str>,
    variable: &'static str,
) -> Result<Option<SecretString>, Problem> {
    match value {
        Some(value) => crate::delivery::checked_url(flag, value).map(Some),
        None if env.get(variable).is_some() || env.utf8_problem(variable).is_some() => {
            crate::delivery::secret_url(env, variable).map(Some)
        }
        None => Ok(None),
    }
}

/// A file heartbeat writes after the run must have a directory to go to: known before anything is sent.
fn writable_place(flag: &str, path: &Path) -> Option<Problem> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Some(Problem::new(
            flag,
            format!("{} is a directory; name a file", path.display()),
        ));
    }
    (!parent.is_dir()).then(|| {
        Problem::new(
            flag,
            format!("the directory {} does not exist", parent.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use secrecy::ExposeSecret;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        notify: NotifyArgs,
    }

    fn built(flags: &[&str], vars: &[(&str, &str)]) -> Result<Followup, Vec<String>> {
        let args = Flags::try_parse_from(std::iter::once("heartbeat").chain(flags.iter().copied()))
            .unwrap()
            .notify;
        let env = Environment::from_pairs(vars.iter().map(|(k, v)| (*k, v.to_string())));
        followup(&args, &env, "api.test").map_err(|error| match error {
            Error::Config(problems) => problems.iter().map(ToString::to_string).collect(),
            other => panic!("not a configuration error: {other}"),
        })
    }

    #[test]
    fn counting_and_reminding_need_the_runs_before() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let state = state.to_str().unwrap();
        assert!(built(&["--alert-after", "1"], &[]).is_ok());
        let told = built(&["--alert-after", "2", "--remind-every", "1h"], &[])
            .err()
            .unwrap();
        assert_eq!(told.len(), 2, "{told:?}");
        assert!(told[0].starts_with("--alert-after: needs --state FILE"));
        assert!(told[1].starts_with("--remind-every: needs --state FILE"));
        let kept = built(
            &[
                "--state",
                state,
                "--alert-after",
                "3",
                "--remind-every",
                "1h",
            ],
            &[],
        )
        .unwrap();
        let policy = kept.state.unwrap().policy;
        assert_eq!(
            (policy.alert_after, policy.remind_every),
            (3, Some(Duration::from_secs(3600)))
        );
        assert_eq!(kept.name, "api.test");
    }

    #[test]
    fn a_file_written_after_the_run_needs_a_directory_to_go_to() {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().to_str().unwrap();
        let missing = format!("{here}/missing/state.json");
        let told = built(&["--state", &missing, "--metrics", here], &[])
            .err()
            .unwrap();
        assert_eq!(
            told,
            [
                format!("--state: the directory {here}/missing does not exist"),
                format!("--metrics: {here} is a directory; name a file"),
            ]
        );
        // A bare file name goes to the working directory, which exists.
        assert_eq!(
            built(&["--metrics", "heartbeat.prom", "--name", "dev"], &[])
                .unwrap()
                .name,
            "dev"
        );
    }

    #[test]
    fn receivers_come_from_their_flag_or_their_variable() {
        let none = built(&[], &[]).unwrap();
        assert!(
            none.ping.is_none()
                && none.push.is_none()
                && none.notifier.is_none()
                && none.state.is_none()
        );
        let flag = built(&["--ping", "https://hc.test/abc", "--ping-start"], &[]).unwrap();
        assert_eq!(flag.ping.unwrap().expose_secret(), "https://hc.test/abc");
        assert!(flag.ping_start);
        let vars = [
            ("HEARTBEAT_PING_URL", "https://hc.test/var"),
            ("HEARTBEAT_METRICS_PUSH_URL", "https://push.test"),
        ];
        let from_env = built(&[], &vars).unwrap();
        assert_eq!(
            from_env.ping.unwrap().expose_secret(),
            "https://hc.test/var"
        );
        assert_eq!(from_env.push.unwrap().expose_secret(), "https://push.test");
        let told = built(&["--ping-start"], &[]).err().unwrap();
        assert_eq!(
            told,
            ["--ping-start: needs --ping URL (or HEARTBEAT_PING_URL)"]
        );
        // A variable that is set but wrong is named, not ignored.
        let told = built(&[], &[("HEARTBEAT_PING_URL", "not a url")])
            .err()
            .unwrap();
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].starts_with("HEARTBEAT_PING_URL"), "{told:?}");
    }
}
