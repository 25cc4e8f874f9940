//! Values that flow from one check's answer to later checks: taken from a passing answer by JSONPath, and
//! filled into a later request as `{name}` — percent-encoded in its path and query, JSON-escaped in a JSON body —
//! without ever moving the request to another origin.

use std::collections::HashMap;

use reqwest::Url;
use serde_json::Value;

use crate::plan::check::{Capture, Request};

/// Takes each capture's value from an answer's JSON body: the first node selected, a string as it is, a number
/// or boolean as written. Nothing selected, null, a list or an object: the message says which and why.
pub fn take(captures: &[Capture], body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let json: Value = serde_json::from_slice(body).map_err(|_| {
        format!(
            "the body is not JSON, so {} cannot be captured",
            names(captures)
        )
    })?;
    captures
        .iter()
        .map(|capture| {
            let found = capture.path.query(&json).first().cloned();
            let value = match found {
                Some(Value::String(text)) if !text.is_empty() => text,
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(other) => {
                    let kind = match other {
                        Value::Null => "null",
                        Value::Array(_) => "a list",
                        Value::Object(_) => "an object",
                        _ => "empty",
                    };
                    return Err(format!(
                        "{} is {kind}, so {} cannot be captured",
                        capture.source, capture.name
                    ));
                }
                None => {
                    return Err(format!(
                        "{} selected nothing, so {} cannot be captured",
                        capture.source, capture.name
                    ));
                }
            };
            Ok((capture.name.clone(), value))
        })
        .collect()
}

fn names(captures: &[Capture]) -> String {
    let names: Vec<&str> = captures.iter().map(|c| c.name.as_str()).collect();
    names.join(", ")
}

/// Fills captured values into a request. The URL keeps its origin (a value is encoded so it cannot leave the
/// path segment or query part it stands in); a value missing from `values` is an error naming it.
pub fn fill(
    request: &Request,
    uses: &[String],
    values: &HashMap<String, String>,
) -> Result<Request, String> {
    let mut url = request.url.as_str().to_string();
    let mut body = request.body.clone();
    let json = request.headers.iter().any(|(n, v)| {
        n == reqwest::header::CONTENT_TYPE && v.as_bytes().starts_with(b"application/json")
    });
    for name in uses {
        let value = values
            .get(name)
            .ok_or_else(|| format!("{name} was not captured"))?;
        let encoded = component(value);
        url = url
            .replace(&format!("%7B{name}%7D"), &encoded)
            .replace(&format!("{{{name}}}"), &encoded);
        if let Some(bytes) = body.as_mut() {
            let inserted = if json {
                let quoted = serde_json::to_string(value).unwrap_or_default();
                quoted[1..quoted.len() - 1].to_string()
            } else {
                value.clone()
            };
            let text = String::from_utf8_lossy(bytes).replace(&format!("{{{name}}}"), &inserted);
            *bytes = text.into_bytes();
        }
    }
    let filled = Url::parse(&url).map_err(|e| format!("the filled URL is not valid ({e})"))?;
    if crate::plan::target::origin(&filled) != crate::plan::target::origin(&request.url) {
        return Err("a captured value would move the request to another origin".into());
    }
    Ok(Request {
        url: filled,
        body,
        ..request.clone()
    })
}

/// Percent-encodes everything but unreserved characters, so a value stays one path segment or query value.
fn component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(path: &str) -> Vec<Capture> {
        vec![Capture {
            name: "v".into(),
            source: path.into(),
            path: serde_json_path::JsonPath::parse(path).unwrap(),
        }]
    }

    #[test]
    fn a_value_is_taken_as_text_and_anything_else_is_named() {
        let body = br#"{"s":"X1","n":42,"b":true,"blank":"","null":null,"list":[1],"obj":{}}"#;
        let take = |path: &str| take(&capture(path), body);
        assert_eq!(take("$.s"), Ok(vec![("v".to_string(), "X1".to_string())]));
        assert_eq!(take("$.n").unwrap()[0].1, "42");
        assert_eq!(take("$.b").unwrap()[0].1, "true");
        for (path, kind) in [
            ("$.blank", "is empty"),
            ("$.null", "is null"),
            ("$.list", "is a list"),
            ("$.obj", "is an object"),
            ("$.gone", "selected nothing"),
        ] {
            let why = take(path).unwrap_err();
            assert!(
                why.contains(kind) && why.contains("v cannot be captured"),
                "{path}: {why}"
            );
        }
        assert_eq!(
            super::take(&capture("$.s"), b"<html>").unwrap_err(),
            "the body is not JSON, so v cannot be captured"
        );
    }

    #[test]
    fn a_filled_value_stays_in_its_segment_and_on_its_origin() {
        let request = Request {
            method: reqwest::Method::POST,
            url: Url::parse("https://api.test/v1/persons/%7Bv%7D/x?q={v}").unwrap(),
            headers: vec![(
                reqwest::header::CONTENT_TYPE,
                "application/json".parse().unwrap(),
            )],
            body: Some(br#"{"id":"{v}"}"#.to_vec()),
        };
        let values = HashMap::from([("v".to_string(), "a/b?c\"d".to_string())]);
        let filled = fill(&request, &["v".to_string()], &values).unwrap();
        assert_eq!(
            filled.url.as_str(),
            "https://api.test/v1/persons/a%2Fb%3Fc%22d/x?q=a%2Fb%3Fc%22d"
        );
        assert_eq!(filled.body.unwrap(), br#"{"id":"a/b?c\"d"}"#.to_vec());
        // A body that is not JSON takes the value as it is, whatever other header looks like JSON.
        let text = Request {
            headers: vec![(
                reqwest::header::HeaderName::from_static("x-note"),
                "application/json".parse().unwrap(),
            )],
            body: Some(b"id={v}".to_vec()),
            ..request.clone()
        };
        let filled = fill(&text, &["v".to_string()], &values).unwrap();
        assert_eq!(filled.body.unwrap(), b"id=a/b?c\"d".to_vec());
        let missing = fill(&request, &["w".to_string()], &values).unwrap_err();
        assert_eq!(missing, "w was not captured");
    }
}
