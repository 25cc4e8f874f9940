//! The error taxonomy in one place: what can go wrong, which exit code it means, and the hint a user needs
//! to act on it. Every other module returns these values; only `main` prints them.

use std::fmt;
use std::path::PathBuf;

/// The process exit codes, documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The API answered as expected.
    Healthy = 0,
    /// The API answered, but not as expected (status, assertion, redirect, body too large).
    Unhealthy = 1,
    /// Invalid usage or configuration; nothing was sent.
    Usage = 2,
    /// No answer: DNS, connection refused or reset, timeout.
    NoAnswer = 3,
    /// TLS failure: server certificate not trusted or invalid, or our client certificate refused.
    Tls = 4,
    /// A door that must be locked was open: a request that must be refused got a 2xx or 3xx (suite).
    DoorOpen = 5,
    /// `cert watch`: a certificate has already expired (and is neither ignored nor revoked).
    Expired = 6,
    /// An internal error (a bug): reported in one line without any secret.
    Internal = 70,
    /// Stopped by SIGINT (Ctrl-C); what finished is reported.
    Interrupted = 130,
    /// Stopped by SIGTERM (a cancelled job, a pod being stopped); what finished is reported.
    Terminated = 143,
}

impl ExitCode {
    /// Returns the number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Picks the most telling of several checks' codes: a door left open, then TLS, then no answer, then a
    /// wrong answer; all healthy is healthy.
    pub fn most_telling(codes: impl IntoIterator<Item = ExitCode>) -> ExitCode {
        let rank = |code: &ExitCode| match code {
            Self::Interrupted | Self::Terminated => 8,
            Self::Internal => 7,
            Self::Usage => 6,
            Self::DoorOpen | Self::Expired => 5,
            Self::Tls => 4,
            Self::NoAnswer => 3,
            Self::Unhealthy => 2,
            Self::Healthy => 1,
        };
        codes.into_iter().max_by_key(rank).unwrap_or(Self::Healthy)
    }
}

/// The exit-code table as a literal, so `--help` texts can `concat!` it.
#[macro_export]
macro_rules! exit_codes_text {
    () => {
        "Exit codes:
  0    healthy: the API answered as expected
  1    unhealthy: the API answered, but not as expected (status, assertion, redirect, body too large)
  2    invalid usage or configuration: nothing was sent
  3    no answer: DNS failure, connection refused or reset, timeout, or the proxy refused or unreachable
  4    TLS failure: server certificate not trusted or invalid, or our client certificate refused
  5    a door that must stay locked was open (suite: an expect = \"refused\" check got a 2xx or 3xx)
  6    cert watch: a certificate has already expired (1: one is due within the alert window)
  70   internal error (a bug): one line, no secret; please report it
  130  stopped by SIGINT (Ctrl-C): what finished is still reported
  143  stopped by SIGTERM (a cancelled job, a pod being stopped): what finished is still reported"
    };
}

/// The table printed under `--help`.
pub const EXIT_CODES_HELP: &str = exit_codes_text!();

/// One invalid or missing input, named without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The input's name, as a user sets it (`MTLS_KEY`, `--timeout`).
    pub input: String,
    /// What is wrong and what to do; never contains the input's value when it is secret.
    pub message: String,
}

impl Problem {
    /// Builds a problem for the named input.
    pub fn new(input: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            input: input.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.message)
    }
}

/// Everything that stops heartbeat before or outside a check verdict.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration ({} problem{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    Config(Vec<Problem>),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("the demo did not behave as expected: {0}")]
    Demo(String),
    /// The sandbox could not start (its PKI, its TLS setup, its port): not a usage error.
    #[error("the sandbox could not start: {0}")]
    Startup(String),
}

fn list(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    lines.join("\n")
}

impl Error {
    /// Maps the error to the process exit code.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Config(_) | Self::Usage(_) | Self::Write { .. } | Self::Io { .. } => {
                ExitCode::Usage
            }
            Self::Demo(_) | Self::Startup(_) => ExitCode::Unhealthy,
        }
    }

    /// Gives the hint printed under the error.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Config(_) => {
                Some("nothing was sent; set the inputs named above (see --help) and run again")
            }
            Self::Write { .. } => Some("check the directory exists and is writable"),
            _ => None,
        }
    }

    /// Writes the error once, as `heartbeat: error: …` with its hint under it.
    pub fn report(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        writeln!(out, "heartbeat: error: {self}")?;
        match self.hint() {
            Some(hint) => writeln!(out, "  hint: {hint}"),
            None => Ok(()),
        }
    }

    /// Maps the result of writing output: a broken pipe (the reader left, as `| head` does) is not an error.
    pub fn output(context: &str, result: std::io::Result<()>) -> Result<(), Self> {
        match result {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Self::io(context, e)),
            _ => Ok(()),
        }
    }

    /// Wraps an I/O error with what heartbeat was doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_telling_code_wins_whatever_the_order() {
        use ExitCode::*;
        let order = [
            Healthy,
            Unhealthy,
            NoAnswer,
            Tls,
            Expired,
            Usage,
            Internal,
            Interrupted,
        ];
        for (i, lower) in order.iter().enumerate() {
            for higher in &order[i + 1..] {
                assert_eq!(
                    ExitCode::most_telling([*lower, *higher]),
                    *higher,
                    "{lower:?} vs {higher:?}"
                );
                assert_eq!(
                    ExitCode::most_telling([*higher, *lower]),
                    *higher,
                    "{higher:?} vs {lower:?}"
                );
            }
        }
        assert_eq!(ExitCode::most_telling([Terminated, DoorOpen]), Terminated);
        // A door left open ranks as an expired certificate does (the two never meet in one command).
        assert_eq!(ExitCode::most_telling([Tls, DoorOpen]), DoorOpen);
        assert_eq!(ExitCode::most_telling([DoorOpen, Tls]), DoorOpen);
        assert_eq!(ExitCode::most_telling([DoorOpen, Usage]), Usage);
        assert_eq!(ExitCode::most_telling([]), Healthy);
    }

    fn reported(error: &Error) -> String {
        let mut out = Vec::new();
        error.report(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_report_names_every_problem_and_the_hint_that_fits() {
        let one = Error::Config(vec![Problem::new("--url", "is empty")]);
        assert_eq!(
            reported(&one),
            "heartbeat: error: invalid configuration (1 problem):\n  - --url: is empty\n  \
             hint: nothing was sent; set the inputs named above (see --help) and run again\n"
        );
        let two = Error::Config(vec![Problem::new("a", "x"), Problem::new("b", "y")]);
        assert!(reported(&two).starts_with(
            "heartbeat: error: invalid configuration (2 problems):\n  - a: x\n  - b: y\n  hint: "
        ));
        let write = Error::Write {
            path: PathBuf::from("/nowhere/r.xml"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert!(
            reported(&write).ends_with("\n  hint: check the directory exists and is writable\n")
        );
        // Errors that are not the user's inputs have no hint line.
        let usage = Error::Usage("no such command".into());
        assert_eq!(reported(&usage), "heartbeat: error: no such command\n");
        assert_eq!(Error::Demo("x".into()).hint(), None);
    }

    #[test]
    fn a_reader_that_left_is_not_an_error_but_a_full_disk_is() {
        let gone = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(Error::output("stdout", Err(gone)).is_ok());
        assert!(Error::output("stdout", Ok(())).is_ok());
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let error = Error::output("writing the report", Err(full)).unwrap_err();
        assert!(
            error.to_string().starts_with("writing the report: "),
            "{error}"
        );
        assert_eq!(error.exit_code(), ExitCode::Usage);
    }
}
