//! The fleet's certificates: every consumer's client certificate (and the CA's), read from the team's layout
//! (`<env>/<client>/client.pem`, as an `aws s3 sync` of their bucket leaves it), each judged against the alert
//! schedule, the ignore list, the revocation list and the CA — what the team's daily expiry job does, and more.
//! Public certificates only: no private key is ever opened.

mod ignore;
mod report;
mod schedule;
mod tree;

pub use ignore::{Ignore, day_start, read as read_ignores};
pub use report::{cases, exit_code, json, lines, sort, table};
pub use schedule::{Judged, Rules as Schedule, State, judge};
pub use tree::{Found, Source, read_file, walk};
