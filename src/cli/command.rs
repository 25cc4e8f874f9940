//! Runs a parsed command line: each command's flags become what its module needs, and `check` and `suite`
//! become plans for the one engine.

use std::io::{IsTerminal, Write};

use super::args::{CertCommand, Cli, Command};
use super::suite::SuiteArgs;
use crate::engine::{self, Outputs, Shape};
use crate::environment::Environment;
use crate::error::{Error, ExitCode};
use crate::followup::Followup;
use crate::plan::Plan;
use crate::report::Format;

/// Runs one command and returns the exit code it earned.
pub fn run(cli: Cli, env: &Environment) -> Result<ExitCode, Error> {
    let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
    match cli.command {
        Command::Check(args) => {
            let color = env.use_color(args.color, stderr.is_terminal());
            let outputs = super::check::outputs(&args, color);
            let prepared = super::check::prepare(&args, env);
            engine::run(prepared, &outputs, &mut stdout, &mut stderr)
        }
        Command::Suite(args) => {
            let color = env.use_color(args.color, stderr.is_terminal());
            suite(&args, env, color, &mut stdout, &mut stderr)
        }
        Command::Access(command) => super::access::run(&command, env, &mut stdout, &mut stderr),
        Command::Completions { shell } => {
            crate::cli::manual::completions(shell, &mut stdout);
            Ok(ExitCode::Healthy)
        }
        Command::Man => {
            Error::output("writing the man page", crate::cli::manual::man(&mut stdout))?;
            Ok(ExitCode::Healthy)
        }
        Command::Cert(CertCommand::Watch(args)) => {
            super::watch::run(&args, env, &mut stdout, &mut stderr)
        }
        Command::Cert(CertCommand::Inspect(args)) => {
            let config = super::check::inspection(&args, env)?;
            crate::tls::inspection::command(&config, &mut stdout)
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => crate::sandbox::command::run(&sandbox_settings(args)),
        #[cfg(feature = "sandbox")]
        Command::Demo(args) => {
            let color = env.use_color(args.color, stdout.is_terminal());
            crate::demo::run(color, &mut stdout)
        }
        #[cfg(debug_assertions)]
        Command::InternalPanic => {
            panic!("a panic on purpose, with a would-be secret SENTINEL-panic-payload")
        }
    }
}

/// Runs `heartbeat suite`: the file, the selection, the notifier and the JUnit file can each stop the run
/// before anything is sent, reported the same way (exit 2, with JSON and JUnit saying why).
pub fn suite(
    args: &SuiteArgs,
    env: &Environment,
    color: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let overrides = crate::plan::suite_file::Overrides {
        ca_cert: args.ca_cert.clone(),
        concurrency: args.concurrency.map(|n| n as usize),
        cert_warn_days: args.cert_warn_days,
        folder: args.file.parent().map(std::path::Path::to_path_buf),
    };
    let planned =
        crate::plan::suite_file::load(&args.file, env, &overrides, &args.only, &args.consumer);
    let outputs = Outputs {
        shape: Shape::Suite,
        format: args.format,
        // `--list` sends nothing and writes no report.
        junit: args.junit.clone().filter(|_| !args.list),
        quiet: args.quiet,
        color,
        verbose: false,
    };
    let prepared = planned.and_then(|plan| {
        let followup = followup(&plan, args, env)?;
        Ok((plan, followup))
    });
    if args.list {
        let (plan, _) = prepared.map_err(|error| list_error(error, args, stdout))?;
        Error::output("writing the list", crate::report::list(stdout, &plan))?;
        return Ok(ExitCode::Healthy);
    }
    engine::run(prepared, &outputs, stdout, stderr)
}

/// What follows a suite, named after its first check's host unless `--name` says otherwise.
fn followup(plan: &Plan, args: &SuiteArgs, env: &Environment) -> Result<Followup, Error> {
    let host = plan
        .checks
        .first()
        .and_then(|p| p.check.request.url.host_str())
        .unwrap_or("the API")
        .to_string();
    super::notify::followup(&args.notify, env, &host)
}

/// A `--list` of a file that cannot be planned still answers in JSON when asked.
fn list_error(error: Error, args: &SuiteArgs, stdout: &mut dyn Write) -> Error {
    if args.format == Format::Json {
        let _ = writeln!(
            stdout,
            "{}",
            crate::report::json::line(&crate::report::json::invalid(&error))
        );
    }
    error
}

/// Turns the sandbox's flags into its settings.
#[cfg(feature = "sandbox")]
fn sandbox_settings(args: super::args::SandboxArgs) -> crate::sandbox::command::Settings {
    crate::sandbox::command::Settings {
        port: args.port,
        bind: args.bind,
        allow_remote: args.allow_remote,
        api_key: args.api_key,
        ca_cert: args.ca_cert,
        ca_key: args.ca_key,
        write_env: args.write_env,
        consumers: args.consumers,
        delius_down: args.delius_down,
        waf: !args.no_waf,
    }
}
