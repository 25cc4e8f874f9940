//! Who may call what, decided as the Integration API decides it (`AuthorisationFilter.kt`,
//! `AuthorisationService.kt`, `CertificateService.kt`, `UrlMatching.kt`), from the team's own configuration
//! (`authorisation.yaml`, kebab-case or camelCase as Spring binds it): consumers by certificate CN, their
//! `roles` and older `include` patterns merged, role permissions as path templates whose named placeholders
//! match `[a-zA-Z0-9_-]+` over the whole path, the certificate revocation list, suspended consumers, and
//! consumers that need an on-behalf-of token — each refusal in the application's order, with its words.

use std::collections::BTreeMap;

use super::config::{File, List, parse, roles};
use super::pattern::Pattern;

/// The team's roles and their permissions, as their code defines them (see the file's header).
const TEAM_ROLES: &str = include_str!("roles.yaml");

/// One consumer's configuration (`ConsumerConfig.kt`).
#[derive(Debug, Clone, Default)]
pub struct ConsumerConfig {
    pub(super) include: Vec<Pattern>,
    pub(super) roles: Vec<String>,
    pub(super) suspended: bool,
    pub(super) obo_required: bool,
}

/// The application's decision about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused with the status and the words the application sends.
    Refused {
        status: u16,
        message: String,
    },
}

/// Consumers, roles and the revocation list.
#[derive(Debug, Clone)]
pub struct Rules {
    pub(super) consumers: BTreeMap<String, ConsumerConfig>,
    pub(super) roles: BTreeMap<String, Vec<Pattern>>,
    /// Upper-case colon hex serials, each for every consumer or one.
    pub(super) revoked: Vec<(String, Option<String>)>,
}

impl Default for Rules {
    /// The team's roles and no consumer.
    fn default() -> Self {
        let roles = parse::<File>(TEAM_ROLES)
            .and_then(|file| roles(file.authorisation.roles))
            .expect("the built-in roles parse");
        Self {
            consumers: BTreeMap::new(),
            roles,
            revoked: Vec::new(),
        }
    }
}

impl Rules {
    /// Reads `authorisation.yaml` (or an `application-<env>.yml` holding it): consumers, an optional `roles`
    /// section (over the team's roles, which are the defaults) and the `certificate-revocation-list`.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        super::bounds::bounded(text)?;
        let file: File = parse(text)?;
        let mut rules = Self::default();
        rules.roles.extend(roles(file.authorisation.roles)?);
        for (name, consumer) in file.authorisation.consumers {
            let consumer = consumer.unwrap_or_default();
            let include = consumer
                .include
                .map(List::items)
                .unwrap_or_default()
                .iter()
                .map(|p| Pattern::new(p).map_err(|e| format!("consumer {name:?}: {e}")))
                .collect::<Result<_, _>>()?;
            let built = ConsumerConfig {
                include,
                roles: consumer.roles.map(List::items).unwrap_or_default(),
                suspended: consumer.suspended,
                obo_required: consumer.obo.is_some_and(|o| o.required),
            };
            rules.consumers.insert(name, built);
        }
        for entry in file.authorisation.revoked {
            let (serial, only) = match entry.split_once('/') {
                Some((serial, name)) => (serial, Some(name.trim().to_string())),
                None => (entry.as_str(), None),
            };
            rules
                .revoked
                .push((serial.trim().to_ascii_uppercase(), only));
        }
        Ok(rules)
    }

    /// Adds (or replaces) a consumer allowed the paths its `include` patterns match.
    pub fn with(mut self, name: &str, include: &[&str]) -> Result<Self, String> {
        let include = include
            .iter()
            .map(|p| Pattern::new(p).map_err(|e| format!("consumer {name:?}: {e}")))
            .collect::<Result<_, _>>()?;
        self.consumers.insert(
            name.to_string(),
            ConsumerConfig {
                include,
                ..ConsumerConfig::default()
            },
        );
        Ok(self)
    }

    /// Adds (or replaces) a consumer with roles.
    pub fn with_roles(mut self, name: &str, roles: &[&str]) -> Self {
        let roles = roles.iter().map(|r| r.to_string()).collect();
        self.consumers.insert(
            name.to_string(),
            ConsumerConfig {
                roles,
                ..ConsumerConfig::default()
            },
        );
        self
    }

    /// Marks a consumer suspended.
    pub fn suspend(mut self, name: &str) -> Self {
        self.consumers
            .entry(name.to_string())
            .or_default()
            .suspended = true;
        self
    }

    /// Puts a certificate serial (big-endian two's-complement bytes) on the revocation list.
    pub fn revoke(mut self, serial: &[u8]) -> Self {
        self.revoked.push((serial_hex(serial), None));
        self
    }

    /// Lists the consumers' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.consumers.keys().map(String::as_str)
    }

    /// Decides a request as the application does, in its order: a CN, the revocation list, suspension, an
    /// on-behalf-of token where one is required, a configuration, and a permission matching the whole path.
    pub fn decide(
        &self,
        cn: Option<&str>,
        serial: Option<&[u8]>,
        path: &str,
        obo: bool,
    ) -> Decision {
        let refuse = |status, message: String| Decision::Refused { status, message };
        let Some(cn) = cn else {
            return refuse(
                403,
                "No subject-distinguished-name header provided for authorisation".into(),
            );
        };
        if let Some(hex) = serial.map(serial_hex) {
            let revoked = self.revoked.iter().any(|(entry, only)| {
                entry.eq_ignore_ascii_case(&hex) && only.as_deref().is_none_or(|o| o == cn)
            });
            if revoked {
                return refuse(
                    403,
                    format!("Certificate with serial number {hex} has been revoked"),
                );
            }
        }
        let consumer = self.consumers.get(cn);
        if consumer.is_some_and(|c| c.suspended) {
            return refuse(403, "Access suspended".into());
        }
        if consumer.is_some_and(|c| c.obo_required) && !obo {
            return refuse(401, format!("On Behalf Of username unavailable for {cn}"));
        }
        let Some(consumer) = consumer else {
            return refuse(
                403,
                format!("No consumer authorisation config found for {cn}"),
            );
        };
        if self.permissions(consumer).any(|p| p.regex.is_match(path)) {
            Decision::Allowed
        } else {
            refuse(403, format!("Unable to authorise {path} for {cn}"))
        }
    }

    /// Every pattern a consumer holds: its own `include` and each role's permissions (an unknown role adds
    /// nothing, as in the application).
    fn permissions<'a>(
        &'a self,
        consumer: &'a ConsumerConfig,
    ) -> impl Iterator<Item = &'a Pattern> {
        let from_roles = consumer
            .roles
            .iter()
            .filter_map(|role| self.roles.get(role))
            .flatten();
        consumer.include.iter().chain(from_roles)
    }

    /// Lists a consumer's permissions as written, sorted and without repeats.
    pub fn permission_sources(&self, cn: &str) -> Vec<&str> {
        let mut sources: Vec<&str> = self
            .consumers
            .get(cn)
            .map(|c| self.permissions(c).map(|p| p.source.as_str()).collect())
            .unwrap_or_default();
        sources.sort_unstable();
        sources.dedup();
        sources
    }
}

/// Formats a serial as the application does: upper-case hex bytes joined by colons (`01:7B:EB:…`), from the
/// big-endian two's-complement bytes (so a serial whose top bit is set keeps its leading `00`).
pub fn serial_hex(serial: &[u8]) -> String {
    let bytes: Vec<String> = serial.iter().map(|b| format!("{b:02X}")).collect();
    bytes.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(decision: Decision) -> (u16, String) {
        match decision {
            Decision::Refused { status, message } => (status, message),
            Decision::Allowed => panic!("allowed"),
        }
    }

    #[test]
    fn roles_and_include_merge_and_an_unknown_role_adds_nothing() {
        let yaml = "authorisation:\n  consumers:\n    both:\n      include: [\"/v1/extra\"]\n      roles: [status-only]\n    \
                    ghost:\n      roles: [no-such-role]\n  roles:\n    status-only:\n      permissions: [\"/v1/status\", \"/v1/own\"]\n";
        let rules = Rules::from_yaml(yaml).unwrap();
        for path in ["/v1/extra", "/v1/status", "/v1/own"] {
            assert_eq!(
                rules.decide(Some("both"), None, path, false),
                Decision::Allowed,
                "{path}"
            );
        }
        assert_eq!(
            refused(rules.decide(Some("both"), None, "/v1/persons", false)).0,
            403
        );
        let (status, message) = refused(rules.decide(Some("ghost"), None, "/v1/status", false));
        assert_eq!(
            (status, message.as_str()),
            (403, "Unable to authorise /v1/status for ghost")
        );
        // The team's own roles stay the defaults beside the file's.
        assert!(rules.permission_sources("both").contains(&"/v1/own"));
        let team = Rules::default().with_roles("f", &["full-access"]);
        assert_eq!(
            team.decide(Some("f"), None, "/v1/persons/A8451DY/name", false),
            Decision::Allowed
        );
        assert_eq!(team.permission_sources("f").len(), 111);
    }

    #[test]
    fn a_comma_separated_string_is_a_list_as_spring_binds_it() {
        let yaml = "authorisation:\n  consumers:\n    two:\n      roles: \"status-only, reference-data-only,\"\n";
        let rules = Rules::from_yaml(yaml).unwrap();
        for path in ["/v1/status", "/v1/hmpps/reference-data"] {
            assert_eq!(
                rules.decide(Some("two"), None, path, false),
                Decision::Allowed,
                "{path}"
            );
        }
        assert_ne!(
            rules.decide(Some("two"), None, "/v1/persons", false),
            Decision::Allowed
        );
    }

    #[test]
    fn refusals_come_in_the_applications_order_with_its_words() {
        let serial = [0x90, 0x01];
        let yaml = "authorisation:\n  certificate-revocation-list:\n    - 00:90:01\n    - 0a:0b/only-this\n  consumers:\n    \
                    revoked-and-suspended:\n      is-suspended: true\n      roles: [full-access]\n    \
                    suspended:\n      isSuspended: true\n    obo:\n      roles: [full-access]\n      obo-config: {strategy: jwt}\n    \
                    only-this:\n      roles: [full-access]\n    other:\n      roles: [full-access]\n";
        let rules = Rules::from_yaml(yaml).unwrap();
        let path = "/v1/status";
        assert_eq!(serial_hex(&[0x00, 0x90, 0x01]), "00:90:01");
        let (status, message) = refused(rules.decide(None, None, path, false));
        assert_eq!(
            (status, message.as_str()),
            (
                403,
                "No subject-distinguished-name header provided for authorisation"
            )
        );
        // Revoked before suspended; compared case-insensitively, the leading 00 kept as BigInteger keeps it.
        let revoked = refused(rules.decide(
            Some("revoked-and-suspended"),
            Some(&[0x00, 0x90, 0x01]),
            path,
            false,
        ));
        assert_eq!(
            revoked,
            (
                403,
                "Certificate with serial number 00:90:01 has been revoked".into()
            )
        );
        let not_that = rules.decide(Some("revoked-and-suspended"), Some(&serial), path, false);
        assert_eq!(refused(not_that), (403, "Access suspended".into()));
        assert_eq!(
            refused(rules.decide(Some("suspended"), None, path, false)),
            (403, "Access suspended".into())
        );
        // A consumer-only entry revokes that consumer's certificate, not another's with the same serial.
        assert_eq!(
            refused(rules.decide(Some("only-this"), Some(&[0x0A, 0x0B]), path, false)).0,
            403
        );
        assert_eq!(
            rules.decide(Some("other"), Some(&[0x0A, 0x0B]), path, false),
            Decision::Allowed
        );
        // On behalf of: 401 without the token, let in with it.
        let obo = refused(rules.decide(Some("obo"), None, path, false));
        assert_eq!(
            obo,
            (401, "On Behalf Of username unavailable for obo".into())
        );
        assert_eq!(
            rules.decide(Some("obo"), None, path, true),
            Decision::Allowed
        );
        let unknown = refused(rules.decide(Some("stranger"), None, path, false));
        assert_eq!(
            unknown,
            (
                403,
                "No consumer authorisation config found for stranger".into()
            )
        );
    }

    #[test]
    fn the_teams_public_sample_config_loads() {
        let sample =
            include_str!("../../tests/fixtures/hmpps-integration-api/authorisation-sample.yaml");
        let rules = Rules::from_yaml(sample).unwrap();
        assert!(
            rules
                .names()
                .any(|n| n == "automated-test-client-no-filters")
        );
        let smoke = [
            0x01, 0x7B, 0xEB, 0x77, 0x06, 0xDB, 0x11, 0xF5, 0x2E, 0xB6, 0xF7, 0x37, 0x7B, 0xA9,
            0xE0, 0xE4, 0x84, 0xC5, 0x2C, 0xA3,
        ];
        let (status, _) = refused(rules.decide(
            Some("automated-test-client-no-filters"),
            Some(&smoke),
            "/v1/status",
            false,
        ));
        assert_eq!(
            status, 403,
            "the sample's lower-case smoke-test serial is revoked"
        );
        assert_eq!(
            rules.decide(
                Some("automated-test-client-no-filters"),
                Some(&[0x01]),
                "/v1/status",
                false
            ),
            Decision::Allowed
        );
        assert_eq!(
            rules.decide(Some("all-access"), None, "/v1/anything/at/all", false),
            Decision::Allowed
        );
    }
}
