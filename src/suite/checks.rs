//! A suite's checks: each `[[check]]` (falling back to `[defaults]`) read into a request, expectations and a
//! retry policy, with duplicate names, unknown consumers, bad JSONPath and durations reported at their place.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use toml::de::{DeTable, DeValue};

use super::consumers::origin;
use super::file::{Reader, Value, to_json};
use super::plan::{CHECK_KEYS, Planned};
use crate::assert::Expectations;
use crate::check::{Check, Request, RetryPolicy};
use crate::consumer::Consumer;
use crate::error::Problem;

/// What the checks may refer to: the consumers by name, as built, and where each one's credentials may go.
pub(super) struct Known<'a> {
    pub names: &'a HashMap<String, Option<usize>>,
    pub consumers: &'a [Consumer],
    pub origins: &'a [Vec<String>],
    /// The file gives a base_url that is not valid: its own problem says so, once.
    pub base_failed: bool,
}

pub(super) fn checks(
    reader: &mut Reader<'_>,
    root: &DeTable<'_>,
    defaults: &DeTable<'_>,
    known: &Known<'_>,
    base: Option<&Url>,
) -> Vec<Planned> {
    let Some(list) = root.get("check") else {
        return Vec::new();
    };
    let DeValue::Array(items) = list.get_ref() else {
        reader.problem(&list.span(), "check must be written as [[check]] tables");
        return Vec::new();
    };
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut planned = Vec::new();
    for item in items.iter() {
        let Some(table) = reader.table("[[check]]", item) else {
            continue;
        };
        reader.known_keys(table, &CHECK_KEYS, "[[check]]");
        let fields = Fields { table, defaults };
        if let Some(check) = check(reader, &fields, item, known, base, &mut seen) {
            planned.push(check);
        }
    }
    planned
}

/// A check's keys, falling back to `[defaults]`.
struct Fields<'t, 'i> {
    table: &'t DeTable<'i>,
    defaults: &'t DeTable<'i>,
}

impl<'t, 'i> Fields<'t, 'i> {
    fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.table.get(key).or_else(|| self.defaults.get(key))
    }
}

fn check(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    item: &Value<'_>,
    known: &Known<'_>,
    base: Option<&Url>,
    seen: &mut HashMap<String, String>,
) -> Option<Planned> {
    let name = match fields.table.get("name") {
        Some(value) => {
            let name = reader.string("name", value)?;
            if let Some(problem) = name_problem("check name", &name) {
                reader.problem(&value.span(), problem);
                return None;
            }
            if let Some(first) = seen.get(&name) {
                reader.problem(
                    &value.span(),
                    format!("the check name {name:?} is already used at {first}"),
                );
            }
            seen.insert(name.clone(), reader.at(&value.span()));
            Some(name)
        }
        None => {
            reader.problem(&item.span(), "a [[check]] needs a name");
            None
        }
    };
    let consumer = match fields.get("consumer") {
        Some(value) => reader
            .string("consumer", value)
            .and_then(|c| match known.names.get(&c) {
                Some(index) => *index, // None: the consumer's own problems already say why
                None => {
                    let mut names: Vec<&str> = known
                        .names
                        .keys()
                        .map(String::as_str)
                        .filter(|n| name_problem("", n).is_none())
                        .collect();
                    names.sort_unstable();
                    let message = if names.is_empty() {
                        format!("unknown consumer {c:?}; the file defines none ([consumers.NAME])")
                    } else {
                        format!(
                            "unknown consumer {c:?}; the file defines: {}",
                            names.join(", ")
                        )
                    };
                    reader.problem(&value.span(), message);
                    None
                }
            }),
        None => {
            reader.problem(&item.span(), "a [[check]] needs a consumer");
            None
        }
    };
    let request = request(reader, fields, item, base, consumer.map(|i| (i, known)));
    let expect_refused = match fields.get("expect") {
        Some(value) => match reader.string("expect", value).as_deref() {
            Some("refused") => true,
            Some(_) => {
                reader.problem(&value.span(), "expect may only be \"refused\"");
                false
            }
            None => false,
        },
        None => false,
    };
    let expectations = expectations(reader, fields);
    let retry = retry(reader, fields);
    let max_latency = fields
        .get("max_latency")
        .and_then(|v| duration(reader, "max_latency", v));
    let follow_redirects = fields
        .get("follow_redirects")
        .and_then(|v| reader.boolean("follow_redirects", v));
    let max_body = fields.get("max_body").map(|v| size(reader, v));
    Some(Planned {
        check: Check {
            name: name?,
            request: request?,
            expectations: expectations?,
            retry: retry?,
            follow_redirects: follow_redirects.unwrap_or(false),
            max_body: max_body.unwrap_or(Some(10 * 1024 * 1024))?,
            max_latency,
            expect_refused,
        },
        consumer: consumer?,
    })
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

/// The check's consumer, when it is known: its index and what is known of it.
type Caller<'k, 'a> = Option<(usize, &'k Known<'a>)>;

fn request(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    item: &Value<'_>,
    base: Option<&Url>,
    caller: Caller<'_, '_>,
) -> Option<Request> {
    let url = match (fields.table.get("url"), fields.table.get("path")) {
        (Some(value), None) => {
            let text = reader.text("url", value)?;
            let url = crate::target::https_url("url", &text)
                .map_err(|p| reader.named_problem(&value.span(), p))
                .ok()?;
            same_origin(reader, &url, caller, &value.span())
        }
        (None, Some(value)) => {
            let path = reader.text("path", value)?;
            match base {
                Some(base) => crate::target::join("path", base, &path)
                    .map_err(|p| reader.named_problem(&value.span(), p))
                    .ok(),
                None => {
                    if !caller.is_some_and(|(_, known)| known.base_failed) {
                        reader.problem(
                            &value.span(),
                            "path needs base_url in the file, or SERVICE_URL to take the origin from",
                        );
                    }
                    None
                }
            }
        }
        (Some(_), Some(value)) => {
            reader.problem(&value.span(), "give url or path, not both");
            None
        }
        (None, None) => {
            reader.problem(
                &item.span(),
                "a [[check]] needs a path (joined to base_url) or a url",
            );
            None
        }
    };
    let method = match fields.get("method") {
        Some(value) => match reader
            .string("method", value)?
            .to_ascii_uppercase()
            .as_str()
        {
            "GET" => Some(Method::GET),
            "POST" => Some(Method::POST),
            "PUT" => Some(Method::PUT),
            "PATCH" => Some(Method::PATCH),
            "DELETE" => Some(Method::DELETE),
            _ => {
                reader.problem(
                    &value.span(),
                    "method must be GET, POST, PUT, PATCH or DELETE",
                );
                None
            }
        },
        None => Some(Method::GET),
    };
    let key_header =
        caller.and_then(|(i, known)| known.consumers[i].api_key.as_ref().map(|k| &k.header));
    let mut headers = headers(reader, fields, key_header)?;
    let body = match (fields.get("json"), fields.get("body")) {
        (Some(json), None) => {
            if !headers.iter().any(|(n, _)| n == CONTENT_TYPE) {
                headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
            }
            Some(to_json(json.get_ref()).to_string().into_bytes())
        }
        (None, Some(body)) => Some(reader.text("body", body)?.into_bytes()),
        (Some(_), Some(body)) => {
            reader.problem(&body.span(), "give json or body, not both");
            None
        }
        (None, None) => None,
    };
    Some(Request {
        method: method?,
        url: url?,
        headers,
        body,
    })
}

/// Keeps a consumer's key and certificate on the origins they belong to: base_url's, or one it lists.
fn same_origin(
    reader: &mut Reader<'_>,
    url: &Url,
    caller: Caller<'_, '_>,
    span: &std::ops::Range<usize>,
) -> Option<Url> {
    let (index, known) = caller?;
    let allowed = &known.origins[index];
    if allowed.contains(&origin(url)) {
        return Some(url.clone());
    }
    let message = format!(
        "{} is not an origin this check's consumer belongs to ({}); its key and certificate go only there — \
         add it to the consumer's origins if it really belongs",
        origin(url),
        if allowed.is_empty() {
            "none: set base_url".to_string()
        } else {
            allowed.join(", ")
        }
    );
    reader.problem(span, message);
    None
}

fn headers(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    key_header: Option<&HeaderName>,
) -> Option<Vec<(HeaderName, HeaderValue)>> {
    let Some(value) = fields.get("headers") else {
        return Some(Vec::new());
    };
    let table = reader.table("headers", value)?;
    let mut headers = Vec::new();
    for (key, value) in table.iter() {
        let Ok(name) = HeaderName::from_bytes(key.get_ref().as_bytes()) else {
            reader.problem(
                &key.span(),
                format!("{:?} is not a valid header name", key.get_ref()),
            );
            continue;
        };
        if let Some(message) = crate::target::check_header_problem(&name, key_header) {
            reader.problem(&key.span(), message);
            continue;
        }
        let Some(text) = reader.text("headers", value) else {
            continue;
        };
        match HeaderValue::from_str(&text) {
            Ok(value) => headers.push((name, value)),
            Err(_) => reader.problem(&value.span(), "is not a valid header value"),
        }
    }
    Some(headers)
}

fn expectations(reader: &mut Reader<'_>, fields: &Fields<'_, '_>) -> Option<Expectations> {
    let statuses = match fields.get("expect_status") {
        None => Some(vec![200]),
        Some(value) => match value.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .map(|i| {
                    reader
                        .integer("expect_status", i, 100..600)
                        .map(|n| n as u16)
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect(),
            _ => reader
                .integer("expect_status", value, 100..600)
                .map(|n| vec![n as u16]),
        },
    };
    let texts = |reader: &mut Reader<'_>, key: &str| match fields.get(key) {
        None => Some(Vec::new()),
        Some(value) => reader.strings(key, value),
    };
    let json = texts(reader, "expect_json")?;
    let body = texts(reader, "expect_body")?;
    let mut ok = true;
    for (text, span) in &json {
        if let Err(problem) = crate::assert::JsonExpectation::parse(text) {
            reader.problem(
                span,
                problem.message.replace("--expect-json", "expect_json"),
            );
            ok = false;
        }
    }
    let json: Vec<String> = json.into_iter().map(|(t, _)| t).collect();
    let body: Vec<String> = body.into_iter().map(|(t, _)| t).collect();
    let expectations = Expectations::exact(&statuses?, &json, &body)
        .map_err(|p| reader.problems.push(p))
        .ok()?;
    ok.then_some(expectations)
}

fn retry(reader: &mut Reader<'_>, fields: &Fields<'_, '_>) -> Option<RetryPolicy> {
    let mut policy = RetryPolicy {
        attempts: 3,
        delay: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
        deadline: None,
    };
    let mut ok = true;
    if let Some(value) = fields.get("attempts") {
        match reader.integer("attempts", value, 1..101) {
            Some(n) => policy.attempts = n as u32,
            None => ok = false,
        }
    }
    for (key, slot) in [
        ("retry_delay", &mut policy.delay),
        ("timeout", &mut policy.timeout),
    ] {
        if let Some(value) = fields.get(key) {
            match duration(reader, key, value) {
                Some(d) => *slot = d,
                None => ok = false,
            }
        }
    }
    if let Some(value) = fields.get("deadline") {
        policy.deadline = duration(reader, "deadline", value);
        ok &= policy.deadline.is_some();
    }
    if policy.timeout.is_zero() {
        ok = false;
        reader
            .problems
            .push(Problem::new("timeout", "must be more than zero"));
    }
    ok.then_some(policy)
}

pub(super) fn duration(reader: &mut Reader<'_>, key: &str, value: &Value<'_>) -> Option<Duration> {
    let text = reader.string(key, value)?;
    crate::duration::parse(&text)
        .map_err(|why| reader.problem(&value.span(), format!("{key}: {why}")))
        .ok()
}

fn size(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<u64> {
    match value.get_ref() {
        DeValue::Integer(_) => reader
            .integer("max_body", value, 1..i64::MAX)
            .map(|n| n as u64),
        _ => {
            let text = reader.string("max_body", value)?;
            crate::cli::parse_size(&text)
                .map_err(|why| reader.problem(&value.span(), format!("max_body: {why}")))
                .ok()
        }
    }
}
