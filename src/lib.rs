//! heartbeat: a synthetic check that calls an API the way a real consumer does (API key header, mutual
//! TLS), asserts on the answer, explains every failure, and exits with a code a CI pipeline can act on.
//!
//! `run` takes parsed arguments and returns the exit code; `main` only prints the error it may return. The
//! front-ends (`cli`, `suite`, `demo`) build plans; `engine` runs them.

pub mod access;
mod atomic_file;
mod bounded_file;
pub mod cli;
mod delivery;
#[cfg(feature = "sandbox")]
pub(crate) mod demo;
pub mod duration;
pub(crate) mod engine;
pub mod environment;
pub mod error;
mod escape;
mod fleet;
mod followup;
pub(crate) mod interrupt;
mod metrics;
pub(crate) mod notify;
mod ping;
pub(crate) mod plan;
pub(crate) mod probe;
pub mod process;
pub mod redact;
pub(crate) mod report;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod state;
pub mod tls;

pub use cli::run;
pub use error::{Error, ExitCode};
