//! What the sandbox sends back, and the shapes the real API answers in: the gateway's `{"message": …}`, the
//! application's error shape, and its person records.

use std::time::Duration;

use serde_json::json;

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

/// A refusal or failure made by the API gateway itself: `{"message": …}`, never the application's shape.
pub fn gateway(status: u16, message: &str, error_type: Option<&str>) -> Reply {
    let mut reply = json_reply(status, json!({ "message": message }));
    if let (Reply::Answer { headers, .. }, Some(kind)) = (&mut reply, error_type) {
        headers.push(("x-amzn-errortype", kind.to_string()));
    }
    reply
}

/// A person record as `GET /v1/persons/{hmppsId}` returns it: `firstName` nested in each source's record.
pub fn person(id: &str) -> Reply {
    let record = json!({"firstName": "Ada", "lastName": "Lovelace", "dateOfBirth": "1815-12-10",
        "identifiers": {"nomisNumber": id}});
    json_reply(
        200,
        json!({"data": {"prisonerOffenderSearch": record, "probationOffenderSearch": record}}),
    )
}

pub fn persons(first_name: &str) -> Reply {
    json_reply(
        200,
        json!({
            "data": [{"firstName": first_name, "lastName": "Lovelace", "dateOfBirth": "1815-12-10"}],
            "pagination": pagination(1),
        }),
    )
}

pub fn pagination(count: u32) -> serde_json::Value {
    json!({"isLastPage": true, "count": count, "page": 1, "totalCount": count, "totalPages": 1, "resultsPerPage": 10})
}

/// The Integration API's error shape.
pub fn error(status: u16, user_message: &str, developer_message: &str) -> Reply {
    json_reply(
        status,
        json!({"status": status, "errorCode": null, "userMessage": user_message,
            "developerMessage": developer_message, "moreInfo": null}),
    )
}

pub fn json_reply(status: u16, value: serde_json::Value) -> Reply {
    Reply::Answer {
        status,
        content_type: "application/json",
        headers: Vec::new(),
        body: value.to_string().into_bytes(),
    }
}
