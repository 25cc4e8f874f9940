//! Cancelled is a verdict: SIGINT (Ctrl-C) and SIGTERM (a cancelled CircleCI job, a Kubernetes pod being
//! stopped) end a run at once, and what finished is still reported, with exit 130 or 143.

/// The signal that stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    /// Names the signal as people know it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }

    /// The exit code a run this signal stopped ends with: 128 + the signal's number, as shells report it.
    pub fn exit_code(self) -> crate::error::ExitCode {
        match self {
            Self::Interrupt => crate::error::ExitCode::Interrupted,
            Self::Terminate => crate::error::ExitCode::Terminated,
        }
    }
}

/// Listens for SIGINT and SIGTERM from the moment it is built, so neither kills the process first.
pub struct Listener {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Listener {
    /// Starts listening; must be called inside the runtime.
    pub fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for the first of the two signals.
    pub async fn wait(&mut self) -> Signal {
        #[cfg(unix)]
        if let (Some(interrupt), Some(terminate)) = (&mut self.interrupt, &mut self.terminate) {
            return tokio::select! {
                _ = interrupt.recv() => Signal::Interrupt,
                _ = terminate.recv() => Signal::Terminate,
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        Signal::Interrupt
    }
}

impl Default for Listener {
    fn default() -> Self {
        Self::new()
    }
}
