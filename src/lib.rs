//! heartbeat: a synthetic check that calls an API the way a real consumer does (API key header, mutual
//! TLS), asserts on the answer, explains every failure, and exits with a code a CI pipeline can act on.
//!
//! `run` takes parsed arguments and returns the exit code; `main` only prints the error it may return.

pub mod answer;
pub mod assert;
pub mod classify;
pub mod cli;
pub mod config;
#[cfg(feature = "sandbox")]
pub mod demo;
pub mod duration;
pub mod error;
pub mod failure;
pub mod identity;
pub mod input;
pub mod inspection;
pub mod probe;
pub mod proxy;
pub mod redact;
pub mod report;
#[cfg(feature = "sandbox")]
pub mod sandbox;

use std::io::{IsTerminal, Write};

use cli::{CertCommand, CheckArgs, Cli, Command, Format};
use config::{CheckConfig, Environment, InspectConfig};
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
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let env = Environment::from_process();
    match cli.command {
        Command::Check(args) => {
            let color = env.use_color(args.color, std::io::stderr().is_terminal());
            check(
                &args,
                &env,
                color,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            )
        }
        Command::Cert(CertCommand::Inspect(args)) => {
            let config = InspectConfig::load(&args, &env)?;
            inspection::command(&config, &mut std::io::stdout())
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox::command(&args),
        #[cfg(feature = "sandbox")]
        Command::Demo(args) => {
            let color = env.use_color(args.color, std::io::stdout().is_terminal());
            demo::run(color, &mut std::io::stdout())
        }
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
    let config = match CheckConfig::load(args, env, color) {
        Ok(config) => config,
        Err(error) => {
            // Best effort: the configuration error itself is what the user must see.
            if let Some(path) = &args.junit {
                let _ = std::fs::File::create(path).map(|file| report::junit_error(&error, file));
            }
            return Err(error);
        }
    };
    let text =
        TextReport::new(config.output.color, config.output.quiet).verbose(config.output.verbose);
    let ignore_pipe = |result| Error::output("writing output", result);
    ignore_pipe(text.start(stderr, &config.display_url()))?;
    let facts = &config.identity.facts;
    ignore_pipe(text.cert_expiry(
        stderr,
        config.cert_days_left,
        config.cert_warn_days,
        facts.not_after,
    ))?;
    let runtime = crate::runtime()?;
    let result = runtime.block_on(probe::run(&config, &mut |attempt, next| {
        // Progress is best effort: a closed stderr must not stop the check.
        let _ = text.attempt(stderr, attempt, config.retry.attempts, next);
    }));
    ignore_pipe(text.verdict(stderr, &result))?;
    if config.output.format == Format::Json {
        ignore_pipe(writeln!(stdout, "{}", report::json(&result)))?;
    }
    if let Some(path) = &config.output.junit {
        let file = std::fs::File::create(path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        report::junit(&result, file).map_err(|e| Error::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
    }
    Ok(result.exit_code())
}
