//! What a check takes from the checks before it: `requires` (checks that must pass first, or this one is
//! skipped, saying why — "if reference data answers 500, nothing after it is meaningful") and `capture` (values
//! its answer gives later checks as `{name}`, each making those checks require it).

use std::collections::HashMap;

use super::fields::{Fields, Scope};
use super::file::Reader;
use crate::plan::check::Capture;

/// Reads `requires = ["name", …]`: each an earlier check. The checks whose captures this one uses are added.
pub(super) fn requires(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    seen: &HashMap<String, String>,
    name: Option<&str>,
    uses: &[String],
    scope: &Scope<'_>,
) -> Option<Vec<String>> {
    let mut required = Vec::new();
    let mut ok = true;
    if let Some(value) = fields.table.get("requires") {
        for (text, span) in reader.strings("requires", value)? {
            if Some(text.as_str()) == name || !seen.contains_key(&text) {
                let why = if Some(text.as_str()) == name {
                    "a check cannot require itself".to_string()
                } else {
                    format!(
                        "requires {text:?}, which is no earlier check: a requirement runs first, so it comes first in the file"
                    )
                };
                reader.problem(&span, why);
                ok = false;
                continue;
            }
            required.push(text);
        }
    }
    for value in uses {
        if let Some(source) = scope.values.captures.get(value) {
            required.push(source.clone());
        }
    }
    required.sort();
    required.dedup();
    ok.then_some(required)
}

/// Reads `capture = { name = "JSONPATH" }` and declares each name for the checks after this one.
pub(super) fn captures(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    check: Option<&str>,
    scope: &mut Scope<'_>,
) -> Option<Vec<Capture>> {
    let Some(value) = fields.table.get("capture") else {
        return Some(Vec::new());
    };
    let table = reader.table("capture", value)?;
    let mut captures = Vec::new();
    let mut ok = true;
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        let source = reader.string(&format!("capture.{name}"), value);
        let taken = scope.values.is_taken(&name);
        if let Some(why) = taken {
            reader.problem(&key.span(), format!("capture.{name}: {why}"));
            ok = false;
            continue;
        }
        let Some(source) = source else {
            ok = false;
            continue;
        };
        match serde_json_path::JsonPath::parse(&source) {
            Ok(path) => {
                if let Some(check) = check {
                    scope
                        .values
                        .captures
                        .insert(name.clone(), check.to_string());
                }
                captures.push(Capture { name, source, path });
            }
            Err(e) => {
                let why = format!(
                    "capture.{name}: {source:?} is not an RFC 9535 JSONPath at position {}: {}",
                    e.position(),
                    e.message()
                );
                reader.problem(&value.span(), why);
                ok = false;
            }
        }
    }
    ok.then_some(captures)
}
