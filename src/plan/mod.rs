//! What runs, however it was asked for — `check`'s flags, a suite file, the demo: the consumers, the checks
//! each naming one of them, how many at once, and what to redact. Every front-end builds this; the engine runs it.

pub mod check;
pub mod consumer;
pub mod proxy;
pub mod suite_file;
pub mod target;

use crate::redact::Redactor;
use check::Check;
use consumer::Consumer;

/// What runs: the consumers, the checks each naming one of them, how many at once, and what to redact.
pub struct Plan {
    pub consumers: Vec<Consumer>,
    pub checks: Vec<Planned>,
    pub concurrency: usize,
    /// Covers every consumer's secrets in every form (built once: its forms cost to compute).
    pub redactor: Redactor,
    /// A client certificate that expires within this many days is warned about.
    pub cert_warn_days: u32,
}

/// A check and the index of the consumer that makes it.
pub struct Planned {
    pub check: Check,
    pub consumer: usize,
}

impl Plan {
    /// Builds the plan of one check by one consumer: what `heartbeat check` runs.
    pub fn one(check: Check, consumer: Consumer, redactor: Redactor, cert_warn_days: u32) -> Self {
        Self {
            consumers: vec![consumer],
            checks: vec![Planned { check, consumer: 0 }],
            concurrency: 1,
            redactor,
            cert_warn_days,
        }
    }

    /// Each consumer's name ("" for `heartbeat check`) and its client certificate's last valid second.
    pub fn certificates(&self) -> Vec<(String, i64)> {
        self.consumers
            .iter()
            .filter_map(|c| {
                let identity = c.identity.as_ref()?;
                Some((c.name.clone().unwrap_or_default(), identity.facts.not_after))
            })
            .collect()
    }
}
