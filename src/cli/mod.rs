//! The command line: clap definitions (`args`, `suite`, `notify`, `access`), how plain values are spelled (`values`), and
//! the front-ends that turn flags into plans and run them (`check`, `command`). clap stops here: no other module
//! sees a clap type.

mod access;
mod args;
mod check;
mod command;
pub mod manual;
mod notify;
mod suite;
mod values;
mod watch;

pub use args::{CheckArgs, Cli, Command, VERSION_LINE, parse};
pub use command::run;
pub use suite::SuiteArgs;
