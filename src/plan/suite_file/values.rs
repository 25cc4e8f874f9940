//! The values a suite's requests are written with, as `{name}` in a path, URL, body or header: `[vars]` (ids
//! like `hmpps_id`, each overridable from the environment), dates relative to today (`{today}`,
//! `{today-90d}`, `YYYY-MM-DD` as the API wants them), and values captured from earlier answers, which are
//! only known while the suite runs and stay as `{name}` until then. `${NAME}` stays what it is everywhere: the
//! environment, and the only way to write a secret.

use std::collections::HashMap;
use std::ops::Range;

use time::{Date, Duration, OffsetDateTime};
use toml::de::{DeTable, DeValue};

use super::file::Reader;
use crate::environment::Environment;

/// The values known while planning, and the names later captures will fill.
pub(super) struct Values {
    vars: HashMap<String, String>,
    today: Date,
    /// Capture names declared so far (by earlier checks), and the check that captures each.
    pub captures: HashMap<String, String>,
}

/// A text with its plan-time values filled in; `uses` lists the captured values it still waits for.
pub(super) struct Filled {
    pub text: String,
    pub uses: Vec<String>,
}

impl Values {
    /// Reads `[vars]`: `name = "value"`, or `name = { value = "…", env = "NAME" }` where the variable, when
    /// set, overrides the value (the team's workflows pass `HMPPSID`).
    pub fn read(reader: &mut Reader<'_>, root: &DeTable<'_>, env: &Environment) -> Self {
        let mut vars = HashMap::new();
        let table = root.get("vars").and_then(|v| reader.table("vars", v));
        for (key, value) in table.into_iter().flat_map(|t| t.iter()) {
            let name = key.get_ref().to_string();
            if !is_name(&name) || name.starts_with("today") {
                let why = format!(
                    "vars.{name}: a name is lower-case letters, digits and _ (and not today…, which is the date)"
                );
                reader.problem(&key.span(), why);
                continue;
            }
            let found = match value.get_ref() {
                DeValue::String(text) => Some(text.to_string()),
                DeValue::Table(fields) => overridable(reader, &name, fields, env),
                _ => {
                    let why = format!(
                        "vars.{name} must be a string or {{ value = \"…\", env = \"NAME\" }}"
                    );
                    reader.problem(&value.span(), why);
                    None
                }
            };
            if let Some(found) = found {
                vars.insert(name, found);
            }
        }
        Self {
            vars,
            today: OffsetDateTime::now_utc().date(),
            captures: HashMap::new(),
        }
    }

    /// Fills `{name}` placeholders: vars and dates now, captures declared by earlier checks later (`uses`).
    /// Braces around anything that is not a name are left as written; an unknown name is a problem.
    pub fn fill(
        &self,
        reader: &mut Reader<'_>,
        key: &str,
        text: &str,
        span: &Range<usize>,
    ) -> Option<Filled> {
        let mut out = String::with_capacity(text.len());
        let mut uses = Vec::new();
        let mut rest = text;
        let mut ok = true;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}').filter(|&c| is_placeholder(&after[..c])) else {
                out.push('{');
                rest = after;
                continue;
            };
            let name = &after[..close];
            match self.value(name) {
                Some(Ok(value)) => out.push_str(&value),
                Some(Err(why)) => {
                    reader.problem(span, format!("{key}: {{{name}}} {why}"));
                    ok = false;
                }
                None if self.captures.contains_key(name) => {
                    // Kept as written: the run fills it once the capturing check has answered.
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                    uses.push(name.to_string());
                }
                None => {
                    reader.problem(
                        span,
                        format!("{key}: {{{name}}} is not a value: {}", self.known()),
                    );
                    ok = false;
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        uses.sort();
        uses.dedup();
        ok.then_some(Filled { text: out, uses })
    }

    /// Says why a capture may not take this name: not a name, a var's, a date's, or another capture's.
    pub fn is_taken(&self, name: &str) -> Option<String> {
        if !is_name(name) || name.starts_with("today") {
            Some(
                "a name is lower-case letters, digits and _ (and not today…, which is the date)"
                    .into(),
            )
        } else if self.vars.contains_key(name) {
            Some("is already a [vars] value".into())
        } else {
            self.captures
                .get(name)
                .map(|check| format!("is already captured by {check:?}"))
        }
    }

    /// The value of a var or a date; `None` when the name is neither.
    fn value(&self, name: &str) -> Option<Result<String, String>> {
        if let Some(value) = self.vars.get(name) {
            return Some(Ok(value.clone()));
        }
        let offset = name.strip_prefix("today")?;
        if offset.is_empty() {
            return Some(Ok(self.today.to_string()));
        }
        let days = offset
            .strip_suffix('d')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| n.abs() <= 36_600 && (offset.starts_with('+') || offset.starts_with('-')));
        Some(
            match days.and_then(|d| self.today.checked_add(Duration::days(d))) {
                Some(date) => Ok(date.to_string()),
                None => Err(
                    "is not a date: write {today}, {today-90d} or {today+7d} (within 100 years)"
                        .into(),
                ),
            },
        )
    }

    /// Lists what a placeholder may name, for a problem's message.
    fn known(&self) -> String {
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        names.extend(self.captures.keys().map(String::as_str));
        names.sort_unstable();
        let listed = if names.is_empty() {
            "[vars] defines none".to_string()
        } else {
            format!("the values are {}", names.join(", "))
        };
        format!("{listed}, and {{today}}, {{today-Nd}}, {{today+Nd}}")
    }
}

/// Reads `{ value = "…", env = "NAME" }`.
fn overridable(
    reader: &mut Reader<'_>,
    name: &str,
    fields: &DeTable<'_>,
    env: &Environment,
) -> Option<String> {
    reader.known_keys(fields, &["value", "env"], &format!("vars.{name}"));
    let value = fields.get("value").and_then(|v| reader.string("value", v));
    let variable = fields.get("env").and_then(|v| reader.string("env", v));
    if let Some(found) = variable.as_deref().and_then(|v| env.get(v)) {
        return Some(found.to_string());
    }
    if value.is_none() {
        let span = fields.get("env").map_or(0..0, |v| v.span());
        reader.problem(
            &span,
            format!("vars.{name} has no value and its env variable is not set"),
        );
    }
    value
}

fn is_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A placeholder is a name, or `today` with a signed day offset.
fn is_placeholder(text: &str) -> bool {
    is_name(text)
        || text
            .strip_prefix("today")
            .is_some_and(|o| o.starts_with(['+', '-']))
}
