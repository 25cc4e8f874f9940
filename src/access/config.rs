//! The authorisation config's shape, as Spring binds it: kebab-case or camelCase keys, a list given as a
//! sequence or a comma-separated string, consumers and roles whose values may be null.

use std::collections::BTreeMap;

use super::pattern::Pattern;

pub(super) fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_norway::from_str(text).map_err(|e| {
        format!("expected the authorisation config's shape (authorisation.consumers.<cn>…) ({e})")
    })
}

pub(super) fn roles(
    found: BTreeMap<String, Option<Role>>,
) -> Result<BTreeMap<String, Vec<Pattern>>, String> {
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
pub(super) struct File {
    pub authorisation: Authorisation,
}

#[derive(serde::Deserialize)]
pub(super) struct Authorisation {
    #[serde(default)]
    pub consumers: BTreeMap<String, Option<ConsumerYaml>>,
    #[serde(default)]
    pub roles: BTreeMap<String, Option<Role>>,
    #[serde(
        default,
        rename = "certificate-revocation-list",
        alias = "certificateRevocationList"
    )]
    pub revoked: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct ConsumerYaml {
    pub include: Option<List>,
    pub roles: Option<List>,
    #[serde(default, rename = "is-suspended", alias = "isSuspended")]
    pub suspended: bool,
    #[serde(rename = "obo-config", alias = "oboConfig")]
    pub obo: Option<Obo>,
}

/// A list as Spring binds one: a YAML sequence, or a comma-separated string (`roles: "all-endpoints"`).
#[derive(serde::Deserialize)]
#[serde(untagged)]
pub(super) enum List {
    Many(Vec<String>),
    One(String),
}

impl List {
    pub fn items(self) -> Vec<String> {
        match self {
            Self::Many(items) => items,
            Self::One(text) => text
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
}

#[derive(serde::Deserialize)]
pub(super) struct Obo {
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

#[derive(serde::Deserialize)]
pub(super) struct Role {
    #[serde(default)]
    permissions: Vec<String>,
}
