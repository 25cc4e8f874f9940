use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    heartbeat::process::harden();
    let cli = heartbeat::cli::Cli::parse();
    match heartbeat::run(cli) {
        Ok(code) => ExitCode::from(code.code()),
        Err(error) => {
            let _ = error.report(&mut std::io::stderr());
            ExitCode::from(error.exit_code().code())
        }
    }
}
