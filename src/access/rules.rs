//! Who may call what, decided as the Integration API decides it (`AuthorisationFilter.kt`,
//! `AuthorisationService.kt`, `CertificateService.kt`, `UrlMatching.kt`), from the team's own configuration
//! (`authorisation.yaml`, kebab-case or camelCase as Spring binds it): consumers by certificate CN, their
//! `roles` and older `include` patterns merged, role permissions as path templates whose named placeholders
//! match `[a-zA-Z0-9_-]+` over the whole path, the certificate revocation list, suspended consumers, and
//! consumers that need an on-behalf-of token — each refusal in the application's order, with its words.

use std::collections::BTreeMap;

use regex_lite::Regex;

/// The team's roles and their permissions, as their code defines them (see the file's header).
const TEAM_ROLES: &str = include_str!("roles.yaml");

/// The placeholders the application turns into `[a-zA-Z0-9_-]+` (`UrlMatching.kt`, same commit as the roles).
const PLACEHOLDERS: [&str; 22] = [
    "{hmppsId}",
    "{prisonId}",
    "{contactId}",
    "{visitReference}",
    "{scheduleId}",
    "{key}",
    "{locationKey}",
    "{id}",
    "{imageId}",
    "{accountCode}",
    "{clientReference}",
    "{clientVisitReference}",
    "{activityId}",
    "{clientUniqueRef}",
    "{contactEventId}",
    "{eventNumber}",
    "{jobId}",
    "{nomisNumber}",
    "{courtId}",
    "[^/]*",
    "[^/]+",
    ".*",
];

/// A permission or include pattern: as written, and as the application matches it.
#[derive(Debug, Clone)]
struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    fn new(source: &str) -> Result<Self, String> {
        let normalised = normalise(source);
        let regex = Regex::new(&format!("^(?:{normalised})$"))
            .map_err(|e| format!("{source:?} is not a pattern the application can match ({e})"))?;
        Ok(Self {
            source: source.to_string(),
            regex,
        })
    }
}

/// Normalises a pattern as `normalisePath` does: named placeholders (and `[^/]*`, `[^/]+`, `.*`) become
/// `[a-zA-Z0-9_-]+`, `^` and `$` are dropped, and a leading `/` is ensured; `/.*` stays a wildcard.
pub fn normalise(pattern: &str) -> String {
    if pattern == "/.*" || pattern == "/swagger-ui/.*" {
        return pattern.to_string();
    }
    let replaced = PLACEHOLDERS
        .iter()
        .fold(pattern.to_string(), |p, placeholder| {
            p.replace(placeholder, "[a-zA-Z0-9_-]+")
        });
    let trimmed = replaced.strip_prefix('^').unwrap_or(&replaced);
    let trimmed = trimmed.strip_suffix('$').unwrap_or(trimmed);
    if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

/// One consumer's configuration.
#[derive(Debug, Clone, Default)]
pub struct Consumer {
    include: Vec<Pattern>,
    roles: Vec<String>,
    suspended: bool,
    obo_required: bool,
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
    consumers: BTreeMap<String, Consumer>,
    roles: BTreeMap<String, Vec<Pattern>>,
    /// Upper-case colon hex serials, each for every consumer or one.
    revoked: Vec<(String, Option<String>)>,
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
        super::bounded(text)?;
        let file: File = parse(text)?;
        let mut rules = Self::default();
        rules.roles.extend(roles(file.authorisation.roles)?);
        for (name, consumer) in file.authorisation.consumers {
            let consumer = consumer.unwrap_or_default();
            let include = consumer
                .include
                .unwrap_or_default()
                .iter()
                .map(|p| Pattern::new(p).map_err(|e| format!("consumer {name:?}: {e}")))
                .collect::<Result<_, _>>()?;
            let built = Consumer {
                include,
                roles: consumer.roles.unwrap_or_default(),
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
            Consumer {
                include,
                ..Consumer::default()
            },
        );
        Ok(self)
    }

    /// Adds (or replaces) a consumer with roles.
    pub fn with_roles(mut self, name: &str, roles: &[&str]) -> Self {
        let roles = roles.iter().map(|r| r.to_string()).collect();
        self.consumers.insert(
            name.to_string(),
            Consumer {
                roles,
                ..Consumer::default()
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
    fn permissions<'a>(&'a self, consumer: &'a Consumer) -> impl Iterator<Item = &'a Pattern> {
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

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_norway::from_str(text).map_err(|e| {
        format!("expected the authorisation config's shape (authorisation.consumers.<cn>…) ({e})")
    })
}

fn roles(found: BTreeMap<String, Option<Role>>) -> Result<BTreeMap<String, Vec<Pattern>>, String> {
    found
        .into_iter()
        .map(|(name, role)| {
            let permissions = role
                .map(|r| r.permissions)
                .unwrap_or_default()
                .iter()
                .map(|p| Pattern::new(p).map_err(|e| format!("role {name:?}: {e}")))
                .collect::<Result<_, _>>()?;
            Ok((name, permissions))
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct File {
    authorisation: Authorisation,
}

#[derive(serde::Deserialize)]
struct Authorisation {
    #[serde(default)]
    consumers: BTreeMap<String, Option<ConsumerYaml>>,
    #[serde(default)]
    roles: BTreeMap<String, Option<Role>>,
    #[serde(
        default,
        rename = "certificate-revocation-list",
        alias = "certificateRevocationList"
    )]
    revoked: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
struct ConsumerYaml {
    include: Option<Vec<String>>,
    roles: Option<Vec<String>>,
    #[serde(default, rename = "is-suspended", alias = "isSuspended")]
    suspended: bool,
    #[serde(rename = "obo-config", alias = "oboConfig")]
    obo: Option<Obo>,
}

#[derive(serde::Deserialize)]
struct Obo {
    #[serde(default = "yes")]
    required: bool,
}

fn yes() -> bool {
    true
}

#[derive(serde::Deserialize)]
struct Role {
    #[serde(default)]
    permissions: Vec<String>,
}
