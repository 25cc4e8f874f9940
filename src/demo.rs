//! `heartbeat demo`: starts the sandbox in-process and runs real checks against it through the normal code
//! path, one healthy and three failing for reasons users meet, each under a one-line caption.

use std::io::Write;
use std::sync::Arc;

use clap::Parser;
use secrecy::SecretString;

use crate::cli::{Cli, Command};
use crate::environment::Environment;
use crate::error::{Error, ExitCode};
use crate::sandbox::pki::{Pair, Pki, SERVER_NAMES};
use crate::sandbox::{self, Handle, Options};

/// One demonstrated check and the exit code it should earn.
struct Scene<'a> {
    caption: &'a str,
    path: &'a str,
    flags: &'a [&'a str],
    client: &'a Pair,
    /// Sends this API key instead of the sandbox's.
    api_key: Option<&'a str>,
    expected: ExitCode,
}

/// Runs the demo and succeeds when every scene ends as expected.
pub fn run(color: bool, out: &mut dyn Write) -> Result<ExitCode, Error> {
    let pki =
        Pki::generate(&SERVER_NAMES).map_err(|e| Error::Demo(format!("generating a PKI: {e}")))?;
    let expired = pki
        .issue_client("heartbeat-demo-expired", -400, -35)
        .map_err(|e| Error::Demo(format!("issuing a certificate: {e}")))?;
    let api_key = SecretString::from(uuid::Uuid::new_v4().simple().to_string());
    let options = Options::new(([127, 0, 0, 1], 0).into(), api_key, Arc::new(pki));
    let sandbox = Handle::start(options)?;
    let client = &sandbox.pki().client;
    let scenes = [
        Scene {
            caption: "a healthy check: the API answers 200 with a person's firstName",
            path: sandbox::PERSONS_PATH,
            flags: &["--attempts", "1"],
            client,
            api_key: None,
            expected: ExitCode::Healthy,
        },
        Scene {
            caption: "the API fails on its side: 500 with a userMessage (two quick attempts)",
            path: "/fault/error",
            flags: &["--attempts", "2", "--retry-delay", "200ms"],
            client,
            api_key: None,
            expected: ExitCode::Unhealthy,
        },
        Scene {
            caption: "an expired client certificate is caught before anything is sent",
            path: sandbox::PERSONS_PATH,
            flags: &["--attempts", "1"],
            client: &expired,
            api_key: None,
            expected: ExitCode::Usage,
        },
        Scene {
            caption: "the API gateway refuses a wrong API key: 403 {\"message\":\"Forbidden\"}, not retried",
            path: sandbox::PERSONS_PATH,
            flags: &["--attempts", "3", "--retry-delay", "200ms"],
            client,
            api_key: Some("a-key-from-another-environment"),
            expected: ExitCode::Unhealthy,
        },
    ];
    let write = |result| Error::output("writing the demo", result);
    write(writeln!(
        out,
        "heartbeat demo: a local Integration API on {} (mutual TLS, API key)\n",
        sandbox.url("")
    ))?;
    let mut surprises = Vec::new();
    for (number, scene) in scenes.iter().enumerate() {
        write(writeln!(out, "── {}. {} ──", number + 1, scene.caption))?;
        let code = play(&sandbox, scene, color, out)?;
        write(writeln!(out, "   → exit code {}\n", code.code()))?;
        if code != scene.expected {
            surprises.push(format!(
                "scene {} exited {} instead of {}",
                number + 1,
                code.code(),
                scene.expected.code()
            ));
        }
    }
    if !surprises.is_empty() {
        return Err(Error::Demo(surprises.join("; ")));
    }
    write(writeln!(
        out,
        "heartbeat demo: all four checks behaved as expected"
    ))?;
    Ok(ExitCode::Healthy)
}

fn play(
    sandbox: &Handle,
    scene: &Scene<'_>,
    color: bool,
    out: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let argv = ["heartbeat", "check"].iter().chain(scene.flags);
    let Command::Check(args) = Cli::try_parse_from(argv)
        .map_err(|e| Error::Demo(e.to_string()))?
        .command
    else {
        unreachable!("the demo only builds check commands");
    };
    let mut vars = sandbox.environment(scene.path, scene.client);
    if let Some(key) = scene.api_key {
        vars.retain(|(name, _)| *name != crate::environment::API_KEY);
        vars.push((crate::environment::API_KEY, key.to_string()));
    }
    let env = Environment::from_pairs(vars);
    let mut text = Vec::new();
    let code = match crate::check(&args, &env, color, &mut std::io::sink(), &mut text) {
        Ok(code) => code,
        Err(error) => {
            // Writing into a Vec cannot fail.
            let _ = error.report(&mut text);
            error.exit_code()
        }
    };
    Error::output("writing the demo", out.write_all(&text))?;
    Ok(code)
}
