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
        "identifiers": {"nomisNumber": id, "deliusCrn": "X756352"}});
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

/// A refusal the application's authorisation filter sends (`sendError`): Spring Boot's error body.
pub fn spring_error(status: u16, message: &str, path: &str) -> Reply {
    let error = match status {
        401 => "Unauthorized",
        _ => "Forbidden",
    };
    json_reply(
        status,
        json!({"timestamp": "2026-01-01T00:00:00.000+00:00", "status": status, "error": error,
            "message": message, "path": path}),
    )
}

/// The ingress's ModSecurity refusing a request: nginx's own 403 page.
pub fn waf_page() -> Reply {
    Reply::Answer {
        status: 403,
        content_type: "text/html",
        headers: Vec::new(),
        body: b"<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".to_vec(),
    }
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
