//! How the application matches a path against a permission or an include pattern (`UrlMatching.kt`): named
//! placeholders, and the regex fragments `[^/]*`, `[^/]+` and `.*`, become one segment of `[a-zA-Z0-9_-]+`, and
//! the whole path must match.

use regex_lite::Regex;

/// The placeholders the application turns into `[a-zA-Z0-9_-]+` (`UrlMatching.kt`, same commit as the roles).
const PLACEHOLDERS: [&str; 22] = [
    "{hmppsId}",
    "{prisonId}",
    "{contactId}",
    "{visitReference}",
    "{scheduleId}",
    "{key}",
    "{locationKey}",
    "{id}",
    "{imageId}",
    "{accountCode}",
    "{clientReference}",
    "{clientVisitReference}",
    "{activityId}",
    "{clientUniqueRef}",
    "{contactEventId}",
    "{eventNumber}",
    "{jobId}",
    "{nomisNumber}",
    "{courtId}",
    "[^/]*",
    "[^/]+",
    ".*",
];

/// A permission or include pattern: as written, and as the application matches it.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    pub source: String,
    pub regex: Regex,
}

impl Pattern {
    pub fn new(source: &str) -> Result<Self, String> {
        let normalised = normalise(source);
        let regex = Regex::new(&format!("^(?:{normalised})$"))
            .map_err(|e| format!("{source:?} is not a pattern the application can match ({e})"))?;
        Ok(Self {
            source: source.to_string(),
            regex,
        })
    }
}

/// Normalises a pattern as `normalisePath` does: named placeholders (and `[^/]*`, `[^/]+`, `.*`) become
/// `[a-zA-Z0-9_-]+`, `^` and `$` are dropped, and a leading `/` is ensured; `/.*` stays a wildcard.
pub fn normalise(pattern: &str) -> String {
    if pattern == "/.*" || pattern == "/swagger-ui/.*" {
        return pattern.to_string();
    }
    let replaced = PLACEHOLDERS
        .iter()
        .fold(pattern.to_string(), |p, placeholder| {
            p.replace(placeholder, "[a-zA-Z0-9_-]+")
        });
    let trimmed = replaced.strip_prefix('^').unwrap_or(&replaced);
    let trimmed = trimmed.strip_suffix('$').unwrap_or(trimmed);
    if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::{Decision, Rules};
    use super::*;

    #[test]
    fn placeholders_match_one_segment_of_safe_characters_over_the_whole_path() {
        assert_eq!(
            normalise("/v1/persons/{hmppsId}/name"),
            "/v1/persons/[a-zA-Z0-9_-]+/name"
        );
        assert_eq!(
            normalise("^/v1/persons/.*/name$"),
            "/v1/persons/[a-zA-Z0-9_-]+/name"
        );
        assert_eq!(normalise("v1/status"), "/v1/status");
        assert_eq!(normalise("/.*"), "/.*");
        let rules = Rules::default()
            .with(
                "c",
                &["/v1/persons/{hmppsId}/name", "/v1/persons/.*/addresses"],
            )
            .unwrap();
        let allowed = |path| rules.decide(Some("c"), None, path, false) == Decision::Allowed;
        assert!(allowed("/v1/persons/A8451DY/name"));
        assert!(allowed("/v1/persons/A-1_b/addresses"));
        assert!(
            !allowed("/v1/persons/A8451DY/name/extra"),
            "the whole path must match"
        );
        assert!(
            !allowed("/v1/persons/a/b/name"),
            "a placeholder is one segment"
        );
        assert!(
            !allowed("/v1/persons/A.1/name"),
            "a dot is not a placeholder character"
        );
        assert!(!allowed("/x/v1/persons/A8451DY/name"));
    }
}
