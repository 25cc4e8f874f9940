//! What "healthy" means: an expected status (codes, ranges, classes like `2xx`, bounds like `<400`), headers
//! present, absent or equal to a value, JSONPath expressions (RFC 9535) that select something — a value, a list
//! that is not empty, an attribute that is not null — and substrings. JSON-aware on purpose: an HTML error page
//! that happens to contain `firstName` is not healthy.

use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;
use serde_json_path::JsonPath;

pub use super::status::StatusSet;

use crate::error::Problem;

/// The JSONPath used when no body expectation is given: a `firstName` member anywhere in the JSON body.
pub const DEFAULT_JSON_PATH: &str = "$..firstName";

/// What a JSONPath must find.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonRule {
    /// At least one node.
    Exists,
    /// A node equal to this value.
    Equals(Value),
    /// A node that is a non-empty list, object or string (the team's `validate_response_list_not_empty`).
    NotEmpty,
    /// A node that is not null (`validate_response_attribute_not_empty`).
    NotNull,
}

/// What a response header must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderRule {
    Present,
    Absent,
    Equals(String),
}

/// One `--expect-json` expression, optionally compared with a value.
#[derive(Debug, Clone)]
pub struct JsonExpectation {
    source: String,
    path: JsonPath,
    rule: JsonRule,
}

impl JsonExpectation {
    /// Parses `JSONPATH` or `JSONPATH=VALUE`; a VALUE that is not JSON is compared as a string.
    pub fn parse(text: &str) -> Result<Self, Problem> {
        if let Ok(path) = JsonPath::parse(text) {
            return Ok(Self {
                source: text.to_string(),
                path,
                rule: JsonRule::Exists,
            });
        }
        // Filters may contain `==`, so try each `=` from the right until the left side parses.
        for (index, _) in text.rmatch_indices('=') {
            let (left, right) = (&text[..index], &text[index + 1..]);
            if let Ok(path) = JsonPath::parse(left) {
                let equals = serde_json::from_str(right)
                    .unwrap_or_else(|_| Value::String(right.to_string()));
                return Ok(Self {
                    source: left.to_string(),
                    path,
                    rule: JsonRule::Equals(equals),
                });
            }
        }
        let detail = JsonPath::parse(text)
            .err()
            .map(|e| format!(" at position {}: {}", e.position(), e.message()));
        Err(Problem::new(
            "--expect-json",
            format!(
                "{text:?} is not an RFC 9535 JSONPath{}; write it like $.data[0].firstName or $..firstName=\"Ada\"",
                detail.unwrap_or_default()
            ),
        ))
    }

    /// Parses a JSONPath that must find a node held to `rule` (`NotEmpty` or `NotNull`; no `=VALUE`).
    pub fn with_rule(text: &str, rule: JsonRule) -> Result<Self, Problem> {
        let path = JsonPath::parse(text).map_err(|e| {
            Problem::new(
                "expect_json",
                format!(
                    "{text:?} is not an RFC 9535 JSONPath at position {}: {}",
                    e.position(),
                    e.message()
                ),
            )
        })?;
        Ok(Self {
            source: text.to_string(),
            path,
            rule,
        })
    }

    fn check(&self, body: &Value) -> Result<(), String> {
        let nodes = self.path.query(body);
        let holds = |node: &&Value| match &self.rule {
            JsonRule::Exists => true,
            JsonRule::Equals(expected) => *node == expected,
            JsonRule::NotEmpty => match node {
                Value::Array(items) => !items.is_empty(),
                Value::Object(members) => !members.is_empty(),
                Value::String(text) => !text.is_empty(),
                _ => false,
            },
            JsonRule::NotNull => !node.is_null(),
        };
        if nodes.iter().any(holds) {
            return Ok(());
        }
        let wanted = match &self.rule {
            JsonRule::Exists => String::new(),
            JsonRule::Equals(expected) => format!(" (expected {expected})"),
            JsonRule::NotEmpty => " (expected a list that is not empty)".to_string(),
            JsonRule::NotNull => " (expected a value that is not null)".to_string(),
        };
        Err(match nodes.first() {
            None if self.rule == JsonRule::Exists => {
                format!("{} selected nothing in the JSON body", self.source)
            }
            None => format!("{} selected nothing{wanted}", self.source),
            Some(found) => format!("{} is {}{wanted}", self.source, short(found)),
        })
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text,
    }
}

/// The expectations of one check.
#[derive(Debug, Clone)]
pub struct Expectations {
    statuses: StatusSet,
    headers: Vec<(HeaderName, HeaderRule)>,
    json: Vec<JsonExpectation>,
    body: Vec<String>,
}

impl Expectations {
    /// Builds the expectations; without any body expectation the default `$..firstName` applies.
    pub fn new(statuses: &[u16], json: &[String], body: &[String]) -> Result<Self, Problem> {
        let json = if json.is_empty() && body.is_empty() {
            vec![JsonExpectation::parse(DEFAULT_JSON_PATH)?]
        } else {
            json.iter()
                .map(|text| JsonExpectation::parse(text))
                .collect::<Result<_, _>>()?
        };
        Ok(Self {
            statuses: StatusSet::codes(statuses),
            headers: Vec::new(),
            json,
            body: body.to_vec(),
        })
    }

    /// Builds the expectations exactly as given, with no default body assertion (a suite's checks say what
    /// they need).
    pub fn exact(
        statuses: StatusSet,
        headers: Vec<(HeaderName, HeaderRule)>,
        json: Vec<JsonExpectation>,
        body: &[String],
    ) -> Self {
        Self {
            statuses,
            headers,
            json,
            body: body.to_vec(),
        }
    }

    /// Tells whether a status is one of the expected ones.
    pub fn accepts_status(&self, status: u16) -> bool {
        self.statuses.contains(status)
    }

    /// Describes the expected statuses, as written: `200`, `200, 204`, `2xx`, `<400`.
    pub fn statuses(&self) -> String {
        self.statuses.describe()
    }

    /// Checks the headers of an answer with an expected status; the error names the header.
    pub fn check_headers(&self, headers: &HeaderMap) -> Result<(), String> {
        for (name, rule) in &self.headers {
            let found = headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()));
            match (rule, found) {
                (HeaderRule::Present, None) => return Err(format!("the header {name} is missing")),
                (HeaderRule::Absent, Some(_)) => {
                    return Err(format!("the header {name} is present (expected absent)"));
                }
                (HeaderRule::Equals(want), None) => {
                    return Err(format!("the header {name} is missing (expected {want:?})"));
                }
                (HeaderRule::Equals(want), Some(got)) if got != want.as_str() => {
                    return Err(format!("the header {name} is {got:?} (expected {want:?})"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks a body that came with an expected status; the error says which expectation failed.
    pub fn check_body(&self, content_type: Option<&str>, body: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(body);
        if let Some(missing) = self
            .body
            .iter()
            .find(|needle| !text.contains(needle.as_str()))
        {
            return Err(format!("the body does not contain {missing:?}"));
        }
        if self.json.is_empty() {
            return Ok(());
        }
        let value: Value = serde_json::from_slice(body).map_err(|_| {
            format!(
                "the body is not JSON (content-type {}), so {} cannot match",
                content_type.unwrap_or("not given"),
                self.json[0].source
            )
        })?;
        self.json
            .iter()
            .try_for_each(|expectation| expectation.check(&value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> Expectations {
        Expectations::new(&[200], &[], &[]).unwrap()
    }

    #[test]
    fn default_finds_first_name_anywhere_in_json() {
        let body = br#"{"data":[{"firstName":"Ada","lastName":"Lovelace"}]}"#;
        assert_eq!(default().check_body(Some("application/json"), body), Ok(()));
    }

    #[test]
    fn html_containing_the_word_is_not_healthy() {
        let body = b"<html><body>firstName: unavailable</body></html>";
        let err = default().check_body(Some("text/html"), body).unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
    }

    #[test]
    fn json_without_the_member_fails() {
        let body = br#"{"data":[{"lastName":"Lovelace"},{"note":"firstName"}]}"#;
        let err = default().check_body(None, body).unwrap_err();
        assert!(err.contains("$..firstName selected nothing"), "{err}");
    }

    #[test]
    fn comparisons_accept_json_and_bare_strings() {
        let body: &[u8] = br#"{"data":[{"firstName":"Ada","age":36}]}"#;
        for expr in [
            "$.data[0].firstName=Ada",
            "$.data[0].firstName=\"Ada\"",
            "$.data[0].age=36",
        ] {
            let e = Expectations::new(&[200], &[expr.to_string()], &[]).unwrap();
            assert_eq!(e.check_body(None, body), Ok(()), "{expr}");
        }
        let e = Expectations::new(&[200], &["$.data[0].firstName=Bob".into()], &[]).unwrap();
        assert_eq!(
            e.check_body(None, body).unwrap_err(),
            "$.data[0].firstName is \"Ada\" (expected \"Bob\")"
        );
    }

    #[test]
    fn filters_with_double_equals_still_parse() {
        let body: &[u8] = br#"{"data":[{"firstName":"Ada","lastName":"Lovelace"}]}"#;
        let expr = "$.data[?@.firstName=='Ada'].lastName=Lovelace";
        let e = Expectations::new(&[200], &[expr.to_string()], &[]).unwrap();
        assert_eq!(e.check_body(None, body), Ok(()));
    }

    #[test]
    fn invalid_paths_are_named() {
        let err = JsonExpectation::parse("data.firstName").unwrap_err();
        assert_eq!(err.input, "--expect-json");
        assert!(
            err.message.contains("not an RFC 9535 JSONPath"),
            "{}",
            err.message
        );
    }

    #[test]
    fn json_rules_hold_for_lists_objects_strings_and_nulls_both_ways() {
        let body: &[u8] = br#"{"list":[1],"none":[],"obj":{"a":1},"empty":{},"s":"x","blank":"","null":null,"n":0}"#;
        let holds = |path: &str, rule: JsonRule| {
            let e = Expectations::exact(
                StatusSet::codes(&[200]),
                Vec::new(),
                vec![JsonExpectation::with_rule(path, rule).unwrap()],
                &[],
            );
            e.check_body(None, body)
        };
        for path in ["$.list", "$.obj", "$.s"] {
            assert_eq!(holds(path, JsonRule::NotEmpty), Ok(()), "{path}");
        }
        for path in ["$.none", "$.empty", "$.blank", "$.null", "$.n"] {
            let why = holds(path, JsonRule::NotEmpty).unwrap_err();
            assert!(
                why.contains("(expected a list that is not empty)"),
                "{path}: {why}"
            );
        }
        assert_eq!(holds("$.n", JsonRule::NotNull), Ok(()));
        assert_eq!(holds("$.blank", JsonRule::NotNull), Ok(()));
        assert_eq!(
            holds("$.null", JsonRule::NotNull).unwrap_err(),
            "$.null is null (expected a value that is not null)"
        );
        assert_eq!(
            holds("$.gone", JsonRule::NotNull).unwrap_err(),
            "$.gone selected nothing (expected a value that is not null)"
        );
        assert_eq!(
            holds("$.gone", JsonRule::Exists).unwrap_err(),
            "$.gone selected nothing in the JSON body"
        );
    }

    #[test]
    fn header_rules_name_what_they_found() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        let rule = |name: &'static str, rule: HeaderRule| {
            Expectations::exact(
                StatusSet::codes(&[200]),
                vec![(HeaderName::from_static(name), rule)],
                Vec::new(),
                &[],
            )
            .check_headers(&headers)
        };
        assert_eq!(
            rule(
                "content-type",
                HeaderRule::Equals("application/json".into())
            ),
            Ok(())
        );
        assert_eq!(
            rule("content-type", HeaderRule::Equals("text/html".into())).unwrap_err(),
            "the header content-type is \"application/json\" (expected \"text/html\")"
        );
        assert_eq!(
            rule("x-gone", HeaderRule::Equals("v".into())).unwrap_err(),
            "the header x-gone is missing (expected \"v\")"
        );
        assert_eq!(rule("content-type", HeaderRule::Present), Ok(()));
        assert_eq!(rule("x-gone", HeaderRule::Absent), Ok(()));
        assert!(rule("x-gone", HeaderRule::Present).is_err());
        assert!(rule("content-type", HeaderRule::Absent).is_err());
    }

    #[test]
    fn body_text_expectation_replaces_the_default() {
        let e = Expectations::new(&[200], &[], &["pong".into()]).unwrap();
        assert_eq!(e.check_body(Some("text/plain"), b"pong"), Ok(()));
        assert!(e.check_body(Some("text/plain"), b"ping").is_err());
        assert!(e.accepts_status(200) && !e.accepts_status(204));
    }
}
