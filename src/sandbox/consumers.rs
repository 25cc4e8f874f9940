//! Who may call what: consumers named by their client certificate's CN, each with an allow-list of path
//! regexes, in the shape of the team's `application-<env>.yml` (`authorisation.consumers.<cn>.include`).
//! As in the real API, a pattern must match the whole path (Kotlin's `Regex.matches`).

use std::collections::BTreeMap;

use regex_lite::Regex;

/// The team's consumer profiles, as the sandbox issues them by default: (CN, allow-list, env prefix).
pub const PROFILES: [(&str, &[&str], Option<&str>); 4] = [
    ("heartbeat", &["/v1/persons/[^/]*$"], None),
    ("full-access", &[".*"], Some("FULL_ACCESS")),
    (
        "limited-access",
        &["/v1/persons/.*/name"],
        Some("LIMITED_ACCESS"),
    ),
    ("no-access", &[], Some("NO_ACCESS")),
];

/// The consumers and their allow-lists.
#[derive(Debug, Clone)]
pub struct Consumers {
    allowed: BTreeMap<String, Vec<Regex>>,
}

/// What the application decides about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// The CN is not a consumer, or the path is not on its list.
    Refused,
}

impl Default for Consumers {
    fn default() -> Self {
        let mut consumers = Self {
            allowed: BTreeMap::new(),
        };
        for (name, patterns, _) in PROFILES {
            consumers = consumers
                .with(name, patterns)
                .expect("the built-in patterns compile");
        }
        consumers
    }
}

impl Consumers {
    /// Adds (or replaces) a consumer with its allow-list.
    pub fn with(mut self, name: &str, patterns: &[&str]) -> Result<Self, String> {
        let compiled = patterns
            .iter()
            .map(|p| {
                Regex::new(&format!("^(?:{p})$"))
                    .map_err(|e| format!("consumer {name:?}: pattern {p:?} is not a regex: {e}"))
            })
            .collect::<Result<_, _>>()?;
        self.allowed.insert(name.to_string(), compiled);
        Ok(self)
    }

    /// Reads `authorisation.consumers.<cn>.include` from an `application-<env>.yml`; other keys are ignored.
    /// What the file may cost is bounded before it is parsed (see `bounded`).
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        bounded(text)?;
        #[derive(serde::Deserialize)]
        struct File {
            authorisation: Authorisation,
        }
        #[derive(serde::Deserialize)]
        struct Authorisation {
            consumers: BTreeMap<String, Option<Consumer>>,
        }
        #[derive(serde::Deserialize)]
        struct Consumer {
            #[serde(default)]
            include: Vec<String>,
        }
        let file: File = serde_norway::from_str(text).map_err(|e| {
            format!(
                "expected authorisation.consumers.<name>.include as in application-<env>.yml ({e})"
            )
        })?;
        let mut consumers = Self {
            allowed: BTreeMap::new(),
        };
        for (name, consumer) in file.authorisation.consumers {
            let include = consumer.map(|c| c.include).unwrap_or_default();
            let patterns: Vec<&str> = include.iter().map(String::as_str).collect();
            consumers = consumers.with(&name, &patterns)?;
        }
        Ok(consumers)
    }

    /// Decides whether the consumer named by `cn` may call `path`.
    pub fn access(&self, cn: Option<&str>, path: &str) -> Access {
        let allowed = cn
            .and_then(|cn| self.allowed.get(cn))
            .is_some_and(|patterns| patterns.iter().any(|p| p.is_match(path)));
        if allowed {
            Access::Allowed
        } else {
            Access::Refused
        }
    }

    /// Lists the consumers' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.allowed.keys().map(String::as_str)
    }
}

/// The largest consumers file read: the team's has dozens of consumers, a few KiB.
pub const MAX_FILE: usize = 1024 * 1024;
/// The deepest nesting of flow collections (`[`, `{`) and the widest indentation accepted. The YAML parser is
/// slow on pathological nesting (100,000 brackets took 43 s), and no real configuration nests like that; alias
/// expansion ("billion laughs") is bounded by the parser itself.
const MAX_FLOW_DEPTH: usize = 64;
const MAX_INDENT: usize = 256;

/// Refuses, cheaply and before parsing, a file too large, nested too deeply or indented too far.
fn bounded(text: &str) -> Result<(), String> {
    if text.len() > MAX_FILE {
        return Err(format!("the file is larger than {MAX_FILE} bytes"));
    }
    let mut depth = 0usize;
    for (number, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if indent > MAX_INDENT {
            return Err(format!(
                "line {} is indented by more than {MAX_INDENT} columns",
                number + 1
            ));
        }
        let mut quote = None;
        for c in line.chars() {
            match (quote, c) {
                (None, '#') => break,
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_FLOW_DEPTH {
                return Err(format!(
                    "line {} nests [ ] or {{ }} more than {MAX_FLOW_DEPTH} deep",
                    number + 1
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_consumers_file_may_cost_is_bounded_before_parsing() {
        let team = "authorisation:\n  consumers:\n    a:\n      include: [\"/v1/[^/]*$\", '/v1/\\[x\\]{1}'] # [[[\n";
        assert_eq!(
            bounded(team),
            Ok(()),
            "brackets in strings and comments do not count"
        );
        assert!(Consumers::from_yaml(team).is_ok());
        let nested = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(bounded(&nested(MAX_FLOW_DEPTH)), Ok(()));
        assert!(
            bounded(&nested(MAX_FLOW_DEPTH + 1))
                .unwrap_err()
                .contains("nests")
        );
        // Brackets inside a quoted string or a comment do not count; after the string ends, they do again.
        let deep = "[".repeat(MAX_FLOW_DEPTH + 1);
        assert_eq!(
            bounded(&format!("a: '{deep}'\nb: \"{deep}\"\n# {deep}\n")),
            Ok(())
        );
        assert!(bounded(&format!("a: 'q' {deep}\n")).is_err());
        assert!(bounded(&format!("a: \"q\" {deep}\n")).is_err());
        let indented = |n: usize| format!("a:\n{}b: 1\n", " ".repeat(n));
        assert_eq!(bounded(&indented(MAX_INDENT)), Ok(()));
        assert!(
            bounded(&indented(MAX_INDENT + 1))
                .unwrap_err()
                .contains("indented")
        );
        let large = format!("# {}\n", "x".repeat(MAX_FILE));
        assert!(bounded(&large).unwrap_err().contains("larger than"));
        assert_eq!(bounded(&large[..MAX_FILE]), Ok(()));
    }

    #[test]
    fn the_team_profiles_allow_what_the_team_allows() {
        let c = Consumers::default();
        let by_id = "/v1/persons/A8451DY";
        let name = "/v1/persons/A8451DY/name";
        assert_eq!(c.access(Some("heartbeat"), by_id), Access::Allowed);
        assert_eq!(c.access(Some("heartbeat"), name), Access::Refused);
        assert_eq!(c.access(Some("heartbeat"), "/v1/persons"), Access::Refused);
        assert_eq!(
            c.access(Some("full-access"), "/v1/anything/at/all"),
            Access::Allowed
        );
        assert_eq!(c.access(Some("limited-access"), name), Access::Allowed);
        assert_eq!(
            c.access(Some("limited-access"), "/v1/persons"),
            Access::Refused
        );
        assert_eq!(c.access(Some("no-access"), by_id), Access::Refused);
        assert_eq!(c.access(Some("stranger"), by_id), Access::Refused);
        assert_eq!(c.access(None, by_id), Access::Refused);
    }

    #[test]
    fn yaml_in_the_teams_shape_loads_and_bad_patterns_are_named() {
        let yaml = "authorisation:\n  consumers:\n    heartbeat:\n      include:\n        - \"/v1/persons/[^/]*$\"\n      roles: []\n    nobody:\n";
        let c = Consumers::from_yaml(yaml).unwrap();
        assert_eq!(c.names().collect::<Vec<_>>(), ["heartbeat", "nobody"]);
        assert_eq!(
            c.access(Some("heartbeat"), "/v1/persons/X"),
            Access::Allowed
        );
        assert_eq!(c.access(Some("nobody"), "/v1/persons/X"), Access::Refused);
        let bad = "authorisation:\n  consumers:\n    x:\n      include: [\"(\"]\n";
        assert!(Consumers::from_yaml(bad).unwrap_err().contains("\"x\""));
        assert!(Consumers::from_yaml("consumers: {}").is_err());
    }
}
