//! `heartbeat check`'s front-end: its flags plus the environment become a plan of one check, listing every
//! problem at once so a user fixes them in one go. Nothing is sent until this succeeds.

use std::path::PathBuf;
use std::time::SystemTime;

use rustls::RootCertStore;
use secrecy::SecretString;

use super::args::{CheckArgs, InspectArgs};
use crate::engine::{Outputs, Shape};
use crate::environment::{API_KEY, Environment, MTLS_CERT, MTLS_KEY, SERVICE_CA_CERT};
use crate::error::{Error, Problem};
use crate::followup::Followup;
use crate::plan::Plan;
use crate::plan::check::{Check, RetryPolicy};
use crate::plan::consumer::{self, Description, Named};
use crate::plan::target::{header_name, url};
use crate::probe::assert::Expectations;
use crate::redact::Redactor;
use crate::tls::identity;
use crate::tls::input::{self, Input};
use crate::tls::inspection::InspectConfig;

/// Where and how `check` writes its result.
pub fn outputs(args: &CheckArgs, color: bool) -> Outputs {
    Outputs {
        shape: Shape::Check,
        format: args.format,
        junit: args.junit.clone(),
        quiet: args.quiet,
        color,
        verbose: args.verbose,
    }
}

/// Validates flags and environment together into the plan of one check and its notifier; every problem at once.
pub fn prepare(args: &CheckArgs, env: &Environment) -> Result<(Plan, Followup), Error> {
    let mut problems = Vec::new();
    let url = collect(&mut problems, url(args.url.as_deref(), env));
    let api_key = collect(
        &mut problems,
        required(env, API_KEY, "the API key for this environment"),
    );
    let api_key_header = collect(
        &mut problems,
        header_name("--api-key-header", &args.api_key_header),
    );
    let request_id_header = collect(
        &mut problems,
        header_name("--request-id-header", &args.request_id_header),
    );
    let cert = collect(
        &mut problems,
        input(env, MTLS_CERT, "--cert", &args.pair.cert),
    );
    let key = collect(&mut problems, input(env, MTLS_KEY, "--key", &args.pair.key));
    let roots = collect(&mut problems, roots(args, env));
    let expectations = collect(
        &mut problems,
        Expectations::new(&args.expect_status, &args.expect_json, &args.expect_body),
    );
    problems.extend(limits(args));
    if args.api_key.is_some() {
        problems.push(Problem::new(
            "--api-key",
            "is not a flag: the API key is read from API_KEY only, never from the command line (where shell history and process lists keep it)",
        ));
    }
    let proxy = url
        .as_ref()
        .and_then(|url| collect(&mut problems, crate::plan::proxy::Proxy::for_url(env, url)))
        .flatten();
    let pair = cert.zip(key);
    let built = match (api_key, api_key_header, request_id_header, pair, roots) {
        (Some(api_key), Some(header), Some(request_id_header), Some(pair), Some(roots)) => {
            let description = Description {
                name: None,
                api_key: Some((header, api_key, API_KEY.to_string())),
                pair: Some(pair),
                request_id_header,
                headers: Vec::new(),
                roots,
                proxy,
            };
            consumer::build(description, SystemTime::now())
                .map_err(|mut found| problems.append(&mut found))
                .ok()
        }
        _ => None,
    };
    let (Some(url), Some(expectations), Some(built), true) =
        (url, expectations, built, problems.is_empty())
    else {
        return Err(Error::Config(problems));
    };
    let redactor = Redactor::new(built.secrets);
    let host = url.host_str().unwrap_or("the API").to_string();
    let name = format!("GET {}", crate::redact::display_url(&redactor, &url));
    let retry = RetryPolicy {
        attempts: args.attempts,
        delay: args.retry_delay,
        timeout: args.timeout,
        deadline: args.deadline,
    };
    let check = Check {
        follow_redirects: args.follow_redirects,
        max_body: args.max_body,
        ..Check::get(name, url, expectations, retry)
    };
    let followup = super::notify::followup(&args.notify, env, &host)?;
    let plan = Plan::one(check, built.consumer, redactor, args.cert_warn_days);
    Ok((plan, followup))
}

/// Checks the limits and the output path, so a result that cannot be written is known before sending.
fn limits(args: &CheckArgs) -> Vec<Problem> {
    let mut problems = Vec::new();
    if args.deadline.is_some_and(|d| d.is_zero()) {
        problems.push(Problem::new("--deadline", "must be more than zero"));
    }
    if args.timeout.is_zero() {
        problems.push(Problem::new("--timeout", "must be more than zero"));
    }
    problems
}

/// Reads what `heartbeat cert inspect` needs: the certificate from `--cert` or MTLS_CERT (required) and the
/// key from `--key` or MTLS_KEY (optional).
pub fn inspection(args: &InspectArgs, env: &Environment) -> Result<InspectConfig, Error> {
    let cert =
        input(env, MTLS_CERT, "--cert", &args.pair.cert).map_err(|p| Error::Config(vec![p]))?;
    let key = input(env, MTLS_KEY, "--key", &args.pair.key).ok();
    Ok(InspectConfig {
        cert,
        key,
        warn_days: args.cert_warn_days,
        format: args.format,
    })
}

fn collect<T>(problems: &mut Vec<Problem>, result: Result<T, Problem>) -> Option<T> {
    result.map_err(|p| problems.push(p)).ok()
}

fn required(env: &Environment, name: &str, what: &str) -> Result<SecretString, Problem> {
    if let Some(problem) = env.utf8_problem(name) {
        return Err(problem);
    }
    env.get(name)
        .map(|v| SecretString::from(v.to_string()))
        .ok_or_else(|| Problem::new(name, format!("is not set ({what})")))
}

fn input(
    env: &Environment,
    var: &'static str,
    flag: &'static str,
    path: &Option<PathBuf>,
) -> Result<Named, Problem> {
    if let (None, Some(problem)) = (path, env.utf8_problem(var)) {
        return Err(problem);
    }
    match (path, env.get(var)) {
        (Some(path), _) => Ok(Named::new(flag, Input::File(path.clone()))),
        (None, Some(value)) => Ok(Named::new(
            var,
            Input::Value(SecretString::from(value.to_string())),
        )),
        (None, None) => Err(Problem::new(
            var,
            format!(
                "is not set (base64 of a PEM file, PEM, or a file path); set it or pass {flag}"
            ),
        )),
    }
}

/// Builds the trust store: the built-in roots, plus `--ca-cert` or SERVICE_CA_CERT when one is given.
fn roots(args: &CheckArgs, env: &Environment) -> Result<RootCertStore, Problem> {
    if let (None, Some(problem)) = (&args.ca_cert, env.utf8_problem(SERVICE_CA_CERT)) {
        return Err(problem);
    }
    let Ok(ca) = input(env, SERVICE_CA_CERT, "--ca-cert", &args.ca_cert) else {
        return identity::root_store(SERVICE_CA_CERT, &[]);
    };
    identity::root_store(&ca.label, &input::read_certificates(&ca.label, &ca.input)?)
}
