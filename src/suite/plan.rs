//! A suite file turned into what runs: consumers (key, certificate, trust, proxy) and checks (request,
//! expectations, retries), validated as a whole — unknown keys and consumers, duplicate names, bad JSONPath,
//! durations, unset variables and literal secrets are all reported at once, and nothing is sent.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use toml::de::{DeTable, DeValue};

use super::file::{Reader, Value, to_json};
use crate::assert::Expectations;
use crate::check::{Check, Request, RetryPolicy};
use crate::consumer::{ApiKey, Consumer};
use crate::environment::{Environment, SERVICE_URL};
use crate::error::{Error, Problem};
use crate::identity::{self, ClientIdentity};
use crate::input::{self, Input};

/// What a suite runs: its consumers, and its checks each naming one of them.
pub struct Suite {
    pub consumers: Vec<Consumer>,
    pub checks: Vec<Planned>,
    pub concurrency: usize,
    /// Every consumer's secrets, for one redactor over all output.
    pub secrets: Vec<SecretString>,
}

/// A check and the index of the consumer that makes it.
pub struct Planned {
    pub check: Check,
    pub consumer: usize,
}

/// Flags that override the file.
#[derive(Debug, Default)]
pub struct Overrides {
    pub ca_cert: Option<PathBuf>,
    pub concurrency: Option<usize>,
}

const TOP_KEYS: [&str; 5] = ["base_url", "ca_cert", "defaults", "consumers", "check"];
const CONSUMER_KEYS: [&str; 4] = ["api_key", "cert", "key", "api_key_header"];
const CHECK_KEYS: [&str; 19] = [
    "name",
    "consumer",
    "path",
    "url",
    "method",
    "expect",
    "expect_status",
    "expect_json",
    "expect_body",
    "max_latency",
    "json",
    "body",
    "headers",
    "attempts",
    "retry_delay",
    "timeout",
    "deadline",
    "follow_redirects",
    "max_body",
];
/// Headers a suite may not set: the key travels in the consumer's header, and framing is heartbeat's.
const FORBIDDEN_HEADERS: [&str; 8] = [
    "x-api-key",
    "authorization",
    "cookie",
    "proxy-authorization",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
];

/// Plans a suite from its text; every problem at once, positions as `label:line:column`.
pub fn plan(
    label: &str,
    text: &str,
    env: &Environment,
    overrides: &Overrides,
) -> Result<Suite, Error> {
    let document = DeTable::parse(text).map_err(|e| {
        let mut reader = Reader::new(label, text, env);
        let span = e.span().unwrap_or(0..0);
        reader.problem(&span, format!("is not valid TOML: {}", e.message()));
        Error::Config(reader.problems)
    })?;
    let mut reader = Reader::new(label, text, env);
    let root = document.get_ref();
    reader.known_keys(root, &TOP_KEYS, "the suite");
    let empty = DeTable::default();
    let defaults = match root.get("defaults") {
        Some(value) => reader.table("defaults", value).unwrap_or(&empty),
        None => &empty,
    };
    let mut default_keys: Vec<&str> = CHECK_KEYS
        .iter()
        .copied()
        .filter(|k| *k != "name")
        .collect();
    default_keys.push("concurrency");
    reader.known_keys(defaults, &default_keys, "[defaults]");
    let base = base_url(&mut reader, root, env);
    let roots = roots(&mut reader, root, overrides);
    let (consumers, names, mut secrets) =
        consumers(&mut reader, root, roots.as_ref(), base.as_ref(), env);
    let checks = checks(&mut reader, root, defaults, &names, base.as_ref());
    let concurrency = overrides.concurrency.or_else(|| {
        defaults
            .get("concurrency")
            .and_then(|v| reader.integer("concurrency", v, 1..65))
            .map(|n| n as usize)
    });
    if reader.problems.is_empty() && checks.is_empty() {
        reader.problem(&(0..0), "has no [[check]]; add at least one");
    }
    if !reader.problems.is_empty() {
        return Err(Error::Config(reader.problems));
    }
    secrets.retain(|s| s.expose_secret().len() >= 4);
    // By default one check in flight per consumer: each keeps one warm connection, and a new handshake
    // costs far more than a request on a kept-alive one (scripts/bench-suite.sh).
    let used: std::collections::HashSet<usize> = checks.iter().map(|p| p.consumer).collect();
    Ok(Suite {
        consumers,
        checks,
        concurrency: concurrency.unwrap_or(used.len().clamp(1, 64)),
        secrets,
    })
}

/// The URL paths are joined to: `base_url`, or the origin of SERVICE_URL.
fn base_url(reader: &mut Reader<'_>, root: &DeTable<'_>, env: &Environment) -> Option<Url> {
    let (text, span) = match root.get("base_url") {
        Some(value) => (reader.text("base_url", value)?, value.span()),
        None => {
            let url = Url::parse(env.get(SERVICE_URL)?).ok()?;
            (url.origin().ascii_serialization(), 0..0)
        }
    };
    match Url::parse(text.trim()) {
        Ok(url) if url.scheme() == "https" => Some(url),
        _ => {
            reader.problem(&span, "base_url must be an https:// URL");
            None
        }
    }
}

/// The built-in roots plus `ca_cert` (a `${NAME}` reference, PEM, base64 of PEM or a path), or `--ca-cert`.
fn roots(
    reader: &mut Reader<'_>,
    root: &DeTable<'_>,
    overrides: &Overrides,
) -> Option<rustls::RootCertStore> {
    let (name, input) = match (&overrides.ca_cert, root.get("ca_cert")) {
        (Some(path), _) => ("--ca-cert".to_string(), Input::File(path.clone())),
        (None, Some(value)) => {
            let text = reader.text("ca_cert", value)?;
            (
                reader.at(&value.span()) + " ca_cert",
                Input::Value(SecretString::from(text)),
            )
        }
        (None, None) => return identity::root_store("ca_cert", &[]).ok(),
    };
    let result = input::read_certificates(&name, &input)
        .and_then(|certs| identity::root_store(&name, &certs));
    result.map_err(|problem| reader.problems.push(problem)).ok()
}

type Consumers = (Vec<Consumer>, HashMap<String, usize>, Vec<SecretString>);

fn consumers(
    reader: &mut Reader<'_>,
    root: &DeTable<'_>,
    roots: Option<&rustls::RootCertStore>,
    base: Option<&Url>,
    env: &Environment,
) -> Consumers {
    let (mut list, mut names, mut secrets) = (Vec::new(), HashMap::new(), Vec::new());
    let Some(table) = root
        .get("consumers")
        .and_then(|v| reader.table("consumers", v))
    else {
        return (list, names, secrets);
    };
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        let Some(fields) = reader.table(&format!("consumers.{name}"), value) else {
            continue;
        };
        reader.known_keys(fields, &CONSUMER_KEYS, &format!("[consumers.{name}]"));
        let consumer = consumer(reader, &name, fields, roots, base, env, &mut secrets);
        if let Some(consumer) = consumer {
            names.insert(name, list.len());
            list.push(consumer);
        }
    }
    (list, names, secrets)
}

fn consumer(
    reader: &mut Reader<'_>,
    name: &str,
    fields: &DeTable<'_>,
    roots: Option<&rustls::RootCertStore>,
    base: Option<&Url>,
    env: &Environment,
    secrets: &mut Vec<SecretString>,
) -> Option<Consumer> {
    let mut secret = |reader: &mut Reader<'_>, key: &str| {
        let value = fields.get(key)?;
        let found = reader.secret(&format!("consumers.{name}.{key}"), value);
        secrets.extend(found.clone());
        found.map(|s| (s, value.span()))
    };
    let api_key = secret(reader, "api_key");
    let cert = secret(reader, "cert");
    let key = secret(reader, "key");
    let header = match fields.get("api_key_header") {
        Some(value) => reader.string("api_key_header", value).and_then(|h| {
            crate::target::header_name("api_key_header", &h)
                .map_err(|p| reader.problem(&value.span(), p.message))
                .ok()
        }),
        None => Some(HeaderName::from_static("x-api-key")),
    }?;
    let identity = pair(reader, name, fields, cert, key, secrets)?;
    let api_key = match api_key {
        None => None,
        Some((key, span)) => {
            let trimmed = key.expose_secret().trim_matches([' ', '\t']).to_string();
            match ApiKey::new(header, &trimmed) {
                Some(api_key) => Some(api_key),
                None => {
                    reader.problem(
                        &span,
                        "api_key holds characters not allowed in an HTTP header",
                    );
                    return None;
                }
            }
        }
    };
    let proxy = base.and_then(|url| {
        crate::proxy::Proxy::for_url(env, url)
            .map_err(|p| reader.problems.push(p))
            .ok()
            .flatten()
    });
    Some(Consumer {
        name: Some(name.to_string()),
        api_key,
        request_id_header: HeaderName::from_static("x-request-id"),
        identity,
        roots: roots?.clone(),
        proxy,
    })
}

/// Loads a consumer's certificate and key; both or neither (no certificate is then presented).
fn pair(
    reader: &mut Reader<'_>,
    name: &str,
    fields: &DeTable<'_>,
    cert: Option<(SecretString, std::ops::Range<usize>)>,
    key: Option<(SecretString, std::ops::Range<usize>)>,
    secrets: &mut Vec<SecretString>,
) -> Option<Option<Arc<ClientIdentity>>> {
    match (cert, key) {
        (None, None) if fields.get("cert").is_none() && fields.get("key").is_none() => Some(None),
        (Some((cert, span)), Some((key, _))) => {
            let label = format!("{} consumers.{name}.cert", reader.at(&span));
            let key_label = format!("consumers.{name}.key");
            let (cert, key) = (Input::Value(cert), Input::Value(key));
            for input in [&cert, &key] {
                if let Ok(pem) = input::read_pem(&label, input) {
                    secrets.extend(crate::config::pem_secrets(&pem));
                }
            }
            match ClientIdentity::load((&label, &cert), (&key_label, &key)) {
                Ok(identity) => {
                    if let Some(problem) =
                        identity.facts.validity_problem(&label, SystemTime::now())
                    {
                        reader.problems.push(problem);
                    }
                    Some(Some(Arc::new(identity)))
                }
                Err(problems) => {
                    reader.problems.extend(problems);
                    None
                }
            }
        }
        (Some((_, span)), None) | (None, Some((_, span))) => {
            // With both keys present, the other one already has its own problem (unset, literal).
            if fields.get("cert").is_none() || fields.get("key").is_none() {
                reader.problem(
                    &span,
                    format!("consumers.{name} needs both cert and key, or neither"),
                );
            }
            None
        }
        (None, None) => None,
    }
}

fn checks(
    reader: &mut Reader<'_>,
    root: &DeTable<'_>,
    defaults: &DeTable<'_>,
    consumers: &HashMap<String, usize>,
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
        if let Some(check) = check(reader, &fields, item, consumers, base, &mut seen) {
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
    consumers: &HashMap<String, usize>,
    base: Option<&Url>,
    seen: &mut HashMap<String, String>,
) -> Option<Planned> {
    let name = match fields.table.get("name") {
        Some(value) => {
            let name = reader.string("name", value)?;
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
            .and_then(|c| match consumers.get(&c) {
                Some(index) => Some(*index),
                None => {
                    let known: Vec<&str> = consumers.keys().map(String::as_str).collect();
                    let message = format!(
                        "unknown consumer {c:?}; the file defines: {}",
                        known.join(", ")
                    );
                    reader.problem(&value.span(), message);
                    None
                }
            }),
        None => {
            reader.problem(&item.span(), "a [[check]] needs a consumer");
            None
        }
    };
    let request = request(reader, fields, item, base);
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

fn request(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    item: &Value<'_>,
    base: Option<&Url>,
) -> Option<Request> {
    let url = match (fields.table.get("url"), fields.table.get("path")) {
        (Some(value), None) => {
            let text = reader.text("url", value)?;
            checked_url(reader, &text, &value.span())
        }
        (None, Some(value)) => {
            let path = reader.text("path", value)?;
            match base {
                Some(base) => checked_url(
                    reader,
                    &format!("{}{path}", base.as_str().trim_end_matches('/')),
                    &value.span(),
                ),
                None => {
                    reader.problem(
                        &value.span(),
                        "path needs base_url in the file, or SERVICE_URL to take the origin from",
                    );
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
    let mut headers = headers(reader, fields)?;
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

fn checked_url(reader: &mut Reader<'_>, text: &str, span: &std::ops::Range<usize>) -> Option<Url> {
    match Url::parse(text.trim()) {
        Ok(url) if url.scheme() == "https" => Some(url),
        Ok(_) => {
            reader.problem(span, "the URL must be https://");
            None
        }
        Err(e) => {
            reader.problem(span, format!("is not a valid URL ({e})"));
            None
        }
    }
}

fn headers(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
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
        if FORBIDDEN_HEADERS.contains(&name.as_str()) {
            let message = format!(
                "headers may not set {name}: secrets come only from a consumer, framing from heartbeat"
            );
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

fn duration(reader: &mut Reader<'_>, key: &str, value: &Value<'_>) -> Option<Duration> {
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
