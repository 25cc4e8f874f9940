//! Every rendering of a run's results, from the same `CheckResult`s: human text on stderr (one check's
//! attempts and verdict, or a suite's lines and summary), JSON on stdout, JUnit XML in a file.

pub mod json;
pub mod junit;
mod summary;
mod text;

pub use summary::{line, list, summary};
pub use text::TextReport;
pub(crate) use text::ids;

/// What stdout carries: nothing (the text goes to stderr), or one JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}
