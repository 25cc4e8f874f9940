use std::process::ExitCode;

use heartbeat::environment::Environment;

fn main() -> ExitCode {
    heartbeat::process::harden();
    let env = Environment::from_process();
    let cli = match heartbeat::cli::parse(std::env::args_os().collect(), &env) {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints usage errors to stderr (help and --version to stdout) and exits 2 for errors.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match heartbeat::run(cli, &env) {
        Ok(code) => ExitCode::from(code.code()),
        Err(error) => {
            let _ = error.report(&mut std::io::stderr());
            ExitCode::from(error.exit_code().code())
        }
    }
}
