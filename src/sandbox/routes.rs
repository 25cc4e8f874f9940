//! What the sandbox answers, as the real Integration API does: the API gateway in front (API key, its own
//! refusal shape, a request id on every answer), then the application (consumers authorised by certificate CN
//! against path allow-lists, the persons routes, its error shape), plus fault routes for every failure the
//! probe classifies. Pure: a request in, a `Reply` out; the server carries it out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::consumers::{Access, Consumers};

/// The parts of a request the routes look at.
pub struct Request<'a> {
    pub path: &'a str,
    pub query: HashMap<String, String>,
    pub api_key: Option<&'a str>,
    /// The client certificate's CN, as the application reads it.
    pub consumer: Option<&'a str>,
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
    /// Send the body in chunks, without Content-Length (chunked transfer encoding).
    Streamed { status: u16, chunks: Vec<Vec<u8>> },
    /// Wait, then send the inner reply.
    Later(Duration, Box<Reply>),
    /// Close the connection without an answer.
    Reset,
}

/// Route state that lives as long as the sandbox.
pub struct Routes {
    api_keys: Vec<SecretString>,
    consumers: Consumers,
    flaps: Mutex<HashMap<String, u32>>,
}

/// The body size `/fault/large` sends unless told otherwise: just over the probe's default 10 MiB cap.
const LARGE_DEFAULT: usize = 11 * 1024 * 1024;
/// The most `/fault/large` sends, so no request can exhaust the sandbox's memory.
const LARGE_MAX: usize = 64 * 1024 * 1024;
/// The longest `/fault/slow` waits, so no request can hold the sandbox for ever.
const SLOW_MAX: Duration = Duration::from_secs(120);

impl Routes {
    /// Builds the routes: the API keys the gateway accepts, and the consumers the application knows.
    pub fn new(api_keys: Vec<SecretString>, consumers: Consumers) -> Self {
        Self {
            api_keys,
            consumers,
            flaps: Mutex::new(HashMap::new()),
        }
    }

    /// Answers one request: the gateway's API key check first, then the fault routes, then the application.
    pub fn reply(&self, request: &Request<'_>) -> Reply {
        let known = |key: &str| self.api_keys.iter().any(|k| k.expose_secret() == key);
        if !request.api_key.is_some_and(known) {
            return gateway(403, "Forbidden", Some("ForbiddenException"));
        }
        if let Some(fault) = request.path.strip_prefix("/fault/") {
            return self.fault(fault, request);
        }
        if self.consumers.access(request.consumer, request.path) == Access::Refused {
            let who = request.consumer.unwrap_or("an unnamed consumer");
            return error(
                403,
                &format!("Unable to authorise {} for {who}", request.path),
                "the consumer's allow-list (authorisation.consumers.<cn>.include) does not match this path",
            );
        }
        let q = |name: &str| request.query.get(name).map(String::as_str);
        let segments: Vec<&str> = request.path.trim_end_matches('/').split('/').collect();
        match segments.as_slice() {
            ["", "v1", "persons"] => persons(q("first_name").unwrap_or("Ada")),
            ["", "v1", "persons", id] => person(id),
            ["", "v1", "visit"] => json_reply(
                200,
                json!({"data": {"visitReference": "ab-cd-ef-gh", "status": "BOOKED"}}),
            ),
            ["", "v1", "persons", _, "name"] => json_reply(
                200,
                json!({"data": {"firstName": "Ada", "lastName": "Lovelace"}}),
            ),
            _ => error(404, "No such resource", "unknown path"),
        }
    }

    /// The fault routes: sandbox machinery behind the gateway, outside the consumers' allow-lists.
    fn fault(&self, fault: &str, request: &Request<'_>) -> Reply {
        let q = |name: &str| request.query.get(name).map(String::as_str);
        match fault {
            "forbidden" => error(403, "Forbidden: this consumer may not use this endpoint", "consumer not allowed"),
            "gateway-timeout" => gateway(504, "Endpoint request timed out", None),
            "bad-gateway" => gateway(502, "Internal server error", None),
            "error" => error(500, "The persons service is unavailable", "upstream NOMIS timed out"),
            "slow" => match bounded_duration(q("delay")) {
                Ok(delay) => Reply::Later(delay, Box::new(person("A8451DY"))),
                Err(reply) => reply,
            },
            "flap" => self.flap(q("id").unwrap_or("default"), q("failures").and_then(|n| n.parse().ok()).unwrap_or(2)),
            "no-first-name" => json_reply(200, json!({"data": [{"lastName": "Lovelace"}], "pagination": pagination(1)})),
            "html" => Reply::Answer {
                status: 200,
                content_type: "text/html",
                headers: Vec::new(),
                body: b"<html><body><h1>Maintenance</h1><p>firstName search is unavailable.</p></body></html>".to_vec(),
            },
            "stream" => match q("bytes").map(str::parse::<usize>) {
                None => streamed(LARGE_DEFAULT),
                Some(Ok(bytes)) if bytes <= LARGE_MAX => streamed(bytes),
                Some(_) => error(400, &format!("bytes must be a whole number up to {LARGE_MAX}"), "bounded"),
            },
            "large" => match q("bytes").map(str::parse::<usize>) {
                None => large(LARGE_DEFAULT),
                Some(Ok(bytes)) if bytes <= LARGE_MAX => large(bytes),
                Some(_) => error(400, &format!("bytes must be a whole number up to {LARGE_MAX}"), "bounded"),
            },
            "redirect" => Reply::Answer {
                status: 302,
                content_type: "text/plain",
                headers: vec![("location", q("to").unwrap_or("/v1/persons/A8451DY").to_string())],
                body: Vec::new(),
            },
            "reset" => Reply::Reset,
            "echo-key" => error(500, &format!("rejected request with key {}", request.api_key.unwrap_or_default()), "echoes the key"),
            "status" => status(q("code").and_then(|c| c.parse().ok()).filter(|c| (100..=599).contains(c)).unwrap_or(503), q("retry_after")),
            _ => error(404, "No such resource", "unknown path"),
        }
    }

    fn flap(&self, id: &str, failures: u32) -> Reply {
        let mut flaps = self.flaps.lock().unwrap_or_else(|e| e.into_inner());
        let seen = flaps.entry(id.to_string()).or_insert(0);
        *seen = seen.saturating_add(1);
        if *seen <= failures {
            error(500, "Temporarily unavailable, try again", "flapping")
        } else {
            person("A8451DY")
        }
    }
}

/// Reads `/fault/slow`'s delay, at most `SLOW_MAX`; a 400 names the limit otherwise.
fn bounded_duration(text: Option<&str>) -> Result<Duration, Reply> {
    let Some(text) = text else {
        return Ok(Duration::from_secs(5));
    };
    match crate::duration::parse(text) {
        Ok(delay) if delay <= SLOW_MAX => Ok(delay),
        _ => Err(error(
            400,
            &format!("delay must be a duration up to {}s", SLOW_MAX.as_secs()),
            "bounded",
        )),
    }
}

/// A refusal or failure made by the API gateway itself: `{"message": …}`, never the application's shape.
fn gateway(status: u16, message: &str, error_type: Option<&str>) -> Reply {
    let mut reply = json_reply(status, json!({ "message": message }));
    if let (Reply::Answer { headers, .. }, Some(kind)) = (&mut reply, error_type) {
        headers.push(("x-amzn-errortype", kind.to_string()));
    }
    reply
}

/// A person record as `GET /v1/persons/{hmppsId}` returns it: `firstName` nested in each source's record.
fn person(id: &str) -> Reply {
    let record = json!({"firstName": "Ada", "lastName": "Lovelace", "dateOfBirth": "1815-12-10",
        "identifiers": {"nomisNumber": id}});
    json_reply(
        200,
        json!({"data": {"prisonerOffenderSearch": record, "probationOffenderSearch": record}}),
    )
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
        json!({"status": status, "errorCode": null, "userMessage": user_message,
            "developerMessage": developer_message, "moreInfo": null}),
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
    Reply::Answer {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: large_body(bytes),
    }
}

/// JSON with a person and padding, larger than `bytes`.
fn large_body(bytes: usize) -> Vec<u8> {
    let mut body = br#"{"data":[{"firstName":"Ada"}],"padding":""#.to_vec();
    body.resize(body.len() + bytes, b'x');
    body.extend_from_slice(b"\"}");
    body
}

/// The large answer in 64 KiB chunks, without Content-Length: only a streaming cap can stop it.
fn streamed(bytes: usize) -> Reply {
    Reply::Streamed {
        status: 200,
        chunks: large_body(bytes)
            .chunks(64 * 1024)
            .map(<[u8]>::to_vec)
            .collect(),
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

    fn routes() -> Routes {
        Routes::new(
            vec![SecretString::from("k".to_string())],
            Consumers::default(),
        )
    }

    fn ask_as(
        routes: &Routes,
        consumer: &str,
        path: &str,
        query: &[(&str, &str)],
        key: Option<&str>,
    ) -> Reply {
        let query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        routes.reply(&Request {
            path,
            query,
            api_key: key,
            consumer: Some(consumer),
        })
    }

    fn ask(routes: &Routes, path: &str, query: &[(&str, &str)], key: Option<&str>) -> Reply {
        ask_as(routes, "full-access", path, query, key)
    }

    fn status_of(reply: &Reply) -> u16 {
        match reply {
            Reply::Answer { status, .. } => *status,
            Reply::Later(_, inner) => status_of(inner),
            Reply::Streamed { status, .. } => *status,
            Reply::Reset => 0,
        }
    }

    fn body_of(reply: Reply) -> serde_json::Value {
        let Reply::Answer { body, .. } = reply else {
            panic!("no answer")
        };
        serde_json::from_slice(&body).unwrap()
    }

    #[test]
    fn the_gateway_refuses_a_wrong_or_missing_key_in_its_own_shape() {
        let routes = routes();
        for key in [None, Some("wrong")] {
            let reply = ask(&routes, "/fault/error", &[], key);
            let Reply::Answer {
                status,
                headers,
                body,
                ..
            } = reply
            else {
                panic!("no answer")
            };
            assert_eq!(status, 403);
            assert!(headers.contains(&("x-amzn-errortype", "ForbiddenException".into())));
            assert_eq!(body, br#"{"message":"Forbidden"}"#);
        }
        assert_eq!(status_of(&ask(&routes, "/v1/persons", &[], Some("k"))), 200);
        assert_eq!(status_of(&ask(&routes, "/nowhere", &[], Some("k"))), 404);
    }

    #[test]
    fn consumers_are_held_to_their_allow_lists_in_the_applications_shape() {
        let routes = routes();
        let name = "/v1/persons/A8451DY/name";
        assert_eq!(
            status_of(&ask_as(&routes, "limited-access", name, &[], Some("k"))),
            200
        );
        let refused = ask_as(&routes, "limited-access", "/v1/persons", &[], Some("k"));
        let body = body_of(refused);
        assert_eq!(body["status"], 403);
        assert!(
            body["userMessage"]
                .as_str()
                .unwrap()
                .contains("limited-access")
        );
        assert_eq!(
            status_of(&ask_as(
                &routes,
                "heartbeat",
                "/v1/persons/A8451DY",
                &[],
                Some("k")
            )),
            200
        );
        assert_eq!(
            status_of(&ask_as(
                &routes,
                "no-access",
                "/v1/persons/A8451DY",
                &[],
                Some("k")
            )),
            403
        );
    }

    #[test]
    fn a_person_by_id_nests_first_name_in_the_record() {
        let body = body_of(ask(&routes(), "/v1/persons/G6333VK", &[], Some("k")));
        assert_eq!(body["data"]["prisonerOffenderSearch"]["firstName"], "Ada");
        assert_eq!(
            body["data"]["prisonerOffenderSearch"]["identifiers"]["nomisNumber"],
            "G6333VK"
        );
    }

    #[test]
    fn fault_parameters_are_bounded() {
        let routes = routes();
        assert_eq!(
            status_of(&ask(
                &routes,
                "/fault/slow",
                &[("delay", "1e20")],
                Some("k")
            )),
            400
        );
        assert_eq!(
            status_of(&ask(
                &routes,
                "/fault/large",
                &[("bytes", "1000000000000000")],
                Some("k")
            )),
            400
        );
        assert!(matches!(
            ask(&routes, "/fault/slow", &[("delay", "10ms")], Some("k")),
            Reply::Later(..)
        ));
        let timeout = body_of(ask(&routes, "/fault/gateway-timeout", &[], Some("k")));
        assert_eq!(timeout, json!({"message": "Endpoint request timed out"}));
    }

    #[test]
    fn flapping_fails_the_given_number_of_times_per_id() {
        let routes = routes();
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
        let value = body_of(ask(
            &routes(),
            "/v1/persons",
            &[("first_name", "Grace")],
            Some("k"),
        ));
        assert_eq!(value["data"][0]["firstName"], "Grace");
        assert_eq!(value["pagination"]["count"], 1);
    }

    #[test]
    fn large_is_larger_than_asked() {
        let Reply::Answer { body, .. } =
            ask(&routes(), "/fault/large", &[("bytes", "1000")], Some("k"))
        else {
            panic!("no answer")
        };
        assert!(body.len() > 1000);
        assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
    }
}
