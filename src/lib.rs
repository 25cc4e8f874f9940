//! heartbeat: a synthetic check that calls an API the way a real consumer does (API key header, mutual
//! TLS), asserts on the answer, explains every failure, and exits with a code a CI pipeline can act on.
//!
//! `run` takes parsed arguments and returns the exit code; `main` only prints the error it may return.

pub mod answer;
pub mod assert;
pub mod check;
pub mod classify;
pub mod cli;
pub mod config;
pub mod consumer;
#[cfg(feature = "sandbox")]
pub mod demo;
pub mod duration;
pub mod environment;
pub mod error;
pub mod failure;
pub mod identity;
pub mod input;
pub mod inspection;
pub mod interrupt;
pub mod junit;
pub mod manual;
pub mod notify;
pub mod probe;
pub mod process;
pub mod proxy;
pub mod redact;
pub mod report;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod suite;
pub mod target;

use std::io::{IsTerminal, Write};

use cli::{CertCommand, CheckArgs, Cli, Command, Format};
use config::{CheckConfig, InspectConfig};
use environment::Environment;
pub use error::{Error, ExitCode};
use report::TextReport;

/// The version line: the crate version and the target it was built for.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("HEARTBEAT_TARGET"),
    ")"
);

/// Builds the single-threaded async runtime each command runs on: one check needs no more.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))
}

/// Runs one command and returns the exit code it earned.
pub fn run(cli: Cli, env: &Environment) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Check(args) => {
            let color = env.use_color(args.color, std::io::stderr().is_terminal());
            check(
                &args,
                env,
                color,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            )
        }
        Command::Suite(args) => {
            let color = env.use_color(args.color, std::io::stderr().is_terminal());
            suite::command(
                &args,
                env,
                color,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            )
        }
        Command::Completions { shell } => {
            manual::completions(shell, &mut std::io::stdout());
            Ok(ExitCode::Healthy)
        }
        Command::Man => {
            Error::output("writing the man page", manual::man(&mut std::io::stdout()))?;
            Ok(ExitCode::Healthy)
        }
        Command::Cert(CertCommand::Inspect(args)) => {
            let config = InspectConfig::load(&args, env)?;
            inspection::command(&config, &mut std::io::stdout())
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox::command(&args),
        #[cfg(feature = "sandbox")]
        Command::Demo(args) => {
            let color = env.use_color(args.color, std::io::stdout().is_terminal());
            demo::run(color, &mut std::io::stdout())
        }
        #[cfg(debug_assertions)]
        Command::InternalPanic => {
            panic!("a panic on purpose, with a would-be secret SENTINEL-panic-payload")
        }
    }
}

/// Says on stderr that a report was not written after the request was sent; a reader that left (a broken
/// pipe) is not worth a word.
pub(crate) fn warn_unwritten(stderr: &mut dyn Write, what: &str, result: std::io::Result<()>) {
    match result {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            let _ = writeln!(
                stderr,
                "heartbeat: warning: {what} was not written ({error}); the verdict stands"
            );
        }
        _ => {}
    }
}

/// Runs `heartbeat check`: validates everything, then probes, then reports.
pub fn check(
    args: &CheckArgs,
    env: &Environment,
    color: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let output = config::OutputOptions::from_args(args, color);
    let loaded = CheckConfig::load(args, env).and_then(|config| {
        let url = &config.check.request.url;
        let host = url.host_str().unwrap_or("the API").to_string();
        let notifier = notify::Notifier::load(&args.notify, env, &host).map_err(Error::Config)?;
        Ok((config, notifier))
    });
    run_check(loaded, &output, stdout, stderr)
}

/// Reports a run that could not start — nothing was sent — in the reports asked for, best effort: the JUnit
/// file (when it can be written) and, with `--format json`, one object with the problems. Returns the error.
pub(crate) fn report_invalid(
    error: Error,
    name: &str,
    junit: Option<&std::path::PathBuf>,
    json: bool,
    stdout: &mut dyn Write,
) -> Error {
    if let Some(Ok(Some((_, file)))) = junit.map(|path| junit::open(Some(path))) {
        let _ = junit::write_error(name, &error, file);
    }
    if json {
        let _ = writeln!(stdout, "{}", report::invalid_json(&error));
    }
    error
}

/// Runs a loaded check (however it was built: flags and environment, or the demo) and reports it; a load
/// that failed is reported as the configuration error it is, in JSON and JUnit too.
pub fn run_check(
    loaded: Result<(CheckConfig, Option<notify::Notifier>), Error>,
    output: &config::OutputOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let opened = loaded.and_then(|loaded| Ok((loaded, junit::open(output.junit.as_ref())?)));
    let ((config, notifier), junit) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            let json = output.format == Format::Json;
            return Err(report_invalid(
                error,
                "heartbeat check",
                output.junit.as_ref(),
                json,
                stdout,
            ));
        }
    };
    let text = TextReport::new(output.color, output.quiet).verbose(output.verbose);
    let ignore_pipe = |result| Error::output("writing output", result);
    ignore_pipe(text.start(stderr, &config.display_url()))?;
    if let Some(identity) = &config.consumer.identity {
        let facts = &identity.facts;
        ignore_pipe(text.cert_expiry(
            stderr,
            facts.days_left(std::time::SystemTime::now()),
            config.cert_warn_days,
            facts.not_after,
        ))?;
    }
    let runtime = crate::runtime()?;
    let redactor = config.redactor();
    let client = config.consumer.client(false, config.check.retry.timeout);
    let caller = probe::Caller {
        consumer: &config.consumer,
        client: &client,
        redactor: &redactor,
    };
    let attempts = config.check.retry.attempts;
    let done = std::cell::RefCell::new(Vec::new());
    let started = std::time::Instant::now();
    let result = runtime.block_on(async {
        let mut listener = interrupt::Listener::new();
        let mut on_attempt = |attempt: &probe::Attempt, next| {
            // Progress is best effort: a closed stderr must not stop the check.
            let _ = text.attempt(stderr, attempt, attempts, next);
            done.borrow_mut().push(attempt.clone());
        };
        let run = probe::run(&config.check, &caller, &mut on_attempt);
        tokio::select! {
            result = run => result,
            signal = listener.wait() => {
                let finished = std::mem::take(&mut *done.borrow_mut());
                let elapsed = started.elapsed();
                probe::interrupted(&config.check, &config.consumer, &redactor, finished, elapsed, signal)
            }
        }
    });
    // From here on the request was sent: a report that fails to write is a warning, never the verdict.
    let verdict = text.verdict(stderr, &result);
    warn_unwritten(stderr, "the verdict", verdict);
    let result_json = report::json(&result);
    if output.format == Format::Json {
        let written = writeln!(stdout, "{result_json}");
        warn_unwritten(stderr, "the JSON result", written);
    }
    if let Some(notifier) = &notifier {
        let results = std::slice::from_ref(&result);
        notifier.notify(results, result.exit_code(), &result_json, &redactor, stderr);
    }
    if let Some((path, file)) = junit {
        let written =
            junit::write(std::slice::from_ref(&result), file).map_err(std::io::Error::other);
        warn_unwritten(
            stderr,
            &format!("the JUnit report {}", path.display()),
            written,
        );
    }
    Ok(result.exit_code())
}
