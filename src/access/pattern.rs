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
