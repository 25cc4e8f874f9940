//! Defence in depth for a process that holds secrets: no core dump may hold them, and a bug that panics still
//! ends in one line and a documented exit code, never an abort (exit 134) with a dump.

use crate::error::ExitCode;

/// Marks the process non-dumpable and installs the panic hook. Called first thing by `main`.
pub fn harden() {
    forbid_core_dumps();
    std::panic::set_hook(Box::new(|info| {
        // Only the location: a panic's message could carry data, and data could be secret.
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "heartbeat: internal error{location}; this is a bug, please report it (no secret was printed)"
        );
        std::process::exit(i32::from(ExitCode::Internal.code()));
    }));
}

#[cfg(unix)]
fn forbid_core_dumps() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on this process with valid arguments; failure leaves the defaults, which is
    // acceptable for defence in depth.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

#[cfg(not(unix))]
fn forbid_core_dumps() {}

/// Builds the single-threaded async runtime a command runs on: a run's checks and its notifications share it.
pub fn runtime() -> Result<tokio::runtime::Runtime, crate::error::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::io("starting the async runtime", e))
}
