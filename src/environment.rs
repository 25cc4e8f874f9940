//! The only place that reads the process environment: a snapshot of the variables heartbeat uses, taken once,
//! that everything else (config, the proxy choice, colour) reads from. Tests and the demo build one by hand.

use std::collections::HashMap;

use crate::error::Problem;

pub const SERVICE_URL: &str = "SERVICE_URL";
pub const API_KEY: &str = "API_KEY";
pub const MTLS_CERT: &str = "MTLS_CERT";
pub const MTLS_KEY: &str = "MTLS_KEY";
pub const SERVICE_CA_CERT: &str = "SERVICE_CA_CERT";

/// A snapshot of the environment variables heartbeat reads; tests and the demo build one by hand.
#[derive(Default)]
pub struct Environment {
    vars: HashMap<String, String>,
    /// Variables that are set but not valid UTF-8: named in problems, never read as unset.
    not_utf8: Vec<String>,
}

impl Environment {
    /// Reads the process environment (the one place that does): every variable, since a suite file names its
    /// own (`${FULL_ACCESS_API_KEY}`). Values that are not UTF-8 are remembered by name only.
    pub fn from_process() -> Self {
        let mut env = Self::default();
        for (name, value) in std::env::vars_os() {
            let Ok(name) = name.into_string() else {
                continue;
            };
            match value.into_string() {
                Ok(value) => {
                    env.vars.insert(name, value);
                }
                Err(_) => env.not_utf8.push(name),
            }
        }
        env
    }

    /// Names a variable that is set to something that is not valid UTF-8.
    pub(crate) fn utf8_problem(&self, name: &str) -> Option<Problem> {
        self.not_utf8.iter().any(|n| n == name).then(|| {
            Problem::new(
                name,
                "is set but is not valid UTF-8; set it to text (base64 of a PEM file, PEM, a path, or a URL)",
            )
        })
    }

    /// Builds an environment from pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        Self {
            vars: pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            not_utf8: Vec::new(),
        }
    }

    /// Returns a variable's value when it is set and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Decides whether to colour output: `auto` colours a terminal unless `NO_COLOR` is set or `TERM` is dumb.
    pub fn use_color(&self, choice: ColorChoice, is_terminal: bool) -> bool {
        match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let forced = self
                    .vars
                    .get("CLICOLOR_FORCE")
                    .is_some_and(|v| !v.is_empty() && v != "0");
                // no-color.org: NO_COLOR counts when it is set to something, not when empty.
                let refused = self.vars.get("NO_COLOR").is_some_and(|v| !v.is_empty());
                forced
                    || (is_terminal
                        && !refused
                        && self.vars.get("TERM").is_none_or(|t| t != "dumb"))
            }
        }
    }
}

/// When to colour text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colour_is_for_terminals_without_no_color_or_a_dumb_term() {
        let plain = Environment::default();
        assert!(plain.use_color(ColorChoice::Auto, true));
        assert!(!plain.use_color(ColorChoice::Auto, false));
        let no_color = Environment::from_pairs([("NO_COLOR", "1".to_string())]);
        assert!(!no_color.use_color(ColorChoice::Auto, true));
        assert!(no_color.use_color(ColorChoice::Always, false));
        let dumb = Environment::from_pairs([("TERM", "dumb".to_string())]);
        assert!(!dumb.use_color(ColorChoice::Auto, true));
        let empty = Environment::from_pairs([("NO_COLOR", String::new())]);
        assert!(
            empty.use_color(ColorChoice::Auto, true),
            "an empty NO_COLOR does not count"
        );
        let forced = Environment::from_pairs([("CLICOLOR_FORCE", "1".to_string())]);
        assert!(forced.use_color(ColorChoice::Auto, false));
        let zero = Environment::from_pairs([("CLICOLOR_FORCE", "0".to_string())]);
        assert!(!zero.use_color(ColorChoice::Auto, false));
        assert!(!plain.use_color(ColorChoice::Never, true));
    }
}
