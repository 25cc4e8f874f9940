//! Reading a suite file's TOML with positions: typed values out of the spanned tree, `${NAME}` references
//! resolved from the environment, secrets accepted only as references, and every problem collected with its
//! `file:line:column` — never with a secret's value.

use std::ops::Range;

use secrecy::SecretString;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::environment::Environment;
use crate::error::Problem;

/// A spanned TOML value, as the parser gives it.
pub type Value<'i> = Spanned<DeValue<'i>>;

/// Reads values out of one file and collects what is wrong with them.
pub struct Reader<'a> {
    label: &'a str,
    text: &'a str,
    /// Where each line starts, so a position is found by binary search: naming every check's position stays
    /// linear in the file (a scan from the start each time made 20,000 checks take 17 s).
    line_starts: Vec<usize>,
    env: &'a Environment,
    pub problems: Vec<Problem>,
}

impl<'a> Reader<'a> {
    /// Starts reading `text`, naming positions after `label` (the file's path).
    pub fn new(label: &'a str, text: &'a str, env: &'a Environment) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            label,
            text,
            line_starts,
            env,
            problems: Vec::new(),
        }
    }

    /// Names a position as `file:line:column` (columns count characters, from 1).
    pub fn at(&self, span: &Range<usize>) -> String {
        let offset = span.start.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |l| l.chars().count())
            + 1;
        format!("{}:{line}:{column}", self.label)
    }

    /// Records a problem found by a shared policy (`target`, `input`), named by its key, at this position.
    pub fn named_problem(&mut self, span: &Range<usize>, problem: crate::error::Problem) {
        self.problem(span, format!("{}: {}", problem.input, problem.message));
    }

    /// Records a problem at a position.
    pub fn problem(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let input = self.at(span);
        self.problems.push(Problem::new(input, message));
    }

    /// Checks a table's keys against the allowed ones; each unknown key is a problem at its position.
    pub fn known_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], what: &str) {
        for (key, _) in table.iter() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                let message = format!(
                    "unknown key {:?} in {what}; known keys: {}",
                    key.get_ref(),
                    allowed.join(", ")
                );
                self.problem(&key.span(), message);
            }
        }
    }

    /// Reads a string, or records that it is not one.
    pub fn string(&mut self, key: &str, value: &Value<'_>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(text) => Some(text.to_string()),
            _ => {
                self.problem(&value.span(), format!("{key} must be a string"));
                None
            }
        }
    }

    /// Reads a string and resolves the `${NAME}` (or `$NAME`) references in it.
    pub fn text(&mut self, key: &str, value: &Value<'_>) -> Option<String> {
        let text = self.string(key, value)?;
        self.interpolate(key, &text, &value.span())
    }

    /// Reads a whole integer in a range.
    pub fn integer(&mut self, key: &str, value: &Value<'_>, range: Range<i64>) -> Option<i64> {
        let number = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match number {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                let message = format!(
                    "{key} must be a whole number from {} to {}",
                    range.start,
                    range.end - 1
                );
                self.problem(&value.span(), message);
                None
            }
        }
    }

    /// Reads a boolean.
    pub fn boolean(&mut self, key: &str, value: &Value<'_>) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.problem(&value.span(), format!("{key} must be true or false"));
                None
            }
        }
    }

    /// Reads one string or an array of strings, each with its span.
    pub fn strings(&mut self, key: &str, value: &Value<'_>) -> Option<Vec<(String, Range<usize>)>> {
        match value.get_ref() {
            DeValue::String(text) => Some(vec![(text.to_string(), value.span())]),
            DeValue::Array(items) => items
                .iter()
                .map(|item| self.string(key, item).map(|s| (s, item.span())))
                .collect::<Vec<_>>()
                .into_iter()
                .collect(),
            _ => {
                self.problem(
                    &value.span(),
                    format!("{key} must be a string or a list of strings"),
                );
                None
            }
        }
    }

    /// Reads a table, or records that it is not one.
    pub fn table<'v, 'i>(&mut self, key: &str, value: &'v Value<'i>) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => {
                self.problem(&value.span(), format!("{key} must be a table"));
                None
            }
        }
    }

    /// Resolves `${NAME}` and `$NAME` references; an unset variable is a problem naming it.
    pub fn interpolate(&mut self, key: &str, text: &str, span: &Range<usize>) -> Option<String> {
        let mut out = String::new();
        let mut rest = text;
        let mut ok = true;
        while let Some(start) = rest.find('$') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let (name, used) = reference_name(after);
            if name.is_empty() {
                out.push('$');
                rest = after;
                continue;
            }
            match self.variable(key, name, span) {
                Some(value) => out.push_str(&value),
                None => ok = false,
            }
            rest = &after[used..];
        }
        out.push_str(rest);
        ok.then_some(out)
    }

    /// Reads a secret: it must be exactly one `${NAME}` reference (so no secret lives in the file), resolved
    /// from the environment. The value is never shown, literal or not.
    pub fn secret(&mut self, key: &str, value: &Value<'_>) -> Option<SecretString> {
        let DeValue::String(text) = value.get_ref() else {
            self.problem(
                &value.span(),
                format!("{key} must be a reference like \"${{NAME}}\""),
            );
            return None;
        };
        let name = match whole_reference(text) {
            Some(name) => name,
            None => {
                let message = format!(
                    "{key} holds a literal value; secrets may only be references like \"${{NAME}}\" to the environment, so none lives in the file (the value is not shown)"
                );
                self.problem(&value.span(), message);
                return None;
            }
        };
        self.variable(key, name, &value.span())
            .map(SecretString::from)
    }

    /// Reads a variable a reference names; one set to something that is not UTF-8 is named as such, not as
    /// unset, and the value is never shown.
    fn variable(&mut self, key: &str, name: &str, span: &Range<usize>) -> Option<String> {
        if let Some(problem) = self.env.utf8_problem(name) {
            self.problem(span, format!("{key}: ${name} {}", problem.message));
            return None;
        }
        let value = self.env.get(name).map(str::to_string);
        if value.is_none() {
            self.problem(
                span,
                format!("{key} refers to ${{{name}}}, which is not set"),
            );
        }
        value
    }
}

/// The name a text that is exactly one `${NAME}` (or `$NAME`) reference names; `None` for anything else.
pub fn whole_reference(text: &str) -> Option<&str> {
    let (name, used) = reference_name(text.strip_prefix('$')?);
    (!name.is_empty() && used == text.len() - 1).then_some(name)
}

/// Reads the variable name after a `$`: `{NAME}` or `NAME`; returns the name and how many bytes it used.
fn reference_name(after: &str) -> (&str, usize) {
    if let Some(inner) = after.strip_prefix('{') {
        return match inner.find('}') {
            Some(end) if is_name(&inner[..end]) => (&inner[..end], end + 2),
            _ => ("", 0),
        };
    }
    let end = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    if is_name(&after[..end]) {
        (&after[..end], end)
    } else {
        ("", 0)
    }
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Turns a TOML value into JSON (for a check's `json` body); dates become strings.
pub fn to_json(value: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        DeValue::String(s) => Json::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map_or(Json::Null, |n| Json::Number(n.into())),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::Null, Json::Number),
        DeValue::Boolean(b) => Json::Bool(*b),
        DeValue::Datetime(d) => Json::String(d.to_string()),
        DeValue::Array(items) => Json::Array(items.iter().map(|v| to_json(v.get_ref())).collect()),
        DeValue::Table(table) => Json::Object(
            table
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_lines_and_character_columns() {
        let env = Environment::default();
        let text = "a = 1\nnamé = \"x\"\n\nlast";
        let reader = Reader::new("f.toml", text, &env);
        assert_eq!(reader.at(&(0..1)), "f.toml:1:1");
        assert_eq!(reader.at(&(4..5)), "f.toml:1:5");
        assert_eq!(reader.at(&(6..7)), "f.toml:2:1");
        let after_accent = text.find(" = \"").unwrap();
        assert_eq!(
            reader.at(&(after_accent..after_accent + 1)),
            "f.toml:2:5",
            "columns count characters"
        );
        assert_eq!(reader.at(&(18..19)), "f.toml:3:1");
        assert_eq!(reader.at(&(19..20)), "f.toml:4:1");
        assert_eq!(
            reader.at(&(999..1000)),
            "f.toml:4:5",
            "past the end: the end"
        );
    }

    #[test]
    fn references_resolve_and_unset_ones_are_named_with_their_position() {
        let env = Environment::from_pairs([("HOST", "api.test".to_string())]);
        let text = "x = 1\nurl = \"https://${HOST}/$MISSING\"\n";
        let mut reader = Reader::new("suite.toml", text, &env);
        assert_eq!(
            reader.interpolate("url", "https://${HOST}/a", &(8..9)),
            Some("https://api.test/a".into())
        );
        assert_eq!(
            reader.interpolate("url", "cost $5 and ${", &(8..9)),
            Some("cost $5 and ${".into())
        );
        assert_eq!(
            reader.interpolate("url", "https://$HOST/$MISSING", &(12..13)),
            None
        );
        assert_eq!(reader.problems[0].input, "suite.toml:2:7");
        assert!(
            reader.problems[0]
                .message
                .contains("${MISSING}, which is not set")
        );
    }

    #[test]
    fn a_toml_value_becomes_the_same_json() {
        let doc = DeTable::parse(
            "v = { s = \"x\", i = 0x10, f = 1.5, b = true, d = 1979-05-27, a = [1, \"two\"], t = { k = false } }",
        )
        .unwrap();
        let json = to_json(doc.get_ref().get("v").unwrap().get_ref());
        let expected = serde_json::json!({
            "s": "x", "i": 16, "f": 1.5, "b": true, "d": "1979-05-27", "a": [1, "two"], "t": { "k": false }
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn secrets_must_be_whole_references() {
        let env = Environment::from_pairs([("KEY", "s3cret-value".to_string())]);
        let doc = DeTable::parse(
            "a = \"${KEY}\"\nb = \"$KEY\"\nc = \"literal-s3cret\"\nd = \"x${KEY}\"\n",
        )
        .unwrap();
        let mut reader = Reader::new("s.toml", "a\nb\nc\nd\n", &env);
        let table = doc.get_ref();
        let get = |k: &str| table.get(k).unwrap().clone();
        assert!(reader.secret("api_key", &get("a")).is_some());
        assert!(reader.secret("api_key", &get("b")).is_some());
        assert!(reader.secret("api_key", &get("c")).is_none());
        assert!(reader.secret("api_key", &get("d")).is_none());
        assert_eq!(reader.problems.len(), 2);
        // Anything after the reference, an empty name or one that is not a name: a literal, never looked up.
        let mut reader = Reader::new("s.toml", "", &env);
        for text in ["${KEY}tail", "$KEY.tail", "${}", "$", "${1KEY}", "${KEY"] {
            let line = format!("v = {text:?}");
            let doc = DeTable::parse(&line).unwrap();
            let value = doc.get_ref().get("v").unwrap().clone();
            assert!(reader.secret("api_key", &value).is_none(), "{text}");
            let problem = reader.problems.pop().unwrap();
            assert!(
                problem.message.contains("holds a literal value"),
                "{text}: {}",
                problem.message
            );
        }
        assert!(
            reader
                .problems
                .iter()
                .all(|p| !p.message.contains("s3cret"))
        );
    }
}
