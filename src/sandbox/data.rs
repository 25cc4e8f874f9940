//! What the application answers once a request is let in: every route the real API authorises (the team's 111
//! path templates, `crate::access`'s `routes.txt`) answers, in the shapes the team's smoke tests assert — `data`
//! lists that are not empty, attributes that are not null, a person with a CRN and a NOMIS number, images with
//! ids, contacts, reference data (500 while Delius is down), the education POSTs answering 201.

use regex_lite::Regex;
use serde_json::{Value, json};

use super::reply::{Reply, error, json_reply, pagination, person, persons};
use super::request::Request;

/// Every path template the application authorises.
const TEMPLATES: &str = crate::access::TEAM_ROUTES;

/// The route templates, each with the matcher the application would use for it.
pub struct Templates(Vec<(String, Regex)>);

impl Default for Templates {
    fn default() -> Self {
        let templates = TEMPLATES
            .lines()
            .filter(|line| line.starts_with('/'))
            .filter_map(|template| {
                let pattern = format!("^(?:{})$", crate::access::normalise(template));
                Regex::new(&pattern).ok().map(|r| (template.to_string(), r))
            })
            .collect();
        Self(templates)
    }
}

impl Templates {
    /// Finds the template a path answers to.
    fn find(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, regex)| regex.is_match(path))
            .map(|(template, _)| template.as_str())
    }
}

/// Answers a request the application let in.
pub fn answer(templates: &Templates, request: &Request<'_>, delius_down: bool) -> Reply {
    let q = |name: &str| request.query.get(name).map(String::as_str);
    let segments: Vec<&str> = request.path.trim_end_matches('/').split('/').collect();
    let id = segments.get(3).copied().unwrap_or("A8451DY");
    let Some(template) = templates.find(request.path) else {
        // Allowed by an `include` pattern but no route of the API: the application's 404.
        return error(404, "No such resource", "unknown path");
    };
    let ok = |data: Value| json_reply(200, json!({ "data": data }));
    match (request.method, template) {
        (_, "/v1/status") => ok(json!({"status": "ok"})),
        (_, "/v1/hmpps/reference-data") if delius_down => error(
            500,
            "Unable to complete request as an upstream service is not responding",
            "Delius is down",
        ),
        (_, "/v1/hmpps/reference-data") => ok(json!({
            "prisonReferenceData": {"PHONE_TYPE": [{"code": "MOB", "description": "Mobile"}]},
            "probationReferenceData": {"PHONE_TYPE": [{"code": "MOB", "description": "Mobile"}]},
        })),
        ("GET", "/v1/persons") => persons(q("first_name").or(q("last_name")).unwrap_or("Ada")),
        (_, "/v1/persons/{hmppsId}") => person(id),
        (_, "/v1/persons/{hmppsId}/name") => {
            ok(json!({"firstName": "Ada", "lastName": "Lovelace"}))
        }
        (_, "/v1/persons/{hmppsId}/images") => ok(json!([{"id": 2461788, "active": true}])),
        (_, "/v1/persons/{hmppsId}/needs") => {
            ok(json!({"assessedOn": "2024-05-01T10:00:00", "identifiedNeeds": []}))
        }
        (_, "/v1/persons/{hmppsId}/status-information") => {
            ok(json!([{"code": "WRSM", "description": "Warrant"}]))
        }
        (_, "/v1/persons/{hmppsId}/contact-events") => json_reply(
            200,
            json!({"data": [{"contactEventIdentifier": 2500011123_i64}], "pagination": pagination(1)}),
        ),
        (_, "/v1/persons/{hmppsId}/contacts") => json_reply(
            200,
            json!({"data": [{"contact": {"contactId": 1898610}}], "pagination": pagination(1)}),
        ),
        (_, "/v1/prison/prisoners/{hmppsId}") => ok(json!({
            "firstName": "Ada", "lastName": "Lovelace", "dateOfBirth": "1815-12-10", "prisonId": "MKI",
        })),
        (_, "/v1/persons/{hmppsId}/access-limitations") => {
            ok(json!({"excludedFrom": [], "restrictedTo": []}))
        }
        (_, "/v1/contacts") => {
            ok(json!([{"contactId": 1898610, "firstName": "Joe-Dps", "lastName": "Bloggs"}]))
        }
        (_, "/v1/addresses") => {
            json_reply(200, json!({"personAddresses": [{"hmppsId": "A8451DY"}]}))
        }
        (
            "POST",
            "/v1/persons/{hmppsId}/education/status"
            | "/v1/persons/{hmppsId}/education/aln-assessment",
        ) => json_reply(201, json!({})),
        ("POST", "/v1/visit") => ok(json!({"visitReference": "ab-cd-ef-gh", "status": "BOOKED"})),
        _ => ok(json!({})),
    }
}
