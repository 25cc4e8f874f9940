//! `heartbeat cert watch`: the fleet's certificates judged for the day — the team's daily expiry job, done
//! with the revocation list, the CA and an ignore list that cannot outlive its reason. Reads public
//! certificates only; sends one message when something needs action.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::environment::Environment;
use crate::error::{Error, ExitCode, Problem};
use crate::fleet::{Found, Ignore, Judged, Schedule, Source, State};
use crate::notify::{Kind as NotifyKind, Notifier, On as NotifyOn};
use crate::report::Format;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Directories in the team's layout (<env>/<client>/client.pem, as `aws s3 sync` leaves the bucket) or files
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// The CA's certificate: watched too, and every client certificate must be issued by it
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// authorisation.yaml: a certificate on its certificate-revocation-list is reported revoked, not nagged
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Clients not to nag about: [[ignore]] client = "dev/x", reason = "...", until = "YYYY-MM-DD"
    #[arg(long, value_name = "FILE")]
    pub ignore: Option<PathBuf>,
    /// Days left on which to alert (expired certificates are told every day)
    #[arg(long, value_name = "DAYS", value_delimiter = ',', default_value = "30,21,14,7,6,5,4,3,2,1,0",
          value_parser = clap::value_parser!(u16).range(0..=3650))]
    pub alert_days: Vec<u16>,
    /// Judge as of the start of this day (YYYY-MM-DD, UTC) instead of now: what will be due next week
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// The table, or one JSON object
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write JUnit XML: one test case per certificate
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Post what needs action to Slack (SLACK_BOT_TOKEN and SLACK_CHANNEL, or SLACK_WEBHOOK_URL) or a webhook
    #[arg(long, value_enum, value_name = "TARGET")]
    pub notify: Vec<NotifyKind>,
    /// The name the message gives the run
    #[arg(long, value_name = "NAME", default_value = "certificates")]
    pub name: String,
    /// Write each certificate's expiry time in the Prometheus text format to this file
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
}

/// What was validated before anything is read or sent.
struct Inputs {
    ca: Option<Found>,
    revoked: Vec<String>,
    ignores: Vec<Ignore>,
    notifier: Option<Notifier>,
    now: i64,
}

/// Runs `heartbeat cert watch`.
pub fn run(
    args: &WatchArgs,
    env: &Environment,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let inputs = inputs(args, env)?;
    let mut sources = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            let found = crate::fleet::walk(path).map_err(|why| {
                Error::Config(vec![Problem::new(path.display().to_string(), why)])
            })?;
            sources.extend(found);
        } else {
            let client = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            sources.push(Source {
                path: path.clone(),
                env: String::new(),
                client,
            });
        }
    }
    let alert_days: Vec<i64> = args.alert_days.iter().map(|d| i64::from(*d)).collect();
    let schedule = Schedule {
        now: inputs.now,
        alert_days: &alert_days,
        revoked: &inputs.revoked,
        ca: inputs
            .ca
            .as_ref()
            .and_then(|ca| ca.certificate.as_deref().ok()),
        ignores: &inputs.ignores,
    };
    let mut judged: Vec<Judged> = sources
        .into_iter()
        .map(|source| crate::fleet::judge(&crate::fleet::read_file(source), &schedule))
        .collect();
    if let Some(ca) = &inputs.ca {
        // The CA is watched for expiry like any other certificate, but not checked against itself.
        let own = Schedule {
            ca: None,
            ..schedule
        };
        judged.push(crate::fleet::judge(ca, &own));
    }
    crate::fleet::sort(&mut judged);
    let code = crate::fleet::exit_code(&judged);
    let json = crate::fleet::json(&judged, code);
    let written = match args.format {
        Format::Text => write!(stdout, "{}", crate::fleet::table(&judged)),
        Format::Json => writeln!(stdout, "{json}"),
    };
    Error::output("writing the certificates", written)?;
    let _ = writeln!(stderr, "heartbeat cert watch: {}", summary(&judged));
    if let Some(path) = &args.junit {
        let written = crate::report::junit::open(Some(path))?.map(|(_, file)| {
            crate::report::junit::write_cases(&crate::fleet::cases(&judged), file)
        });
        if let Some(Err(error)) = written {
            crate::engine::warn_unwritten(
                stderr,
                &format!("the JUnit report {}", path.display()),
                Err(std::io::Error::other(error)),
            );
        }
    }
    if let Some(path) = &args.metrics {
        let text = crate::metrics::certificates_text(&metrics(&judged));
        if let Err(error) = crate::atomic_file::write(path, text.as_bytes(), 0o644) {
            crate::engine::warn_unwritten(
                stderr,
                &format!("the metrics file {}", path.display()),
                Err(error),
            );
        }
    }
    let lines = crate::fleet::lines(&judged);
    if let (Some(notifier), false) = (&inputs.notifier, lines.is_empty()) {
        let summary = format!("{} certificates need action", lines.len());
        if let Some(stopped) = announce(notifier, &summary, &lines, &json.to_string(), stderr)? {
            return Ok(stopped);
        }
    }
    Ok(code)
}

/// Sends the one message, bounded, and stoppable by SIGINT or SIGTERM (their exit code is returned).
fn announce(
    notifier: &Notifier,
    summary: &str,
    lines: &[String],
    json: &str,
    stderr: &mut dyn Write,
) -> Result<Option<ExitCode>, Error> {
    let runtime = crate::process::runtime()?;
    let mut listener = {
        let _inside = runtime.enter();
        crate::interrupt::Listener::new()
    };
    let delivery = match crate::delivery::Delivery::new() {
        Ok(delivery) => delivery,
        Err(why) => {
            let _ = writeln!(stderr, "heartbeat: warning: nothing was sent ({why})");
            return Ok(None);
        }
    };
    let sent = runtime.block_on(async {
        tokio::select! {
            sent = notifier.announce(&delivery, false, summary, lines, json) => Ok(sent),
            signal = listener.wait() => Err(signal),
        }
    });
    match sent {
        Ok(sent) => {
            for warning in sent.warnings {
                let _ = writeln!(stderr, "heartbeat: warning: {warning}; the verdict stands");
            }
            Ok(None)
        }
        Err(signal) => {
            let _ = writeln!(
                stderr,
                "heartbeat: stopped by {} while notifying",
                signal.name()
            );
            Ok(Some(signal.exit_code()))
        }
    }
}

fn summary(judged: &[Judged]) -> String {
    let count = |state| judged.iter().filter(|j| j.state == state).count();
    let mut parts = vec![format!("{} certificates", judged.len())];
    for state in State::ALL.into_iter().filter(|s| *s != State::Ok) {
        let n = count(state);
        if n > 0 {
            parts.push(format!("{n} {}", state.as_str()));
        }
    }
    parts.join(", ")
}

fn metrics(judged: &[Judged]) -> Vec<crate::metrics::Certificate> {
    judged
        .iter()
        .filter(|j| j.state != State::Unreadable)
        .map(|j| crate::metrics::Certificate {
            env: j.source.env.clone(),
            client: j.source.client.clone(),
            cn: j.cn.clone(),
            not_after: j.not_after,
            needs_action: j.state.tells(),
        })
        .collect()
}

/// Reads and checks every input before any certificate is judged: every problem at once, exit 2.
fn inputs(args: &WatchArgs, env: &Environment) -> Result<Inputs, Error> {
    let mut problems = Vec::new();
    for path in &args.paths {
        if !path.exists() {
            problems.push(Problem::new(path.display().to_string(), "does not exist"));
        }
    }
    if args.alert_days.is_empty() {
        problems.push(Problem::new("--alert-days", "names no day"));
    }
    let ca = args.ca.as_ref().and_then(|path| {
        let found = crate::fleet::read_file(Source {
            path: path.clone(),
            env: String::new(),
            client: "CA".into(),
        });
        match &found.certificate {
            Ok(_) => Some(found),
            Err(why) => {
                problems.push(Problem::new(
                    format!("--ca {}", path.display()),
                    why.clone(),
                ));
                None
            }
        }
    });
    let mut file = |flag: &str, path: &PathBuf| {
        crate::access::read_file(path)
            .map_err(|why| problems.push(Problem::new(format!("{flag} {}", path.display()), why)))
            .ok()
    };
    let config = args
        .config
        .as_ref()
        .and_then(|p| file("--config", p).map(|t| (p, t)));
    let ignore = args
        .ignore
        .as_ref()
        .and_then(|p| file("--ignore", p).map(|t| (p, t)));
    let revoked = match config {
        Some((path, text)) => crate::access::Rules::from_yaml(&text)
            .map(|rules| rules.revoked_serials())
            .map_err(|why| problems.push(Problem::new(format!("--config {}", path.display()), why)))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let ignores = match ignore {
        Some((path, text)) => crate::fleet::read_ignores(&text)
            .map_err(|why| problems.push(Problem::new(format!("--ignore {}", path.display()), why)))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let now = match &args.at {
        Some(date) => crate::fleet::day_start(date).unwrap_or_else(|| {
            problems.push(Problem::new(
                "--at",
                format!("{date:?} is not a date (YYYY-MM-DD)"),
            ));
            0
        }),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };
    let request = crate::notify::Request {
        targets: args.notify.clone(),
        on: NotifyOn::Failure,
    };
    let notifier = Notifier::load(&request, env, &args.name)
        .map_err(|found| problems.extend(found))
        .ok()
        .flatten();
    if !problems.is_empty() {
        return Err(Error::Config(problems));
    }
    Ok(Inputs {
        ca,
        revoked,
        ignores,
        notifier,
        now,
    })
}
