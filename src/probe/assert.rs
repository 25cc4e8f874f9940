//! What "healthy" means: an expected status, JSONPath expressions (RFC 9535) that select something, and
//! substrings. JSON-aware on purpose: an HTML error page that happens to contain `firstName` is not healthy.

use serde_json::Value;
use serde_json_path::JsonPath;

use crate::error::Problem;

/// The JSONPath used when no body expectation is given: a `firstName` member anywhere in the JSON body.
pub const DEFAULT_JSON_PATH: &str = "$..firstName";

/// One `--expect-json` expression, optionally compared with a value.
#[derive(Debug)]
pub struct JsonExpectation {
    source: String,
    path: JsonPath,
    equals: Option<Value>,
}

impl JsonExpectation {
    /// Parses `JSONPATH` or `JSONPATH=VALUE`; a VALUE that is not JSON is compared as a string.
    pub fn parse(text: &str) -> Result<Self, Problem> {
        if let Ok(path) = JsonPath::parse(text) {
            return Ok(Self {
                source: text.to_string(),
                path,
                equals: None,
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
                    equals: Some(equals),
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

    fn check(&self, body: &Value) -> Result<(), String> {
        let nodes = self.path.query(body);
        match &self.equals {
            None if nodes.is_empty() => {
                Err(format!("{} selected nothing in the JSON body", self.source))
            }
            None => Ok(()),
            Some(expected) if nodes.iter().any(|node| *node == expected) => Ok(()),
            Some(expected) => Err(match nodes.first() {
                None => format!("{} selected nothing (expected {expected})", self.source),
                Some(found) => format!("{} is {} (expected {expected})", self.source, short(found)),
            }),
        }
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
#[derive(Debug)]
pub struct Expectations {
    statuses: Vec<u16>,
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
            statuses: statuses.to_vec(),
            json,
            body: body.to_vec(),
        })
    }

    /// Builds the expectations exactly as given, with no default body assertion (a suite's checks say what
    /// they need).
    pub fn exact(statuses: &[u16], json: &[String], body: &[String]) -> Result<Self, Problem> {
        let json = json
            .iter()
            .map(|text| JsonExpectation::parse(text))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            statuses: statuses.to_vec(),
            json,
            body: body.to_vec(),
        })
    }

    /// Tells whether a status is one of the expected ones.
    pub fn accepts_status(&self, status: u16) -> bool {
        self.statuses.contains(&status)
    }

    /// Describes the expected statuses, as `200` or `200, 204`.
    pub fn statuses(&self) -> String {
        let list: Vec<String> = self.statuses.iter().map(u16::to_string).collect();
        list.join(", ")
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
    fn body_text_expectation_replaces_the_default() {
        let e = Expectations::new(&[200], &[], &["pong".into()]).unwrap();
        assert_eq!(e.check_body(Some("text/plain"), b"pong"), Ok(()));
        assert!(e.check_body(Some("text/plain"), b"ping").is_err());
        assert!(e.accepts_status(200) && !e.accepts_status(204));
    }
}
