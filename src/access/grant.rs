//! Why a consumer may call a path, and what a configuration covers: the role (or the consumer's own
//! `include`) and the permission that lets a request through — what `heartbeat access explain` shows and the
//! matrix and the diff compare — and roles read from a file of their own.

use super::config::{File, parse, roles};
use super::rules::Rules;

/// One permission that lets a consumer through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The role that holds the permission; `None` for the consumer's own `include`.
    pub role: Option<String>,
    /// The permission as written.
    pub permission: String,
}

impl Rules {
    /// Replaces and adds roles from a file in the shape of the config's `roles` section (the roles a file names
    /// win over the config's and the team's).
    pub fn with_roles_file(mut self, text: &str) -> Result<Self, String> {
        super::bounds::bounded(text)?;
        let file: File = parse(text)?;
        let found = roles(file.authorisation.roles)?;
        if found.is_empty() {
            return Err(
                "names no role (expected authorisation.roles.<role>.permissions)".to_string(),
            );
        }
        self.roles.extend(found);
        Ok(self)
    }

    /// Every permission that lets the consumer call the path, in the order the consumer lists them: its own
    /// `include` first, then each role's. Empty for a consumer the config does not know.
    pub fn grants(&self, cn: &str, path: &str) -> Vec<Grant> {
        let Some(consumer) = self.consumers.get(cn) else {
            return Vec::new();
        };
        let own = consumer.include.iter().map(|p| (None, p));
        let from_roles = consumer.roles.iter().flat_map(|role| {
            self.roles
                .get(role)
                .into_iter()
                .flatten()
                .map(move |p| (Some(role.clone()), p))
        });
        own.chain(from_roles)
            .filter(|(_, pattern)| pattern.regex.is_match(path))
            .map(|(role, pattern)| Grant {
                role,
                permission: pattern.source.clone(),
            })
            .collect()
    }

    /// Lists the revocation list's serials (upper-case colon hex), whoever they are for.
    pub fn revoked_serials(&self) -> Vec<String> {
        self.revoked
            .iter()
            .map(|(serial, _)| serial.clone())
            .collect()
    }

    /// Tells whether the config names the consumer.
    pub fn knows(&self, cn: &str) -> bool {
        self.consumers.contains_key(cn)
    }

    /// Tells whether the consumer is suspended.
    pub fn is_suspended(&self, cn: &str) -> bool {
        self.consumers.get(cn).is_some_and(|c| c.suspended)
    }

    /// Tells whether the consumer needs an on-behalf-of token.
    pub fn needs_obo(&self, cn: &str) -> bool {
        self.consumers.get(cn).is_some_and(|c| c.obo_required)
    }

    /// Lists consumers with neither a role nor an `include` pattern: they may call nothing.
    pub fn without_access(&self) -> Vec<&str> {
        self.consumers
            .iter()
            .filter(|(_, c)| c.roles.is_empty() && c.include.is_empty())
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Lists every permission the config's consumers can hold, with where it comes from (`role <name>` or
    /// `include of <cn>`), for the coverage summary. Roles no consumer holds are left out.
    pub(super) fn permissions_in_use(&self) -> Vec<(String, &super::pattern::Pattern)> {
        let mut found = Vec::new();
        for (name, consumer) in &self.consumers {
            for pattern in &consumer.include {
                found.push((format!("include of {name}"), pattern));
            }
        }
        let mut held: Vec<&String> = self.consumers.values().flat_map(|c| &c.roles).collect();
        held.sort();
        held.dedup();
        for role in held {
            for pattern in self.roles.get(role).into_iter().flatten() {
                found.push((format!("role {role}"), pattern));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "authorisation:\n  consumers:\n    both:\n      include: ['/v1/persons/{hmppsId}']\n      roles: [reference-data-only]\n    nothing: {}\n    resting:\n      is-suspended: true\n      roles: [full-access]\n";

    #[test]
    fn grants_name_the_role_or_the_include_that_lets_a_path_through() {
        let rules = Rules::from_yaml(CONFIG).unwrap();
        let grants = rules.grants("both", "/v1/persons/A8451DY");
        assert_eq!(
            grants,
            [Grant {
                role: None,
                permission: "/v1/persons/{hmppsId}".into()
            }]
        );
        let grants = rules.grants("both", "/v1/hmpps/reference-data");
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].role.as_deref(), Some("reference-data-only"));
        assert!(rules.grants("both", "/v1/persons/A8451DY/name").is_empty());
        assert!(rules.grants("stranger", "/v1/persons/A8451DY").is_empty());
    }

    #[test]
    fn what_a_config_knows_of_its_consumers() {
        let rules = Rules::from_yaml(CONFIG).unwrap();
        assert!(rules.knows("nothing") && !rules.knows("stranger"));
        assert!(rules.is_suspended("resting") && !rules.is_suspended("both"));
        assert_eq!(rules.without_access(), ["nothing"]);
        let sources: Vec<String> = rules
            .permissions_in_use()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert!(sources.contains(&"include of both".to_string()));
        assert!(sources.contains(&"role full-access".to_string()));
        assert!(
            !sources.iter().any(|s| s.contains("all-endpoints")),
            "a role nobody holds"
        );
    }

    #[test]
    fn the_revocation_list_is_read_as_the_application_writes_serials() {
        let rules = Rules::from_yaml(
            "authorisation:\n  certificate-revocation-list:\n    - 01:7b:eb\n    - 0A/someone\n",
        )
        .unwrap();
        assert_eq!(rules.revoked_serials(), ["01:7B:EB", "0A"]);
        assert!(Rules::default().revoked_serials().is_empty());
    }

    #[test]
    fn a_roles_file_replaces_and_adds_roles() {
        let roles = "authorisation:\n  roles:\n    reference-data-only:\n      permissions: ['/v1/status']\n";
        let rules = Rules::from_yaml(CONFIG)
            .unwrap()
            .with_roles_file(roles)
            .unwrap();
        assert!(rules.grants("both", "/v1/hmpps/reference-data").is_empty());
        assert_eq!(rules.grants("both", "/v1/status").len(), 1);
        let empty = Rules::default().with_roles_file("authorisation:\n  consumers: {}\n");
        assert!(empty.unwrap_err().contains("names no role"));
    }
}
