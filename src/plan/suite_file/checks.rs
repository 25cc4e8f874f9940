//! A suite's checks: each `[[check]]` (falling back to `[defaults]`) read into a request, expectations and a
//! retry policy, with duplicate names, unknown consumers, bad JSONPath and durations reported at their place.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::Url;
use toml::de::{DeTable, DeValue};

use super::fields::CHECK_KEYS;
use super::fields::{Fields, Known, Scope};
use super::file::{Reader, Value};
use crate::error::Problem;
use crate::plan::Planned;
use crate::plan::check::{Check, RetryPolicy};

pub(super) fn checks(
    reader: &mut Reader<'_>,
    root: &DeTable<'_>,
    defaults: &DeTable<'_>,
    known: &Known<'_>,
    base: Option<&Url>,
    scope: &mut Scope<'_>,
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
        if let Some(check) = check(reader, &fields, item, known, base, &mut seen, scope) {
            planned.push(check);
        }
    }
    planned
}

fn check(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    item: &Value<'_>,
    known: &Known<'_>,
    base: Option<&Url>,
    seen: &mut HashMap<String, String>,
    scope: &mut Scope<'_>,
) -> Option<Planned> {
    let name = match fields.table.get("name") {
        Some(value) => {
            let name = reader.string("name", value)?;
            if let Some(problem) = super::fields::name_problem("check name", &name) {
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
                        .filter(|n| super::fields::name_problem("", n).is_none())
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
    let request = super::request::request(
        reader,
        fields,
        item,
        base,
        consumer.map(|i| (i, known)),
        scope,
    );
    let uses = request.as_ref().map_or(&[][..], |r| r.1.as_slice());
    let requires = super::chain::requires(reader, fields, seen, name.as_deref(), uses, scope);
    let captures = super::chain::captures(reader, fields, name.as_deref(), scope);
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
    let refusal = super::expect::refusal(reader, fields, expect_refused);
    let expectations = super::expect::expectations(reader, fields);
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
            request: request.as_ref()?.0.clone(),
            expectations: expectations?,
            retry: retry?,
            follow_redirects: follow_redirects.unwrap_or(false),
            max_body: max_body.unwrap_or(Some(crate::plan::check::DEFAULT_MAX_BODY))?,
            max_latency,
            expect_refused,
            refusal: refusal?,
            captures: captures?,
            requires: requires?,
            uses: request?.1,
        },
        consumer: consumer?,
    })
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
        match duration(reader, "deadline", value) {
            Some(d) => policy.deadline = Some(d),
            None => ok = false,
        }
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
            crate::plan::check::parse_size(&text)
                .map_err(|why| reader.problem(&value.span(), format!("max_body: {why}")))
                .ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::suite_file::tests::one_check;

    /// Plans one check with these extra lines; the check, or the error's text.
    fn one(lines: &str) -> Result<crate::plan::check::Check, String> {
        Ok(one_check("", lines, None)?.checks.remove(0).check)
    }

    #[test]
    fn max_body_is_a_number_of_bytes_or_a_size() {
        assert_eq!(one("max_body = 2048").unwrap().max_body, 2048);
        assert_eq!(one("max_body = \"4 KiB\"").unwrap().max_body, 4096);
        let zero = one("max_body = 0").unwrap_err();
        assert!(
            zero.contains("max_body must be a whole number from 1"),
            "{zero}"
        );
        let word = one("max_body = \"lots\"").unwrap_err();
        assert!(word.contains("max_body:"), "{word}");
    }

    #[test]
    fn retry_fields_are_read_and_a_bad_one_is_named() {
        let retry = one("attempts = 7\nretry_delay = \"2s\"\ntimeout = \"9s\"\ndeadline = \"1m\"")
            .unwrap()
            .retry;
        assert_eq!(retry.attempts, 7);
        assert_eq!(retry.delay, std::time::Duration::from_secs(2));
        assert_eq!(retry.timeout, std::time::Duration::from_secs(9));
        assert_eq!(retry.deadline, Some(std::time::Duration::from_secs(60)));
        for (line, named) in [
            (
                "attempts = 0",
                "attempts must be a whole number from 1 to 100",
            ),
            (
                "attempts = 101",
                "attempts must be a whole number from 1 to 100",
            ),
            ("deadline = \"soon\"", "deadline:"),
            ("timeout = \"0s\"", "timeout"),
        ] {
            let error = one(line).unwrap_err();
            assert!(error.contains(named), "{line}: {error}");
        }
        assert_eq!(one("attempts = 100").unwrap().retry.attempts, 100);
    }

    #[test]
    fn follow_redirects_is_a_boolean() {
        assert!(one("follow_redirects = true").unwrap().follow_redirects);
        assert!(!one("follow_redirects = false").unwrap().follow_redirects);
        let error = one("follow_redirects = \"yes\"").unwrap_err();
        assert!(
            error.contains("follow_redirects must be true or false"),
            "{error}"
        );
    }
}
