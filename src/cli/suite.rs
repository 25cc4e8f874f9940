//! The flags of `heartbeat suite`, apart from the single check's: a suite is its own capability.

use std::path::PathBuf;

use clap::Args;

use super::notify::NotifyArgs;
use crate::environment::ColorChoice;
use crate::report::Format;

pub(super) const SUITE_HELP: &str = "\
Secrets (api_key, cert, key) are only ${NAME} references to the environment. Exit codes: 0 every check as
expected; 2 invalid file or inputs (nothing sent); 5 a door that must stay locked was open; otherwise the most
telling failure: 4 (TLS) over 3 (no answer) over 1 (wrong answer).

Examples:
  heartbeat suite examples/hmpps-integration-api/dev.toml --junit results/dev.xml
  heartbeat suite smoke.toml --consumer limited --junit results/suite.xml
  heartbeat suite smoke.toml --list";

/// The flags of `heartbeat suite`.
#[derive(Debug, Clone, Args)]
pub struct SuiteArgs {
    /// The suite file (TOML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Run only the check with this name (repeatable)
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Run only the checks of this consumer (repeatable)
    #[arg(long, value_name = "NAME")]
    pub consumer: Vec<String>,
    /// Checks in flight at once [default: the file's, else one per consumer]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: Option<u64>,
    /// Private CA for the server's certificate, instead of the file's ca_cert: a path, PEM, or base64 of PEM
    /// (as SERVICE_CA_CERT)
    #[arg(long, value_name = "CA")]
    pub ca_cert: Option<PathBuf>,
    /// Warn when a consumer's client certificate expires within this many days
    #[arg(long, value_name = "DAYS", default_value = "30")]
    pub cert_warn_days: u32,
    /// Result on stdout: none for text (progress goes to stderr), or one JSON object
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write JUnit XML: one test case per check (for CircleCI store_test_results)
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Validate the file and print the checks without sending anything
    #[arg(long)]
    pub list: bool,
    /// Print only failed checks and the summary
    #[arg(long, short)]
    pub quiet: bool,
    /// When to colour the text output
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub notify: NotifyArgs,
}
