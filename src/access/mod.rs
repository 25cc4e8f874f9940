//! The Integration API's access rules, once: read from the team's authorisation config and decided as the
//! application decides them. The sandbox answers with them; the access commands will derive checks from them.

mod bounds;
mod config;
mod pattern;
mod rules;

pub use bounds::MAX_FILE;
pub use pattern::normalise;
pub use rules::{Decision, Rules, serial_hex};
