//! What the sandbox answers: the Integration API's persons search, its error shape, and fault routes for
//! every failure the probe classifies. Pure: a request in, a `Reply` out; the server carries it out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// The parts of a request the routes look at.
pub struct Request<'a> {
    pub path: &'a str,
    pub query: HashMap<String, String>,
    pub api_key: Option<&'a str>,
}

/// What to send back.
#[derive(Debug)]
pub enum Reply {
    Answer {
        status: u16,
        content_type: &'static str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Wait, then send the inner reply.
    Later(Duration, Box<Reply>),
    /// Close the connection without an answer.
    Reset,
}

/// Route state that lives as long as the sandbox.
pub struct Routes {
    api_key: SecretString,
    flaps: Mutex<HashMap<String, u32>>,
}

/// The body size `/fault/large` sends unless told otherwise: just over the probe's default 10 MiB cap.
const LARGE_DEFAULT: usize = 11 * 1024 * 1024;

impl Routes {
    /// Builds the routes for an API key.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            api_key,
            flaps: Mutex::new(HashMap::new()),
        }
    }

    /// Answers one request: the API key first, as the real gateway does, then the path.
    pub fn reply(&self, request: &Request<'_>) -> Reply {
        if request.api_key != Some(self.api_key.expose_secret()) {
            let why = if request.api_key.is_some() {
                "the API key is not valid"
            } else {
                "no API key was sent"
            };
            return error(401, "Unauthorized: check the x-api-key header", why);
        }
        let q = |name: &str| request.query.get(name).map(String::as_str);
        match request.path {
            "/v1/persons" => persons(q("first_name").unwrap_or("Ada")),
            "/fault/forbidden" => error(403, "Forbidden: this consumer may not use this endpoint", "consumer not allowed"),
            "/fault/error" => error(500, "The persons service is unavailable", "upstream NOMIS timed out"),
            "/fault/slow" => {
                let delay = q("delay").and_then(|d| crate::cli::parse_duration(d).ok()).unwrap_or(Duration::from_secs(5));
                Reply::Later(delay, Box::new(persons("Ada")))
            }
            "/fault/flap" => self.flap(q("id").unwrap_or("default"), q("failures").and_then(|n| n.parse().ok()).unwrap_or(2)),
            "/fault/no-first-name" => json_reply(200, json!({"data": [{"lastName": "Lovelace"}], "pagination": pagination(1)})),
            "/fault/html" => Reply::Answer {
                status: 200,
                content_type: "text/html",
                headers: Vec::new(),
                body: b"<html><body><h1>Maintenance</h1><p>firstName search is unavailable.</p></body></html>".to_vec(),
            },
            "/fault/large" => large(q("bytes").and_then(|n| n.parse().ok()).unwrap_or(LARGE_DEFAULT)),
            "/fault/redirect" => Reply::Answer {
                status: 302,
                content_type: "text/plain",
                headers: vec![("location", q("to").unwrap_or("/v1/persons").to_string())],
                body: Vec::new(),
            },
            "/fault/reset" => Reply::Reset,
            "/fault/echo-key" => error(500, &format!("rejected request with key {}", self.api_key.expose_secret()), "echoes the key"),
            "/fault/status" => status(q("code").and_then(|c| c.parse().ok()).unwrap_or(503), q("retry_after")),
            _ => error(404, "No such resource", "unknown path"),
        }
    }

    fn flap(&self, id: &str, failures: u32) -> Reply {
        let mut flaps = self.flaps.lock().unwrap_or_else(|e| e.into_inner());
        let seen = flaps.entry(id.to_string()).or_insert(0);
        *seen += 1;
        if *seen <= failures {
            error(500, "Temporarily unavailable, try again", "flapping")
        } else {
            persons("Ada")
        }
    }
}

fn persons(first_name: &str) -> Reply {
    json_reply(
        200,
        json!({
            "data": [{"firstName": first_name, "lastName": "Lovelace", "dateOfBirth": "1815-12-10"}],
            "pagination": pagination(1),
        }),
    )
}

fn pagination(count: u32) -> serde_json::Value {
    json!({"isLastPage": true, "count": count, "page": 1, "totalCount": count, "totalPages": 1, "resultsPerPage": 10})
}

/// The Integration API's error shape.
fn error(status: u16, user_message: &str, developer_message: &str) -> Reply {
    json_reply(
        status,
        json!({"status": status, "userMessage": user_message, "developerMessage": developer_message}),
    )
}

fn status(code: u16, retry_after: Option<&str>) -> Reply {
    let mut reply = error(code, "Service busy", "status on request");
    if let (Reply::Answer { headers, .. }, Some(seconds)) = (&mut reply, retry_after) {
        headers.push(("retry-after", seconds.to_string()));
    }
    reply
}

fn large(bytes: usize) -> Reply {
    let mut body = br#"{"data":[{"firstName":"Ada"}],"padding":""#.to_vec();
    body.resize(body.len() + bytes, b'x');
    body.extend_from_slice(b"\"}");
    Reply::Answer {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body,
    }
}

fn json_reply(status: u16, value: serde_json::Value) -> Reply {
    Reply::Answer {
        status,
        content_type: "application/json",
        headers: Vec::new(),
        body: value.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(routes: &Routes, path: &str, query: &[(&str, &str)], key: Option<&str>) -> Reply {
        let query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        routes.reply(&Request {
            path,
            query,
            api_key: key,
        })
    }

    fn status_of(reply: &Reply) -> u16 {
        match reply {
            Reply::Answer { status, .. } => *status,
            Reply::Later(_, inner) => status_of(inner),
            Reply::Reset => 0,
        }
    }

    #[test]
    fn key_is_checked_before_the_path() {
        let routes = Routes::new(SecretString::from("k".to_string()));
        assert_eq!(status_of(&ask(&routes, "/v1/persons", &[], None)), 401);
        assert_eq!(
            status_of(&ask(&routes, "/fault/error", &[], Some("wrong"))),
            401
        );
        assert_eq!(status_of(&ask(&routes, "/v1/persons", &[], Some("k"))), 200);
        assert_eq!(status_of(&ask(&routes, "/nowhere", &[], Some("k"))), 404);
    }

    #[test]
    fn flapping_fails_the_given_number_of_times_per_id() {
        let routes = Routes::new(SecretString::from("k".to_string()));
        let statuses: Vec<u16> = (0..3)
            .map(|_| {
                status_of(&ask(
                    &routes,
                    "/fault/flap",
                    &[("failures", "2"), ("id", "a")],
                    Some("k"),
                ))
            })
            .collect();
        assert_eq!(statuses, [500, 500, 200]);
        assert_eq!(
            status_of(&ask(
                &routes,
                "/fault/flap",
                &[("failures", "1"), ("id", "b")],
                Some("k")
            )),
            500
        );
    }

    #[test]
    fn persons_echo_the_first_name() {
        let routes = Routes::new(SecretString::from("k".to_string()));
        let Reply::Answer { body, .. } = ask(
            &routes,
            "/v1/persons",
            &[("first_name", "Grace")],
            Some("k"),
        ) else {
            panic!("no answer")
        };
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["data"][0]["firstName"], "Grace");
        assert_eq!(value["pagination"]["count"], 1);
    }

    #[test]
    fn large_is_larger_than_asked() {
        let routes = Routes::new(SecretString::from("k".to_string()));
        let Reply::Answer { body, .. } =
            ask(&routes, "/fault/large", &[("bytes", "1000")], Some("k"))
        else {
            panic!("no answer")
        };
        assert!(body.len() > 1000);
        assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
    }
}
