//! The Integration API's access rules, once: read from the team's authorisation config and decided as the
//! application decides them. The sandbox answers with them; `heartbeat access`
//! explains them, diffs two versions and derives a matrix of checks from them.

mod bounds;
mod config;
mod diff;
mod explain;
mod grant;
mod matrix;
mod pattern;
mod routes;
mod rules;

pub use bounds::{MAX_FILE, read_file};
pub use diff::{Change, diff, text as diff_text};
pub use explain::{Explanation, explain};
pub use grant::Grant;
pub use matrix::{Coverage, Matrix, Probe, generate};
pub use pattern::normalise;
pub use routes::{Route, TEAM_ROUTES, fixtures, read as read_routes};
pub use rules::{Decision, Rules, serial_hex};
