//! A planned check's request body: `json` (a TOML value), `json_file`, `body` or `body_file` (files next to the
//! suite, bounded), at most one, with `{name}` values filled in.

use super::fields::Fields;
use super::file::{Reader, Value, to_json};

/// Fills `{name}` values in a text read under a key, at a position.
pub(super) type Fill<'f> =
    dyn FnMut(&mut Reader<'_>, &str, String, &std::ops::Range<usize>) -> Option<String> + 'f;

/// The largest body file read: a request body, not a data set.
const MAX_BODY_FILE: u64 = 1024 * 1024;

/// Reads the body: `json` (a TOML value), `json_file`, `body` or `body_file` (files next to the suite), at most
/// one, with `{name}` values filled in each string; says whether it is JSON.
pub(super) fn body(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    fill: &mut Fill<'_>,
    folder: Option<&std::path::Path>,
) -> Option<Option<(Vec<u8>, bool)>> {
    let given: Vec<(&str, &Value<'_>)> = ["json", "json_file", "body", "body_file"]
        .into_iter()
        .filter_map(|key| fields.get(key).map(|v| (key, v)))
        .collect();
    let (key, value) = match given.as_slice() {
        [] => return Some(None),
        [one] => *one,
        [_, (second, value), ..] => {
            reader.problem(
                &value.span(),
                format!("{second}: give one of json, json_file, body and body_file"),
            );
            return None;
        }
    };
    let span = value.span();
    match key {
        "json" => {
            let mut json = to_json(value.get_ref());
            fill_strings(reader, &mut json, fill, &span)?;
            Some(Some((json.to_string().into_bytes(), true)))
        }
        "json_file" => {
            let text = read_file(reader, key, value, folder)?;
            let mut json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| {
                    reader.problem(
                        &span,
                        format!(
                            "json_file: not JSON (line {}, column {})",
                            e.line(),
                            e.column()
                        ),
                    )
                })
                .ok()?;
            fill_strings(reader, &mut json, fill, &span)?;
            Some(Some((json.to_string().into_bytes(), true)))
        }
        "body" => {
            let text = reader.text("body", value)?;
            Some(Some((
                fill(reader, "body", text, &span)?.into_bytes(),
                false,
            )))
        }
        _ => {
            let text = read_file(reader, key, value, folder)?;
            Some(Some((
                fill(reader, "body_file", text, &span)?.into_bytes(),
                false,
            )))
        }
    }
}

/// Fills `{name}` values in every string of a JSON value.
fn fill_strings(
    reader: &mut Reader<'_>,
    json: &mut serde_json::Value,
    fill: &mut Fill<'_>,
    span: &std::ops::Range<usize>,
) -> Option<()> {
    // Every string is tried, so each unknown value is named; any one unfilled leaves the body unbuilt.
    let tried: Vec<Option<()>> = match json {
        serde_json::Value::String(text) => {
            let filled = fill(reader, "json", std::mem::take(text), span)?;
            *text = filled;
            return Some(());
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .map(|item| fill_strings(reader, item, fill, span))
            .collect(),
        serde_json::Value::Object(members) => members
            .values_mut()
            .map(|item| fill_strings(reader, item, fill, span))
            .collect(),
        _ => Vec::new(),
    };
    tried.into_iter().collect()
}

/// Reads a body file named relative to the suite file's folder, bounded.
fn read_file(
    reader: &mut Reader<'_>,
    key: &str,
    value: &Value<'_>,
    folder: Option<&std::path::Path>,
) -> Option<String> {
    let name = reader.string(key, value)?;
    let path = folder.map_or_else(|| std::path::PathBuf::from(&name), |f| f.join(&name));
    match crate::bounded_file::read_text(&path, MAX_BODY_FILE) {
        Ok(text) => Some(text),
        Err(why) => {
            let limit = format!("{MAX_BODY_FILE} bytes");
            reader.problem(
                &value.span(),
                format!("{key}: {} {}", path.display(), why.describe(&limit)),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::suite_file::tests::one_check;

    /// The body of a POST with these lines (`{id}` is "A1"), planned with body files from `folder`.
    fn sent(lines: &str, folder: &std::path::Path) -> Result<Option<Vec<u8>>, String> {
        let check = format!("method = \"POST\"\n{lines}\n[vars]\nid = \"A1\"");
        let plan = one_check("", &check, Some(folder))?;
        Ok(plan.checks[0]
            .check
            .request
            .body
            .as_ref()
            .map(|b| b.to_vec()))
    }

    #[test]
    fn a_json_file_is_json_with_values_filled_in_lists_too() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.json"), r#"{ "a" : [ "{id}", 2 ] }"#).unwrap();
        let body =
            |lines: &str| sent(lines, dir.path()).map(|b| String::from_utf8(b.unwrap()).unwrap());
        assert_eq!(body("json_file = \"b.json\"").unwrap(), r#"{"a":["A1",2]}"#);
        assert_eq!(
            body("json = { a = [\"{id}\", 2] }").unwrap(),
            r#"{"a":["A1",2]}"#
        );
        // Each unknown value is named, in a list or not.
        let unknown = body("json = { a = [\"{nope}\"], b = \"{other}\" }").unwrap_err();
        assert!(
            unknown.contains("{nope}") && unknown.contains("{other}"),
            "{unknown}"
        );
        // The same file as a plain body is sent as written, values filled.
        assert_eq!(
            body("body_file = \"b.json\"").unwrap(),
            r#"{ "a" : [ "A1", 2 ] }"#
        );
    }

    #[test]
    fn a_body_file_is_read_up_to_its_bound_and_refused_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let planned = |bytes: u64| {
            std::fs::write(dir.path().join("body.txt"), "x".repeat(bytes as usize)).unwrap();
            sent("body_file = \"body.txt\"", dir.path()).map(|b| b.map(|b| b.len()))
        };
        assert_eq!(planned(super::MAX_BODY_FILE), Ok(Some(1024 * 1024)));
        let refused = planned(super::MAX_BODY_FILE + 1).unwrap_err();
        assert!(
            refused.contains("is larger than 1048576 bytes"),
            "{refused}"
        );
    }
}
