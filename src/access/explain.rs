//! Explain: for one consumer and one request path, allowed or not, and why — the role and permission that let
//! it through, or the application's refusal in its own words. The path is matched as the application matches
//! `requestURI`: without the query string, not decoded, the whole of it.

use super::grant::Grant;
use super::rules::{Decision, Rules};

/// One explained request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The path as the application matches it.
    pub path: String,
    pub decision: Decision,
    /// What lets it through (empty when refused).
    pub grants: Vec<Grant>,
    /// The consumer needs an on-behalf-of token (explained as if it sent one).
    pub needs_obo: bool,
}

/// Explains a request by the consumer `cn` (with a certificate of this serial, if known) to `request`.
pub fn explain(rules: &Rules, cn: &str, serial: Option<&[u8]>, request: &str) -> Explanation {
    let path = matched_path(request);
    let decision = rules.decide(Some(cn), serial, &path, true);
    let grants = match decision {
        Decision::Allowed => rules.grants(cn, &path),
        Decision::Refused { .. } => Vec::new(),
    };
    Explanation {
        decision,
        grants,
        needs_obo: rules.needs_obo(cn),
        path,
    }
}

/// The part of a request the application matches: the path, up to a query string or a fragment.
pub fn matched_path(request: &str) -> String {
    request
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string()
}

impl Explanation {
    /// Writes the explanation for people: the verdict, then each permission that lets it through.
    pub fn text(&self, cn: &str) -> String {
        let mut out = match &self.decision {
            Decision::Allowed => format!("allowed: {cn} may call {}\n", self.path),
            Decision::Refused { status, message } => format!("refused ({status}): {message}\n"),
        };
        for grant in &self.grants {
            let by = grant
                .role
                .as_ref()
                .map_or("its own include".to_string(), |role| format!("role {role}"));
            out.push_str(&format!("  by {by}, permission {}\n", grant.permission));
        }
        if self.needs_obo {
            out.push_str("  (it must send an on-behalf-of token, or it is refused with 401)\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team() -> Rules {
        let config = "authorisation:\n  consumers:\n    full: {roles: [full-access]}\n    named: {include: ['/v1/persons/{hmppsId}/name']}\n    obo: {roles: [full-access], obo-config: {required: true}}\n    resting: {roles: [full-access], is-suspended: true}\n";
        Rules::from_yaml(config).unwrap()
    }

    fn allowed(cn: &str, path: &str) -> bool {
        explain(&team(), cn, None, path).decision == Decision::Allowed
    }

    #[test]
    fn tricky_paths_are_decided_as_the_application_decides_them() {
        // (path, allowed for `named`)
        let table = [
            ("/v1/persons/A8451DY/name", true),
            ("/v1/persons/A8451DY/name?fields=all", true),
            ("/v1/persons/A8451DY/name#top", true),
            ("/v1/persons/A8451DY/name/", false),
            ("/v1/persons/A8451DY", false),
            ("/v1/persons", false),
            ("/v1/persons/A.1/name", false),
            ("/v1/persons/A%2F1/name", false),
            ("/v1/persons/A%41/name", false),
            ("/v1/persons/a/b/name", false),
            ("//v1/persons/A8451DY/name", false),
        ];
        for (path, expected) in table {
            assert_eq!(allowed("named", path), expected, "{path}");
        }
        // Templates with and without the id are different routes.
        assert!(allowed("full", "/v1/persons/A8451DY"));
        assert!(allowed("full", "/v1/persons"));
        assert!(!allowed("full", "/v1/persons/"));
    }

    #[test]
    fn an_allowed_path_names_its_role_and_permission_and_a_refusal_its_words() {
        let explained = explain(&team(), "full", None, "/v1/persons/A8451DY?x=1");
        assert_eq!(explained.path, "/v1/persons/A8451DY");
        let text = explained.text("full");
        assert!(
            text.starts_with("allowed: full may call /v1/persons/A8451DY\n"),
            "{text}"
        );
        assert!(
            text.contains("  by role full-access, permission /v1/persons/{hmppsId}\n"),
            "{text}"
        );
        let named = explain(&team(), "named", None, "/v1/persons/A8451DY/name").text("named");
        assert!(
            named.contains("by its own include, permission /v1/persons/{hmppsId}/name"),
            "{named}"
        );
        let refused = explain(&team(), "named", None, "/v1/persons/A8451DY").text("named");
        assert_eq!(
            refused,
            "refused (403): Unable to authorise /v1/persons/A8451DY for named\n"
        );
        let suspended = explain(&team(), "resting", None, "/v1/persons/A8451DY");
        assert!(suspended.grants.is_empty());
        assert_eq!(
            suspended.text("resting"),
            "refused (403): Access suspended\n"
        );
        let stranger = explain(&team(), "stranger", None, "/v1/persons/A8451DY").text("stranger");
        assert!(stranger.contains("No consumer authorisation config found for stranger"));
        let obo = explain(&team(), "obo", None, "/v1/persons/A8451DY").text("obo");
        assert!(obo.contains("on-behalf-of token"), "{obo}");
        assert!(!text.contains("on-behalf-of"));
    }

    #[test]
    fn a_revoked_certificate_is_refused_for_its_serial() {
        let rules = team().revoke(&[0x01, 0x7B]);
        let revoked = explain(&rules, "full", Some(&[0x01, 0x7B]), "/v1/persons/A8451DY");
        assert_eq!(
            revoked.text("full"),
            "refused (403): Certificate with serial number 01:7B has been revoked\n"
        );
        let other = explain(&rules, "full", Some(&[0x02]), "/v1/persons/A8451DY");
        assert_eq!(other.decision, Decision::Allowed);
    }
}
