//! The request a planned check sends: method, URL, headers and body (`body.rs`), with `{name}` values filled,
//! under the one URL and header policy (`target`) — a path stays on base_url's
//! origin, a URL on another origin needs its consumer to list it, a header carries no framing, and a credential
//! header only a secret reference.

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};

use super::fields::{Fields, Known, Scope};
use super::file::{Reader, Value, whole_reference};
use crate::plan::check::Request;
use crate::plan::target::origin;

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
    let body = super::body::body(reader, fields, &mut fill, scope.folder);
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
