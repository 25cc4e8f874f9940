//! What the sandbox answers, as the real Integration API does: the API gateway in front (API key, its own
//! refusal shape, a request id on every answer), then the application (consumers authorised by certificate CN
//! against path allow-lists, the persons routes, its error shape); `/fault/…` goes to the fault routes.
//! Pure: a request in, a `Reply` out; the server carries it out.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};

use super::data::{self, Templates};
use super::faults::Faults;
use super::reply::{Reply, gateway, spring_error, waf_page};
pub use super::request::Request;
use crate::access::{Decision, Rules};

/// Route state that lives as long as the sandbox.
pub struct Routes {
    api_keys: Vec<SecretString>,
    rules: Rules,
    waf: bool,
    delius_down: bool,
    templates: Templates,
    faults: Faults,
}

impl Routes {
    /// Builds the routes: the API keys the gateway accepts, the application's access rules, the WAF, and
    /// whether Delius is down.
    pub fn new(api_keys: Vec<SecretString>, rules: Rules, waf: bool, delius_down: bool) -> Self {
        Self {
            api_keys,
            rules,
            waf,
            delius_down,
            templates: Templates::default(),
            faults: Faults::default(),
        }
    }

    /// Answers one request in the real API's order: the gateway's API key check, the fault routes (test
    /// machinery), the WAF at the ingress, the application's authorisation, then the route.
    pub fn reply(&self, request: &Request<'_>) -> Reply {
        let known = |key: &str| self.api_keys.iter().any(|k| k.expose_secret() == key);
        if !request.api_key.is_some_and(known) {
            return gateway(403, "Forbidden", Some("ForbiddenException"));
        }
        if let Some(fault) = request.path.strip_prefix("/fault/") {
            return self.faults.reply(fault, request);
        }
        if self.waf && looks_like_injection(&request.query) {
            return waf_page();
        }
        let obo = request.on_behalf_of.is_some_and(|o| !o.trim().is_empty());
        match self
            .rules
            .decide(request.consumer, request.serial, request.path, obo)
        {
            Decision::Refused { status, message } => spring_error(status, &message, request.path),
            Decision::Allowed => data::answer(&self.templates, request, self.delius_down),
        }
    }
}

/// Tells whether a query looks like SQL injection to the ingress's ModSecurity: a quote closing a string and a
/// boolean or comment after it (the team's probe is `?id=abc'+or+'1'%3D'1'`).
fn looks_like_injection(query: &HashMap<String, String>) -> bool {
    query.values().any(|value| {
        let value = value.to_ascii_lowercase();
        value.contains('\'')
            && (value.contains(" or ")
                || value.contains(" and ")
                || value.contains("--")
                || value.contains("union"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn routes() -> Routes {
        Routes::new(
            vec![SecretString::from("k".to_string())],
            super::super::profiles::rules(),
            true,
            false,
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
            method: "GET",
            path,
            query,
            api_key: key,
            on_behalf_of: None,
            consumer: Some(consumer),
            serial: None,
            body: b"",
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
        // A path no role permits is refused by the application before any route is looked for.
        assert_eq!(status_of(&ask(&routes, "/nowhere", &[], Some("k"))), 403);
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
        assert_eq!(
            body["message"],
            "Unable to authorise /v1/persons for limited-access"
        );
        assert_eq!(body["error"], "Forbidden");
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
