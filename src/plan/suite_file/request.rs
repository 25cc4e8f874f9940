//! The request a planned check sends: method, URL, headers and body, under the one URL and header policy
//! (`target`) — a path stays on base_url's origin, a URL on another origin needs its consumer to list it, and a
//! check's headers carry no credential and no framing.

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::fields::{Fields, Known};
use super::file::{Reader, Value, to_json};
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
) -> Option<Request> {
    let url = match (fields.table.get("url"), fields.table.get("path")) {
        (Some(value), None) => {
            let text = reader.text("url", value)?;
            let url = crate::plan::target::https_url("url", &text)
                .map_err(|p| reader.named_problem(&value.span(), p))
                .ok()?;
            same_origin(reader, &url, caller, &value.span())
        }
        (None, Some(value)) => {
            let path = reader.text("path", value)?;
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
        if let Some(message) = crate::plan::target::check_header_problem(&name, key_header) {
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
