//! The command line's definitions: commands, flags and their typed value parsers. No I/O here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::environment::{ColorChoice, Environment};
use crate::error::EXIT_CODES_HELP;
use crate::report::Format;

use super::notify::NotifyArgs;
use super::suite::{SUITE_HELP, SuiteArgs};

/// The version line: the crate version and the target it was built for.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("HEARTBEAT_TARGET"),
    ")"
);

/// Checks an API the way a real consumer calls it: API key, mutual TLS, an assertion on the answer.
#[derive(Debug, Parser)]
#[command(name = "heartbeat", version = VERSION_LINE, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process, so the size difference between variants costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Calls the API once (retrying as configured) and exits with its verdict.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Runs a suite file: many checks and consumers, doors that must open and doors that must stay locked.
    #[command(after_help = SUITE_HELP)]
    Suite(SuiteArgs),
    /// Reads client certificates and keys; sends nothing.
    #[command(subcommand)]
    Cert(CertCommand),
    /// The team's authorisation config: explain a decision, diff two versions, derive a matrix of checks.
    #[command(subcommand)]
    Access(super::access::AccessCommand),
    /// Prints a completion script for a shell.
    #[command(
        after_help = "Examples:\n  heartbeat completions bash > /etc/bash_completion.d/heartbeat\n  heartbeat completions zsh > \"${fpath[1]}/_heartbeat\"\n  heartbeat completions fish > ~/.config/fish/completions/heartbeat.fish"
    )]
    Completions {
        /// The shell
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Prints the man page (roff).
    #[command(after_help = "Examples:\n  heartbeat man > heartbeat.1\n  heartbeat man | man -l -")]
    Man,
    /// Runs a local imitation of the Integration API with mandatory client certificates.
    #[cfg(feature = "sandbox")]
    #[command(after_help = SANDBOX_HELP)]
    Sandbox(SandboxArgs),
    /// Starts the sandbox in-process and shows a healthy and three failing checks, then a suite.
    #[cfg(feature = "sandbox")]
    #[command(after_help = "Examples:\n  heartbeat demo\n  heartbeat demo --color never")]
    Demo(DemoArgs),
    /// Panics on purpose, so tests can see the panic hook at work (debug builds only).
    #[cfg(debug_assertions)]
    #[command(hide = true)]
    InternalPanic,
}

const CHECK_HELP: &str = concat!(
    "Environment (flags override it):
  SERVICE_URL       the URL to GET
  API_KEY           sent in the x-api-key header
  MTLS_CERT         client certificate: base64 of a PEM file, PEM, or a file path
  MTLS_KEY          client private key: base64 of a PEM file, PEM, or a file path
  SERVICE_CA_CERT   optional private CA for the server, added to the built-in public roots
  HTTPS_PROXY       proxy for https URLs (also https_proxy, ALL_PROXY), as curl reads it
  NO_PROXY          hosts reached directly: comma-separated names, domains (.example) or *
  NO_COLOR          when set and not empty, no colour; CLICOLOR_FORCE=1 forces it

The API key is read from API_KEY only, never from the command line.

",
    crate::exit_codes_text!(),
    "

Examples:
  heartbeat check
  heartbeat check --url https://dev.integration-api.example/v1/persons/A8451DY --attempts 1
  heartbeat check --expect-json '$.data.prisonerOffenderSearch.firstName' --junit results/heartbeat.xml"
);

/// The client certificate and key as files; without them, MTLS_CERT and MTLS_KEY are read.
#[derive(Debug, Clone, Args)]
pub struct PairArgs {
    /// Client certificate file (PEM) [default: $MTLS_CERT]
    #[arg(long, value_name = "PATH")]
    pub cert: Option<PathBuf>,
    /// Client private key file (PEM) [default: $MTLS_KEY]
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// URL to check [default: $SERVICE_URL]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub pair: PairArgs,
    /// Private CA for the server's certificate (PEM) [default: $SERVICE_CA_CERT]
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
    /// Header that carries the API key
    #[arg(long, value_name = "NAME", default_value = "x-api-key")]
    pub api_key_header: String,
    /// Refused on purpose: a key on the command line lands in shell history and process lists
    #[arg(long, value_name = "KEY", hide = true)]
    pub api_key: Option<String>,
    /// Header that carries a fresh request id per attempt
    #[arg(long, value_name = "NAME", default_value = "x-request-id")]
    pub request_id_header: String,
    /// Follow redirects to the same origin (scheme, host and port); never to another
    #[arg(long)]
    pub follow_redirects: bool,
    /// Largest body read; a larger answer fails the check
    #[arg(long, value_name = "SIZE", default_value = "10MiB", value_parser = parse_size)]
    pub max_body: u64,
    /// Statuses that count as healthy, comma-separated
    #[arg(long, value_name = "CODES", value_delimiter = ',', default_value = "200", value_parser = clap::value_parser!(u16).range(100..=599))]
    pub expect_status: Vec<u16>,
    /// RFC 9535 JSONPath that must select at least one node; JSONPATH=VALUE compares [default: $..firstName]
    #[arg(long, value_name = "JSONPATH")]
    pub expect_json: Vec<String>,
    /// Text the body must contain
    #[arg(long, value_name = "TEXT")]
    pub expect_body: Vec<String>,
    /// How many attempts before giving up
    #[arg(long, value_name = "N", default_value = "5", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub attempts: u32,
    /// Wait between attempts (500ms, 10s, 2m; a plain number is seconds)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub retry_delay: Duration,
    /// Limit for one attempt, connecting included
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Limit for the whole run, all attempts and waits included
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub deadline: Option<Duration>,
    /// Warn when the client certificate expires within this many days
    #[arg(long, value_name = "DAYS", default_value = "30")]
    pub cert_warn_days: u32,
    /// Result on stdout: none for text (progress goes to stderr), or one JSON object
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write the result as JUnit XML (for CircleCI store_test_results)
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Print only the verdict of a failed check
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print each answer's status line and headers (secret-bearing values redacted)
    #[arg(long, short)]
    pub verbose: bool,
    /// When to colour the text output
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Prints what MTLS_CERT (and MTLS_KEY) say: subject, issuer, version, key, validity, key match, problems.
    #[command(after_help = INSPECT_HELP)]
    Inspect(InspectArgs),
    /// Judges the fleet's certificates for the day: expired, on an alert day, revoked, ignored, not from the CA.
    #[command(after_help = WATCH_HELP)]
    Watch(super::watch::WatchArgs),
}

const WATCH_HELP: &str = "\
Exit codes: 0 nothing due; 1 something needs action or is inside the alert window; 2 bad input; 6 a
certificate has already expired. Only files named *.pem, *.crt or *.cer (never *key*) are opened.

Examples:
  aws s3 sync s3://hmpps-integration-api-dev-certificates-backup certs/dev --exclude '*' --include '*/client.pem'
  heartbeat cert watch certs --ca ca.crt --config authorisation.yaml --ignore ignore.toml --notify slack";

#[cfg(feature = "sandbox")]
const SANDBOX_HELP: &str = "\
The gateway: a wrong or missing x-api-key gets 403 {\"message\":\"Forbidden\"} (x-amzn-ErrorType); every answer
carries x-amzn-RequestId. The WAF: a query that looks like SQL injection gets nginx's 403 page. The application:
consumers by certificate CN, decided as the real one decides (revoked serial, suspended, on-behalf-of, no
config, path not permitted; each 401/403 in Spring's error body), and every route it authorises answering.

Consumers (default; --consumers FILE reads the team's authorisation.yaml: consumers with roles or include,
is-suspended, obo-config, the certificate-revocation-list, and an optional roles section over the team's roles):
  heartbeat        include /v1/persons/[^/]*$   (--write-env's API_KEY, MTLS_CERT, MTLS_KEY)
  full-access      role full-access             (FULL_ACCESS_*, DEV_SMOKE_TEST_FULL_ACCESS_*)
  limited-access   /v1/persons/{hmppsId}/name   (LIMITED_ACCESS_*, DEV_SMOKE_TEST_LIMITED_ACCESS_*)
  no-access        nothing                      (NO_ACCESS_*, DEV_SMOKE_TEST_NO_ACCESS_*)
  revoked          full-access, serial revoked  (REVOKED_*, DEV_SMOKE_TEST_REVOKED_*)
  suspended        full-access, suspended       (SUSPENDED_*)
  smoke-minimal    role reference-data-only     (PREPROD_SMOKE_TEST_*, PROD_SMOKE_TEST_*)

Routes: the API's 111 path templates (GET, and the team's POST/PUT ones), plus for tests:
  /fault/forbidden, /fault/gateway-timeout, /fault/bad-gateway, /fault/error, /fault/slow?delay=2s,
  /fault/flap?failures=N&id=X, /fault/no-first-name, /fault/html, /fault/large?bytes=N, /fault/stream?bytes=N,
  /fault/redirect?to=URL, /fault/reset, /fault/echo-key, /fault/echo-obo, /fault/echo-body,
  /fault/status?code=N&retry_after=S

Exit codes: 0 stopped cleanly (Ctrl-C, SIGTERM); 1 could not start (port in use, unusable CA); 2 bad flags.

Examples:
  heartbeat sandbox --write-env sb.env
  heartbeat sandbox --port 8443 --api-key local-key
  heartbeat sandbox --ca-cert ca.pem --ca-key ca.key --consumers authorisation.yaml
  heartbeat sandbox --write-env sb.env --delius-down";

const INSPECT_HELP: &str = "\
Reads MTLS_CERT and, when set, MTLS_KEY (base64 of a PEM file, PEM, or a file path); flags override them.

Exit codes:
  0  no problems found
  1  problems found: expired or expiring, X.509 v1, no clientAuth purpose, or a key from another pair
  2  the certificate or key cannot be read

Examples:
  heartbeat cert inspect
  heartbeat cert inspect --cert dev-heartbeat-client.pem --key dev-heartbeat-client.key
  heartbeat cert inspect --format json --cert-warn-days 45";

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub pair: PairArgs,
    /// Count expiry within this many days as a problem
    #[arg(long, value_name = "DAYS", default_value = "30")]
    pub cert_warn_days: u32,
    /// Report as text or one JSON object
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Port to listen on [default: a free port]
    #[arg(
        long,
        value_name = "PORT",
        default_value = "0",
        hide_default_value = true
    )]
    pub port: u16,
    /// Address to listen on; non-loopback needs --allow-remote
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Allow listening on a non-loopback address
    #[arg(long)]
    pub allow_remote: bool,
    /// API key the sandbox accepts [default: random]
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// CA certificate (PEM) to sign the server and client certificates with, instead of a throwaway CA
    #[arg(long, value_name = "PATH", requires = "ca_key")]
    pub ca_cert: Option<PathBuf>,
    /// CA private key (PEM), with --ca-cert
    #[arg(long, value_name = "PATH", requires = "ca_cert")]
    pub ca_key: Option<PathBuf>,
    /// Write the heartbeat consumer's context (SERVICE_URL, API_KEY, MTLS_CERT, MTLS_KEY, SERVICE_CA_CERT), SERVICE_BASE_URL, DOMAIN, HMPPSID, OBO_TOKEN and every profile's variables under the team's names to this file (mode 0600), ready to source
    #[arg(long, value_name = "FILE")]
    pub write_env: Option<PathBuf>,
    /// Consumers, roles and the revocation list, as in the team's authorisation.yaml [default: the profiles above]
    #[arg(long, value_name = "FILE")]
    pub consumers: Option<PathBuf>,
    /// Answer reference data with 500, as when Delius is down
    #[arg(long)]
    pub delius_down: bool,
    /// Switch the WAF off (a query that looks like SQL injection reaches the application)
    #[arg(long)]
    pub no_waf: bool,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// When to colour the text output
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// Parses the command line, with clap's own messages coloured as `color` decides from the raw `--color`.
pub fn parse(args: Vec<std::ffi::OsString>, env: &Environment) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let flag = color_flag(&args);
    let matches = Cli::command()
        .color(super::values::clap_color(env, flag))
        .try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// Finds `--color WHEN` or `--color=WHEN` before clap has parsed anything.
fn color_flag(args: &[std::ffi::OsString]) -> Option<ColorChoice> {
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let value = words.iter().enumerate().find_map(|(i, word)| {
        word.strip_prefix("--color=").or_else(|| {
            (*word == "--color")
                .then(|| words.get(i + 1).copied())
                .flatten()
        })
    })?;
    ColorChoice::from_str(value, true).ok()
}

/// Parses a duration flag; see `duration::parse`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text)
}

/// Parses `10MiB`, `512KB` or a plain number of bytes; see `check::parse_size`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    crate::plan::check::parse_size(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_units() {
        assert_eq!(parse_size("10MiB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("65536"), Ok(65536));
        assert!(parse_size("big").is_err());
    }

    #[test]
    fn clap_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
