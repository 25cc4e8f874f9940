//! heartbeat: a synthetic check that calls an API the way a real consumer does (API key header, mutual
//! TLS), asserts on the answer, explains every failure, and exits with a code a CI pipeline can act on.
//!
//! `run` takes parsed arguments and returns the exit code; `main` only prints the error it may return. The
//! front-ends (`cli`, `suite`, `demo`) build plans; `engine` runs them.

pub mod cli;
#[cfg(feature = "sandbox")]
pub mod demo;
pub mod duration;
pub mod engine;
pub mod environment;
pub mod error;
pub mod interrupt;
pub mod notify;
pub mod plan;
pub mod probe;
pub mod process;
pub mod redact;
pub mod report;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod tls;

pub use cli::run;
pub use error::{Error, ExitCode};
