//! `heartbeat cert inspect`: what a client certificate and key say about themselves, what is wrong with them
//! (expired or expiring, a key from another pair, a purpose that excludes clientAuth), and what is merely worth
//! knowing (an X.509 v1 certificate, no stated purpose: the team's certificates, which the gateway and
//! `heartbeat check` accept). Sends nothing.

use std::io::{self, Write};
use std::time::SystemTime;

use serde_json::json;

use crate::duration::rfc3339;
use crate::error::{Error, ExitCode, Problem};
use crate::plan::consumer::Named;
use crate::report::Format;
use crate::tls::identity::CertFacts;
use crate::tls::input;

/// The facts about one certificate (and its key, when given) and the problems found.
pub struct Inspection {
    pub facts: CertFacts,
    pub chain_length: usize,
    /// `None` when no key was given, or the key cannot say.
    pub key_matches: Option<bool>,
    pub key_source: Option<String>,
    pub days_left: i64,
    pub expired: bool,
    /// What makes the certificate unusable or soon unusable: exit 1.
    pub problems: Vec<String>,
    /// What is worth knowing but works: reported, exit 0.
    pub notes: Vec<String>,
}

impl Inspection {
    /// Reads the inputs; unreadable ones are a configuration error (exit 2), everything else is reported.
    pub fn run(config: &InspectConfig, now: SystemTime) -> Result<Self, Error> {
        let unreadable = |p: Problem| Error::Config(vec![p]);
        let cert = &config.cert;
        let chain = input::read_certificates(&cert.label, &cert.input).map_err(unreadable)?;
        let facts = CertFacts::from_der(&cert.label, &chain[0]).map_err(unreadable)?;
        let key_matches = match &config.key {
            None => None,
            Some(key) => {
                let signer = input::read_private_key(&key.label, &key.input).map_err(unreadable)?;
                facts.matches_key(signer.as_ref())
            }
        };
        let days_left = facts.days_left(now);
        let mut inspection = Self {
            chain_length: chain.len(),
            key_matches,
            key_source: config.key.as_ref().map(|key| key.label.clone()),
            days_left,
            expired: facts.expired(now),
            problems: Vec::new(),
            notes: Vec::new(),
            facts,
        };
        inspection.problems = inspection.find_problems(config.warn_days, now);
        inspection.notes = inspection.find_notes();
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
        if self.facts.client_auth == Some(false) {
            problems.push(
                "its extendedKeyUsage does not allow clientAuth; servers may refuse it".into(),
            );
        }
        problems
    }

    fn find_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.facts.version < 3 {
            notes.push(format!(
                "it is an X.509 v{} certificate (what `openssl x509 -req` without extensions makes): API Gateway and heartbeat accept it; some TLS stacks refuse it, and scripts/generate-client-certificate.sh makes v3",
                self.facts.version
            ));
        }
        if self.facts.client_auth.is_none() {
            notes.push(
                "it states no purpose (no extendedKeyUsage), which allows any, clientAuth included"
                    .into(),
            );
        }
        notes
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
            days_phrase(self.days_left, self.expired)
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
        for note in &self.notes {
            writeln!(out, "note: {note}")?;
        }
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
            "notes": self.notes,
        })
    }
}

/// What `heartbeat cert inspect` reads: the certificate, and the key when there is one.
#[derive(Debug)]
pub struct InspectConfig {
    pub cert: Named,
    pub key: Option<Named>,
    pub warn_days: u32,
    pub format: Format,
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

/// Says how far away expiry is, as a person would: "30 days left", "expires within a day", "expired 3 days
/// ago", "expired today". Whole days, counted toward zero: 3 days and a second ago is 3 days ago.
fn days_phrase(days_left: i64, expired: bool) -> String {
    match (days_left, expired) {
        (0, true) => "expired today".to_string(),
        (0, false) => "expires within a day".to_string(),
        (1, _) => "1 day left".to_string(),
        (2.., _) => format!("{days_left} days left"),
        (-1, _) => "expired 1 day ago".to_string(),
        (..=-2, _) => format!("expired {} days ago", days_left.unsigned_abs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_warns_with_fewer_days_left_than_warn_days_only() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let with_days_left = |days: i64| Inspection {
            facts: crate::tls::identity::facts_valid(0, 1_000_000 + days * 86_400 + 5),
            chain_length: 1,
            key_matches: None,
            key_source: None,
            days_left: days,
            expired: false,
            problems: Vec::new(),
            notes: Vec::new(),
        };
        assert!(with_days_left(30).find_problems(30, now).is_empty());
        let warned = with_days_left(29).find_problems(30, now);
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(
            warned[0].contains("expires in 29 days (within 30)"),
            "{warned:?}"
        );
    }

    #[test]
    fn days_read_as_people_count_them() {
        assert_eq!(days_phrase(30, false), "30 days left");
        assert_eq!(days_phrase(2, false), "2 days left");
        assert_eq!(days_phrase(-2, true), "expired 2 days ago");
        assert_eq!(days_phrase(1, false), "1 day left");
        assert_eq!(days_phrase(0, false), "expires within a day");
        assert_eq!(days_phrase(0, true), "expired today");
        assert_eq!(days_phrase(-1, true), "expired 1 day ago");
        assert_eq!(days_phrase(-3, true), "expired 3 days ago");
    }
}
