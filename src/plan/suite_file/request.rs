//! The request a planned check sends: method, URL, headers and body (inline or from a file next to the suite),
//! with `{name}` values filled, under the one URL and header policy (`target`) — a path stays on base_url's
//! origin, a URL on another origin needs its consumer to list it, a header carries no framing, and a credential
//! header only a secret reference.

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};

use super::fields::{Fields, Known, Scope};
use super::file::{Reader, Value, to_json, whole_reference};
use crate::plan::check::Request;
use crate::plan::target::origin;

/// Fills `{name}` values in a text read under a key, at a position.
type Fill<'f> =
    dyn FnMut(&mut Reader<'_>, &str, String, &std::ops::Range<usize>) -> Option<String> + 'f;

/// The largest body file read: a request body, not a data set.
const MAX_BODY_FILE: u64 = 1024 * 1024;

/// The check's consumer, when it is known: its index and what is known of it.
type Caller<'k, 'a> = Option<(usize, &'k Known<'a>)>;

/// Reads what the check sends — method, URL, headers, body — with every problem at its position.
pub(super) fn request(
    reader: &mut Reader<'_>,
    fields: &Fields<'_, '_>,
    item: &Value<'_>,
    base: Option<&Url>,
    caller: Caller<'_, '_>,
    scope: &mut Scope<'_>,
) -> Option<(Request, Vec<String>)> {
    let mut uses = Vec::new();
    let mut fill =
        |reader: &mut Reader<'_>, key: &str, text: String, span: &std::ops::Range<usize>| {
            let filled = scope.values.fill(reader, key, &text, span)?;
            uses.extend(filled.uses);
            Some(filled.text)
        };
    let url = match (fields.table.get("url"), fields.table.get("path")) {
        (Some(value), None) => {
            let text = reader.text("url", value)?;
            let text = fill(reader, "url", text, &value.span())?;
            let url = crate::plan::target::https_url("url", &text)
                .map_err(|p| reader.named_problem(&value.span(), p))
                .ok()?;
            same_origin(reader, &url, caller, &value.span())
        }
        (None, Some(value)) => {
            let path = reader.text("path", value)?;
            let path = fill(reader, "path", path, &value.span())?;
            match base {
                Some(base) => crate::plan::target::join("path", base, &path)
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
    let mut headers = match fields.get("headers") {
        Some(value) => header_table(reader, "headers", value, key_header, scope.secrets)?,
        None => Vec::new(),
    };
    let body = body(reader, fields, &mut fill, scope.folder);
    let body = match body? {
        Some((bytes, true)) => {
            if !headers.iter().any(|(n, _)| n == CONTENT_TYPE) {
                headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
            }
            Some(bytes)
        }
        Some((bytes, false)) => Some(bytes),
        None => None,
    };
    uses.sort();
    uses.dedup();
    let request = Request {
        method: method?,
        url: url?,
        headers,
        body,
    };
    Some((request, uses))
}

/// Reads the body: `json` (a TOML value), `json_file`, `body` or `body_file` (files next to the suite), at most
/// one, with `{name}` values filled in each string; says whether it is JSON.
fn body(
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

/// Reads a `headers` table (a check's or a consumer's): a value that is exactly `"${NAME}"` is a secret — sent
/// marked sensitive, redacted everywhere, the only way to set a credential header — and any other is text.
pub(super) fn header_table(
    reader: &mut Reader<'_>,
    key: &str,
    value: &Value<'_>,
    key_header: Option<&HeaderName>,
    secrets: &mut Vec<SecretString>,
) -> Option<Vec<(HeaderName, HeaderValue)>> {
    let table = reader.table(key, value)?;
    let mut headers = Vec::new();
    let mut ok = true;
    for (name, value) in table.iter() {
        let Ok(header) = HeaderName::from_bytes(name.get_ref().as_bytes()) else {
            reader.problem(
                &name.span(),
                format!("{:?} is not a valid header name", name.get_ref()),
            );
            ok = false;
            continue;
        };
        let secret = is_reference(value);
        if let Some(message) =
            crate::plan::target::check_header_problem(&header, key_header, secret)
        {
            reader.problem(&name.span(), message);
            ok = false;
            continue;
        }
        let text = if secret {
            reader.secret(&format!("{key}.{header}"), value).map(|s| {
                secrets.push(s.clone());
                s.expose_secret().to_string()
            })
        } else {
            reader.text(key, value)
        };
        let Some(text) = text else {
            ok = false;
            continue;
        };
        match HeaderValue::from_str(text.trim()) {
            Ok(mut header_value) => {
                header_value.set_sensitive(secret);
                headers.push((header, header_value));
            }
            Err(_) => {
                reader.problem(
                    &value.span(),
                    format!("{key}.{header} is not a valid header value (the value is not shown)"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(headers)
}

/// Tells whether a TOML value is exactly one `${NAME}` (or `$NAME`) reference.
fn is_reference(value: &Value<'_>) -> bool {
    matches!(value.get_ref(), toml::de::DeValue::String(text) if whole_reference(text).is_some())
}

#[cfg(test)]
mod tests {
    use crate::environment::Environment;
    use crate::plan::suite_file::{Overrides, plan};

    #[test]
    fn a_json_file_is_json_with_values_filled_in_lists_too() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.json"), r#"{ "a" : [ "{id}", 2 ] }"#).unwrap();
        let overrides = Overrides {
            folder: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        };
        let body = |lines: &str| {
            let suite = format!(
                "base_url = \"https://api.test\"\n[vars]\nid = \"A1\"\n[consumers.a]\n[[check]]\nname = \"c\"\nconsumer = \"a\"\npath = \"/v1/x\"\nmethod = \"POST\"\n{lines}\n"
            );
            let plan = plan(
                "suite.toml",
                &suite,
                &Environment::from_pairs([]),
                &overrides,
            )
            .map_err(|e| e.to_string())?;
            let body = plan.checks[0].check.request.body.clone().unwrap().to_vec();
            Ok::<_, String>(String::from_utf8(body).unwrap())
        };
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
        let overrides = Overrides {
            folder: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        };
        let suite = "base_url = \"https://api.test\"\n[consumers.a]\n[[check]]\nname = \"c\"\nconsumer = \"a\"\npath = \"/v1/x\"\nmethod = \"POST\"\nbody_file = \"body.txt\"\n";
        let planned = |bytes: u64| {
            std::fs::write(dir.path().join("body.txt"), "x".repeat(bytes as usize)).unwrap();
            plan(
                "suite.toml",
                suite,
                &Environment::from_pairs([]),
                &overrides,
            )
            .map(|p| p.checks[0].check.request.body.as_ref().map(|b| b.len()))
            .map_err(|e| e.to_string())
        };
        assert_eq!(planned(super::MAX_BODY_FILE), Ok(Some(1024 * 1024)));
        let refused = planned(super::MAX_BODY_FILE + 1).unwrap_err();
        assert!(
            refused.contains("is larger than 1048576 bytes"),
            "{refused}"
        );
    }
}
