//! The sandbox's fault routes: machinery behind the gateway, outside the consumers' allow-lists, that makes
//! every failure the probe classifies happen on request. Every parameter is bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

use super::reply::{Reply, error, gateway, json_reply, pagination, person};
use super::request::Request;

/// The body size `/fault/large` sends unless told otherwise: just over the probe's default 10 MiB cap.
const LARGE_DEFAULT: usize = 11 * 1024 * 1024;
/// The most `/fault/large` sends, so no request can exhaust the sandbox's memory.
const LARGE_MAX: usize = 64 * 1024 * 1024;
/// The longest `/fault/slow` waits, so no request can hold the sandbox for ever.
const SLOW_MAX: Duration = Duration::from_secs(120);

/// Fault state that lives as long as the sandbox: how often each flapping id has been asked for.
#[derive(Default)]
pub struct Faults {
    flaps: Mutex<HashMap<String, u32>>,
}

impl Faults {
    /// Answers `/fault/<fault>`; the gateway has already accepted the key.
    pub fn reply(&self, fault: &str, request: &Request<'_>) -> Reply {
        let (query, api_key) = (&request.query, request.api_key);
        let q = |name: &str| query.get(name).map(String::as_str);
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
            "stream" => bounded_bytes(q("bytes")).map_or_else(|reply| reply, streamed),
            "large" => bounded_bytes(q("bytes")).map_or_else(|reply| reply, large),
            "redirect" => Reply::Answer {
                status: 302,
                content_type: "text/plain",
                headers: vec![("location", q("to").unwrap_or("/v1/persons/A8451DY").to_string())],
                body: Vec::new(),
            },
            "reset" => Reply::Reset,
            "echo-key" => error(500, &format!("rejected request with key {}", api_key.unwrap_or_default()), "echoes the key"),
            "echo-obo" => error(500, &format!("rejected on behalf of {}", request.on_behalf_of.unwrap_or("nobody")), "echoes the on-behalf-of token"),
            "echo-body" => echo_body(request),
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
/// Answers with what was sent: the method, the content type's absence or presence, and the body (as JSON when
/// it is JSON), so tests can see what a check really sent.
fn echo_body(request: &Request<'_>) -> Reply {
    let body = serde_json::from_slice(request.body)
        .unwrap_or_else(|_| json!(String::from_utf8_lossy(request.body)));
    json_reply(
        200,
        json!({"data": {"method": request.method, "body": body}}),
    )
}

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

/// Reads a fault's body size, at most `LARGE_MAX`; a 400 names the limit otherwise.
fn bounded_bytes(text: Option<&str>) -> Result<usize, Reply> {
    match text.map(str::parse::<usize>) {
        None => Ok(LARGE_DEFAULT),
        Some(Ok(bytes)) if bytes <= LARGE_MAX => Ok(bytes),
        Some(_) => Err(error(
            400,
            &format!("bytes must be a whole number up to {LARGE_MAX}"),
            "bounded",
        )),
    }
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
