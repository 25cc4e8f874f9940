//! What a suite's check expects of its answer: statuses (`200`, `"2xx"`, `"<400"`, `"200-299"`), headers
//! (`expect_headers`: a value, `true` present, `false` absent), JSONPath (`expect_json`, `expect_not_empty`,
//! `expect_not_null`) and text (`expect_body`), every problem at its position.

use reqwest::header::HeaderName;
use toml::de::DeValue;

use super::fields::Fields;
use super::file::{Reader, Value};
use crate::plan::check::{Refusal, RefusedBy};
use crate::probe::assert::{Expectations, HeaderRule, JsonExpectation, JsonRule, StatusSet};

pub(super) fn expectations(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
) -> Option<Expectations> {
    let statuses = statuses(reader, fields.get("expect_status"));
    let headers = headers(reader, fields.get("expect_headers"));
    let mut json = Some(Vec::new());
    let rules = [
        ("expect_json", JsonRule::Exists),
        ("expect_not_empty", JsonRule::NotEmpty),
        ("expect_not_null", JsonRule::NotNull),
    ];
    for (key, rule) in rules {
        let Some(value) = fields.get(key) else {
            continue;
        };
        let Some(texts) = reader.strings(key, value) else {
            json = None;
            continue;
        };
        for (text, span) in texts {
            let parsed = match &rule {
                JsonRule::Exists => JsonExpectation::parse(&text),
                other => JsonExpectation::with_rule(&text, other.clone()),
            };
            match parsed {
                Ok(expectation) => {
                    if let Some(list) = json.as_mut() {
                        list.push(expectation);
                    }
                }
                Err(problem) => {
                    let message = problem.message.replace("--expect-json", key);
                    reader.problem(&span, format!("{key}: {message}"));
                    json = None;
                }
            }
        }
    }
    let body = match fields.get("expect_body") {
        None => Some(Vec::new()),
        Some(value) => reader
            .strings("expect_body", value)
            .map(|texts| texts.into_iter().map(|(t, _)| t).collect()),
    };
    Some(Expectations::exact(statuses?, headers?, json?, &body?))
}

/// Reads `expect_status`: one status or a list, each a number or a string (`"2xx"`, `"<400"`, `"200-299"`).
fn statuses(reader: &mut Reader<'_>, value: Option<&Value<'_>>) -> Option<StatusSet> {
    let Some(value) = value else {
        return Some(StatusSet::codes(&[200]));
    };
    let items: Vec<&Value<'_>> = match value.get_ref() {
        DeValue::Array(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut set = StatusSet::codes(&[]);
    let mut ok = !items.is_empty();
    if !ok {
        reader.problem(
            &value.span(),
            "expect_status is empty; give at least one status",
        );
    }
    for item in items {
        let text = match item.get_ref() {
            DeValue::Integer(i) => i.as_str().to_string(),
            DeValue::String(s) => s.to_string(),
            _ => {
                reader.problem(
                    &item.span(),
                    "expect_status: a status is a number or a string like \"2xx\"",
                );
                ok = false;
                continue;
            }
        };
        if let Err(why) = set.add(&text) {
            reader.problem(&item.span(), format!("expect_status: {why}"));
            ok = false;
        }
    }
    ok.then_some(set)
}

/// Reads `expect_headers = { "name" = "value" | true | false }`.
fn headers(
    reader: &mut Reader<'_>,
    value: Option<&Value<'_>>,
) -> Option<Vec<(HeaderName, HeaderRule)>> {
    let Some(value) = value else {
        return Some(Vec::new());
    };
    let table = reader.table("expect_headers", value)?;
    let mut rules = Vec::new();
    let mut ok = true;
    for (key, value) in table.iter() {
        let Ok(name) = HeaderName::from_bytes(key.get_ref().as_bytes()) else {
            reader.problem(
                &key.span(),
                format!("{:?} is not a valid header name", key.get_ref()),
            );
            ok = false;
            continue;
        };
        let rule = match value.get_ref() {
            DeValue::Boolean(true) => HeaderRule::Present,
            DeValue::Boolean(false) => HeaderRule::Absent,
            DeValue::String(text) => HeaderRule::Equals(text.to_string()),
            _ => {
                reader.problem(
                    &value.span(),
                    "expect_headers: a header's value is the text it must equal, true (present) or false (absent)",
                );
                ok = false;
                continue;
            }
        };
        rules.push((name, rule));
    }
    ok.then_some(rules)
}

/// Reads who must refuse a locked door (`refused_by = "tls" | "gateway" | "application" | "waf"`) and the text
/// its refusal must hold (`refused_with`); both only with `expect = "refused"`.
pub(super) fn refusal(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    expect_refused: bool,
) -> Option<Option<Refusal>> {
    let (by, with) = (fields.get("refused_by"), fields.get("refused_with"));
    if !expect_refused {
        for value in [by, with].into_iter().flatten() {
            reader.problem(
                &value.span(),
                "refused_by and refused_with go with expect = \"refused\"",
            );
        }
        // Any problem above stops the plan: nothing is sent either way.
        return Some(None);
    }
    let by = match by {
        None => Some(None),
        Some(value) => match reader.string("refused_by", value)?.as_str() {
            "tls" => Some(Some(RefusedBy::Tls)),
            "gateway" => Some(Some(RefusedBy::Gateway)),
            "application" => Some(Some(RefusedBy::Application)),
            "waf" => Some(Some(RefusedBy::Waf)),
            _ => {
                reader.problem(
                    &value.span(),
                    "refused_by must be \"tls\", \"gateway\", \"application\" or \"waf\"",
                );
                None
            }
        },
    };
    let with = match with {
        None => Some(None),
        Some(value) => reader.string("refused_with", value).map(Some),
    };
    let (by, with) = (by?, with?);
    Some((by.is_some() || with.is_some()).then_some(Refusal { by, with }))
}
