//! Turns `heartbeat check`'s flags plus the environment into one validated check and the consumer that makes
//! it, listing every problem at once so a user fixes them in one go. Nothing is sent until this succeeds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use reqwest::header::HeaderValue;
use rustls::RootCertStore;
use secrecy::{ExposeSecret, SecretString};

use crate::assert::Expectations;
use crate::check::{Check, Request, RetryPolicy};
use crate::cli::{CheckArgs, Format, InspectArgs};
use crate::consumer::{ApiKey, Consumer};
use crate::environment::{API_KEY, Environment, MTLS_CERT, MTLS_KEY, SERVICE_CA_CERT};
use crate::error::{Error, Problem};
use crate::identity::{self, ClientIdentity};
use crate::input::{self, Input};
use crate::redact::Redactor;
use crate::target::{header_name, url};

/// Everything `heartbeat check` needs, validated: the check, who makes it, and what to redact.
#[derive(Debug)]
pub struct CheckConfig {
    pub check: Check,
    pub consumer: Consumer,
    pub cert_warn_days: u32,
    /// Redacts every secret this check holds, in every form, from server text.
    redactor: Redactor,
}

impl CheckConfig {
    /// Builds a configuration from plain values (what the demo and any other caller without flags does); the
    /// redactor covers `secrets` in every form.
    pub fn new(
        check: Check,
        consumer: Consumer,
        secrets: Vec<SecretString>,
        cert_warn_days: u32,
    ) -> Self {
        Self {
            check,
            consumer,
            cert_warn_days,
            redactor: Redactor::new(secrets),
        }
    }

    /// Returns the redactor for every secret this check holds (built once: its forms cost to compute).
    pub fn redactor(&self) -> Redactor {
        self.redactor.clone()
    }

    /// Returns the URL as it may be printed: no userinfo, and a secret someone put in it is redacted.
    pub fn display_url(&self) -> String {
        crate::redact::display_url(&self.redactor, &self.check.request.url)
    }
}

/// Where and how a result is written; from the flags alone, apart from the check.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    pub format: Format,
    pub junit: Option<PathBuf>,
    pub quiet: bool,
    pub color: bool,
    /// Print each response's status line and headers.
    pub verbose: bool,
}

impl OutputOptions {
    /// Takes the output flags of `check`.
    pub fn from_args(args: &CheckArgs, color: bool) -> Self {
        Self {
            format: args.format,
            junit: args.junit.clone(),
            quiet: args.quiet,
            color,
            verbose: args.verbose,
        }
    }
}

impl CheckConfig {
    /// Validates flags and environment together; returns every problem at once.
    pub fn load(args: &CheckArgs, env: &Environment) -> Result<Self, Error> {
        let mut problems = Vec::new();
        let now = SystemTime::now();
        let url = collect(&mut problems, url(args.url.as_deref(), env));
        let api_key = collect(&mut problems, api_key(env));
        let api_key_header = collect(
            &mut problems,
            header_name("--api-key-header", &args.api_key_header),
        );
        let request_id_header = collect(
            &mut problems,
            header_name("--request-id-header", &args.request_id_header),
        );
        let identity = identity(args, env, now, &mut problems);
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
            .and_then(|url| collect(&mut problems, crate::proxy::Proxy::for_url(env, url)))
            .flatten();
        let (
            Some(url),
            Some(api_key),
            Some(api_key_header),
            Some(request_id_header),
            Some(identity),
            Some(roots),
            Some(expectations),
        ) = (
            url,
            api_key,
            api_key_header,
            request_id_header,
            identity,
            roots,
            expectations,
        )
        else {
            return Err(Error::Config(problems));
        };
        if !problems.is_empty() {
            return Err(Error::Config(problems));
        }
        let key = ApiKey::new(api_key_header, api_key.expose_secret())
            .ok_or_else(|| Error::Config(vec![not_a_header_value()]))?;
        let mut config = Self {
            redactor: Redactor::new(secrets(env, &api_key, args)),
            check: Check {
                name: String::new(),
                request: Request::get(url),
                expectations,
                retry: RetryPolicy {
                    attempts: args.attempts,
                    delay: args.retry_delay,
                    timeout: args.timeout,
                    deadline: args.deadline,
                },
                follow_redirects: args.follow_redirects,
                max_body: args.max_body,
                max_latency: None,
                expect_refused: false,
            },
            consumer: Consumer {
                name: None,
                api_key: Some(key),
                request_id_header,
                identity: Some(Arc::new(identity)),
                roots,
                proxy,
            },
            cert_warn_days: args.cert_warn_days,
        };
        config.check.name = format!("GET {}", config.display_url());
        Ok(config)
    }
}

/// Reads the API key trimmed of spaces and tabs at its ends, as HTTP trims a header value, so what is
/// redacted is exactly what is sent.
fn api_key(env: &Environment) -> Result<SecretString, Problem> {
    let key = required(env, API_KEY, "the API key for this environment")?;
    let trimmed = SecretString::from(key.expose_secret().trim_matches([' ', '\t']).to_string());
    match HeaderValue::from_str(trimmed.expose_secret()) {
        Ok(_) => Ok(trimmed),
        Err(_) => Err(not_a_header_value()),
    }
}

fn not_a_header_value() -> Problem {
    Problem::new(
        API_KEY,
        "holds characters not allowed in an HTTP header (a line break?)",
    )
}

/// Loads the certificate and key and checks the certificate is valid now.
fn identity(
    args: &CheckArgs,
    env: &Environment,
    now: SystemTime,
    problems: &mut Vec<Problem>,
) -> Option<ClientIdentity> {
    let cert = input(env, MTLS_CERT, "--cert", &args.pair.cert);
    let key = input(env, MTLS_KEY, "--key", &args.pair.key);
    let (cert, key) = match (cert, key) {
        (Ok(cert), Ok(key)) => (cert, key),
        (cert, key) => {
            problems.extend(cert.err().into_iter().chain(key.err()));
            return None;
        }
    };
    let identity = ClientIdentity::load(cert.as_pair(), key.as_pair())
        .map_err(|mut p| problems.append(&mut p))
        .ok()?;
    problems.extend(identity.facts.validity_problem(cert.name, now));
    Some(identity)
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

/// What `heartbeat cert inspect` reads: the certificate, and the key when there is one.
#[derive(Debug)]
pub struct InspectConfig {
    pub cert: NamedInput,
    pub key: Option<NamedInput>,
    pub warn_days: u32,
    pub format: Format,
}

impl InspectConfig {
    /// Takes the certificate from `--cert` or MTLS_CERT (required) and the key from `--key` or MTLS_KEY (optional).
    pub fn load(args: &InspectArgs, env: &Environment) -> Result<Self, Error> {
        let cert =
            input(env, MTLS_CERT, "--cert", &args.pair.cert).map_err(|p| Error::Config(vec![p]))?;
        let key = input(env, MTLS_KEY, "--key", &args.pair.key).ok();
        Ok(Self {
            cert,
            key,
            warn_days: args.cert_warn_days,
            format: args.format,
        })
    }
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

/// A certificate or key input, named as the user set it.
#[derive(Debug)]
pub struct NamedInput {
    pub name: &'static str,
    pub input: Input,
}

impl NamedInput {
    fn as_pair(&self) -> (&str, &Input) {
        (self.name, &self.input)
    }
}

fn input(
    env: &Environment,
    var: &'static str,
    flag: &'static str,
    path: &Option<PathBuf>,
) -> Result<NamedInput, Problem> {
    if let (None, Some(problem)) = (path, env.utf8_problem(var)) {
        return Err(problem);
    }
    match (path, env.get(var)) {
        (Some(path), _) => Ok(NamedInput {
            name: flag,
            input: Input::File(path.clone()),
        }),
        (None, Some(value)) => Ok(NamedInput {
            name: var,
            input: Input::Value(SecretString::from(value.to_string())),
        }),
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
    identity::root_store(ca.name, &input::read_certificates(ca.name, &ca.input)?)
}

/// Lists the secret values as given and in the forms a server might echo them.
fn secrets(env: &Environment, api_key: &SecretString, args: &CheckArgs) -> Vec<SecretString> {
    let mut secrets = vec![api_key.clone()];
    for name in [API_KEY, MTLS_CERT, MTLS_KEY] {
        if let Some(value) = env.get(name) {
            secrets.push(SecretString::from(value.trim().to_string()));
        }
    }
    // The PEM behind a certificate or key, from a value or a file: its base64 body whole and line by line.
    let pair = [
        (MTLS_CERT, "--cert", &args.pair.cert),
        (MTLS_KEY, "--key", &args.pair.key),
    ];
    for (var, flag, path) in pair {
        let pem = input(env, var, flag, path).and_then(|i| input::read_pem(i.name, &i.input));
        if let Ok(pem) = pem {
            secrets.extend(pem_secrets(&pem));
        }
    }
    secrets.retain(|s| s.expose_secret().len() >= 4);
    secrets
}

/// Lists a PEM text's body lines (16 characters or more) and its whole body joined, as secrets.
pub(crate) fn pem_secrets(pem: &[u8]) -> Vec<SecretString> {
    let text = String::from_utf8_lossy(pem);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----") && !l.contains(':'))
        .collect();
    let mut secrets: Vec<SecretString> = lines
        .iter()
        .filter(|l| l.len() >= 16)
        .map(|l| SecretString::from(l.to_string()))
        .collect();
    secrets.push(SecretString::from(lines.concat()));
    secrets
}
