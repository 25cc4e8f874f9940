//! What a scheduled run remembers of the runs before it, so notifications are transitions, not repetitions:
//! the record on disk (`record`) and the rules that turn this run's results into news (`transition`).

mod record;
mod transition;

pub use record::{load, save};
pub use transition::{Change, News, Policy, advance, key, untold};
