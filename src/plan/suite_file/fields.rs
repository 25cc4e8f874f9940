//! What planning a check reads: its keys (each falling back to `[defaults]`), and the consumers it may name —
//! shared by the check's planning and its request's, below both.

use std::collections::HashMap;

use toml::de::DeTable;

use super::file::Value;
use crate::plan::consumer::Consumer;

pub(super) const CONSUMER_KEYS: [&str; 6] = [
    "api_key",
    "cert",
    "key",
    "api_key_header",
    "origins",
    "headers",
];
pub(super) const CHECK_KEYS: [&str; 28] = [
    "name",
    "consumer",
    "path",
    "url",
    "method",
    "expect",
    "refused_by",
    "refused_with",
    "expect_status",
    "expect_json",
    "expect_body",
    "expect_headers",
    "expect_not_empty",
    "expect_not_null",
    "max_latency",
    "json",
    "body",
    "json_file",
    "body_file",
    "capture",
    "requires",
    "headers",
    "attempts",
    "retry_delay",
    "timeout",
    "deadline",
    "follow_redirects",
    "max_body",
];

/// What the checks may refer to: the consumers by name, as built, and where each one's credentials may go.
pub(super) struct Known<'a> {
    pub names: &'a HashMap<String, Option<usize>>,
    pub consumers: &'a [Consumer],
    pub origins: &'a [Vec<String>],
    /// The file gives a base_url that is not valid: its own problem says so, once.
    pub base_failed: bool,
}

/// What planning the checks gathers and reads as it goes: the values `{name}` may name (captures are declared
/// check by check), the secrets met in check headers, and the suite file's folder (bodies are read from files
/// next to it).
pub(super) struct Scope<'s> {
    pub values: super::values::Values,
    pub secrets: &'s mut Vec<secrecy::SecretString>,
    pub folder: Option<&'s std::path::Path>,
}

/// A check's keys, falling back to `[defaults]`.
pub(super) struct Fields<'t, 'i> {
    pub table: &'t DeTable<'i>,
    pub defaults: &'t DeTable<'i>,
}

impl<'t, 'i> Fields<'t, 'i> {
    pub fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.table.get(key).or_else(|| self.defaults.get(key))
    }
}

/// Says why a name cannot be shown as written: names reach terminals, JSON and JUnit, so a control, bidi or
/// invisible character in one would hide or reorder what people read (and JUnit could not carry it).
pub(super) fn name_problem(what: &str, name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some(format!("the {what} is empty"));
    }
    name.chars().find(|&c| crate::redact::is_unsafe(c)).map(|c| {
        format!(
            "the {what} holds U+{:04X}, a control, bidi or invisible character; names are shown in terminals and reports",
            c as u32
        )
    })
}
