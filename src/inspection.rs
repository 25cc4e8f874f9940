//! `heartbeat cert inspect`: what a client certificate and key say about themselves, and what is wrong with
//! them (old X.509 v1, no clientAuth purpose, expired or expiring, a key from another pair). Sends nothing.

use std::io::{self, Write};
use std::time::SystemTime;

use serde_json::json;

use crate::cli::Format;
use crate::config::InspectConfig;
use crate::duration::rfc3339;
use crate::error::{Error, ExitCode, Problem};
use crate::identity::CertFacts;
use crate::input;

/// The facts about one certificate (and its key, when given) and the problems found.
pub struct Inspection {
    pub facts: CertFacts,
    pub chain_length: usize,
    /// `None` when no key was given, or the key cannot say.
    pub key_matches: Option<bool>,
    pub key_source: Option<String>,
    pub days_left: i64,
    pub problems: Vec<String>,
}

impl Inspection {
    /// Reads the inputs; unreadable ones are a configuration error (exit 2), everything else is reported.
    pub fn run(config: &InspectConfig, now: SystemTime) -> Result<Self, Error> {
        let unreadable = |p: Problem| Error::Config(vec![p]);
        let cert = &config.cert;
        let chain = input::read_certificates(cert.name, &cert.input).map_err(unreadable)?;
        let facts = CertFacts::from_der(cert.name, &chain[0]).map_err(unreadable)?;
        let key_matches = match &config.key {
            None => None,
            Some(key) => {
                let signer = input::read_private_key(key.name, &key.input).map_err(unreadable)?;
                facts.matches_key(signer.as_ref())
            }
        };
        let days_left = facts.days_left(now);
        let mut inspection = Self {
            chain_length: chain.len(),
            key_matches,
            key_source: config.key.as_ref().map(|key| key.name.to_string()),
            days_left,
            problems: Vec::new(),
            facts,
        };
        inspection.problems = inspection.find_problems(config.warn_days, now);
        Ok(inspection)
    }

    fn find_problems(&self, warn_days: u32, now: SystemTime) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(problem) = self.facts.validity_problem("certificate", now) {
            problems.push(problem.message);
        } else if self.days_left < i64::from(warn_days) {
            problems.push(format!(
                "it expires in {} days (within {warn_days}); issue a new one soon",
                self.days_left
            ));
        }
        if self.key_matches == Some(false) {
            problems.push("the private key does not belong to this certificate".into());
        }
        if self.facts.version < 3 {
            problems.push(format!(
                "it is an X.509 v{} certificate, which modern TLS stacks refuse; reissue it as v3 with scripts/generate-client-certificate.sh",
                self.facts.version
            ));
        }
        match self.facts.client_auth {
            Some(true) => {}
            Some(false) => problems.push(
                "its extendedKeyUsage does not allow clientAuth; servers may refuse it".into(),
            ),
            None => problems.push(
                "it states no clientAuth purpose (no extendedKeyUsage); reissue it with one".into(),
            ),
        }
        problems
    }

    /// Maps the findings to the exit code: 0 when nothing is wrong, 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        if self.problems.is_empty() {
            ExitCode::Healthy
        } else {
            ExitCode::Unhealthy
        }
    }

    /// Writes the facts and problems for people.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let f = &self.facts;
        writeln!(out, "subject:      {}", f.subject)?;
        writeln!(out, "issuer:       {}", f.issuer)?;
        writeln!(out, "serial:       {}", f.serial)?;
        writeln!(out, "version:      X.509 v{}", f.version)?;
        writeln!(out, "key:          {} {} bits", f.key_type, f.key_bits)?;
        writeln!(out, "valid from:   {}", rfc3339(f.not_before))?;
        writeln!(
            out,
            "valid until:  {} ({})",
            rfc3339(f.not_after),
            days_phrase(self.days_left)
        )?;
        let purpose = match f.client_auth {
            Some(true) => "clientAuth",
            Some(false) => "no clientAuth",
            None => "not stated",
        };
        writeln!(out, "purpose:      {purpose}")?;
        writeln!(
            out,
            "chain:        {} certificate{}",
            self.chain_length,
            if self.chain_length == 1 { "" } else { "s" }
        )?;
        let matches = match (&self.key_source, self.key_matches) {
            (None, _) => "no key given".to_string(),
            (Some(name), Some(true)) => format!("yes ({name})"),
            (Some(name), Some(false)) => format!("NO ({name})"),
            (Some(name), None) => format!("unknown ({name})"),
        };
        writeln!(out, "key matches:  {matches}")?;
        if self.problems.is_empty() {
            return writeln!(out, "heartbeat: no problems found");
        }
        for problem in &self.problems {
            writeln!(out, "problem: {problem}")?;
        }
        let n = self.problems.len();
        writeln!(
            out,
            "heartbeat: {n} problem{} found",
            if n == 1 { "" } else { "s" }
        )
    }

    /// Builds the JSON object; certificate facts only, never key material.
    pub fn json(&self) -> serde_json::Value {
        let f = &self.facts;
        json!({
            "subject": f.subject,
            "issuer": f.issuer,
            "serial": f.serial,
            "version": f.version,
            "key_type": f.key_type,
            "key_bits": f.key_bits,
            "not_before": rfc3339(f.not_before),
            "not_after": rfc3339(f.not_after),
            "days_left": self.days_left,
            "client_auth": f.client_auth,
            "chain_length": self.chain_length,
            "key_matches": self.key_matches,
            "problems": self.problems,
        })
    }
}

/// Runs `heartbeat cert inspect` and writes its report.
pub fn command(config: &InspectConfig, out: &mut dyn Write) -> Result<ExitCode, Error> {
    let inspection = Inspection::run(config, SystemTime::now())?;
    let written = match config.format {
        Format::Text => inspection.write_text(out),
        Format::Json => writeln!(out, "{}", inspection.json()),
    };
    Error::output("writing the report", written)?;
    Ok(inspection.exit_code())
}

/// Says how far away expiry is, as a person would: "30 days left", "expires today", "expired 4 days ago".
fn days_phrase(days_left: i64) -> String {
    match days_left {
        0 => "expires within a day".to_string(),
        1 => "1 day left".to_string(),
        n if n > 1 => format!("{n} days left"),
        -1 => "expired 1 day ago".to_string(),
        n => format!("expired {} days ago", n.unsigned_abs()),
    }
}
