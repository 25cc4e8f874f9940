//! A suite file turned into what runs: consumers (key, certificate, trust, proxy) and checks (request,
//! expectations, retries), validated as a whole — unknown keys and consumers, duplicate names, bad JSONPath,
//! durations, unset variables and literal secrets are all reported at once, and nothing is sent.

use std::path::PathBuf;

use secrecy::ExposeSecret;
use toml::de::DeTable;

use super::fields::CHECK_KEYS;
use super::file::Reader;
use super::{checks, consumers};
use crate::environment::Environment;
use crate::error::Error;
use crate::plan::Plan;
use crate::redact::Redactor;

/// Flags that override the file.
#[derive(Debug)]
pub struct Overrides {
    pub ca_cert: Option<PathBuf>,
    pub concurrency: Option<usize>,
    /// A consumer's client certificate that expires within this many days is warned about.
    pub cert_warn_days: u32,
    /// The suite file's folder: `json_file` and `body_file` are read relative to it.
    pub folder: Option<PathBuf>,
}

const TOP_KEYS: [&str; 6] = [
    "base_url",
    "ca_cert",
    "vars",
    "defaults",
    "consumers",
    "check",
];

/// Plans a suite from its text; every problem at once, positions as `label:line:column`.
pub fn plan(
    label: &str,
    text: &str,
    env: &Environment,
    overrides: &Overrides,
) -> Result<Plan, Error> {
    let document = DeTable::parse(text).map_err(|e| {
        let mut reader = Reader::new(label, text, env);
        let span = e.span().unwrap_or(0..0);
        reader.problem(&span, format!("is not valid TOML: {}", e.message()));
        Error::Config(reader.problems)
    })?;
    let mut reader = Reader::new(label, text, env);
    let root = document.get_ref();
    reader.known_keys(root, &TOP_KEYS, "the suite");
    let empty = DeTable::default();
    let defaults = match root.get("defaults") {
        Some(value) => reader.table("defaults", value).unwrap_or(&empty),
        None => &empty,
    };
    // A name, path or url belongs to one check: in [defaults] it would be an unknown key, not silently ignored.
    let mut default_keys: Vec<&str> = CHECK_KEYS
        .iter()
        .copied()
        .filter(|k| !["name", "path", "url"].contains(k))
        .collect();
    default_keys.push("concurrency");
    reader.known_keys(defaults, &default_keys, "[defaults]");
    let base = consumers::base_url(&mut reader, root, env);
    let roots = consumers::roots(&mut reader, root, overrides.ca_cert.as_ref(), env);
    let consumers::Consumers {
        list: consumers,
        names,
        origins,
        mut secrets,
    } = consumers::consumers(&mut reader, root, roots.as_ref(), base.as_ref(), env);
    let known = super::fields::Known {
        names: &names,
        consumers: &consumers,
        origins: &origins,
        base_failed: base.is_none() && root.get("base_url").is_some(),
    };
    let values = super::values::Values::read(&mut reader, root, env);
    let mut scope = super::fields::Scope {
        values,
        secrets: &mut secrets,
        folder: overrides.folder.as_deref(),
    };
    let checks = checks::checks(
        &mut reader,
        root,
        defaults,
        &known,
        base.as_ref(),
        &mut scope,
    );
    let concurrency = overrides.concurrency.or_else(|| {
        defaults
            .get("concurrency")
            .and_then(|v| reader.integer("concurrency", v, 1..65))
            .map(|n| n as usize)
    });
    if reader.problems.is_empty() && checks.is_empty() {
        reader.problem(&(0..0), "has no [[check]]; add at least one");
    }
    if !reader.problems.is_empty() {
        return Err(Error::Config(reader.problems));
    }
    secrets.retain(|s| s.expose_secret().len() >= 4);
    // By default one check in flight per consumer: each keeps one warm connection, and a new handshake
    // costs far more than a request on a kept-alive one (scripts/bench-suite.sh).
    let used: std::collections::HashSet<usize> = checks.iter().map(|p| p.consumer).collect();
    Ok(Plan {
        consumers,
        checks,
        concurrency: concurrency.unwrap_or(used.len().clamp(1, 64)),
        redactor: Redactor::new(secrets),
        cert_warn_days: overrides.cert_warn_days,
    })
}

impl Default for Overrides {
    fn default() -> Self {
        Self {
            ca_cert: None,
            concurrency: None,
            cert_warn_days: 30,
            folder: None,
        }
    }
}
