//! Matrix: a suite with one check per probe consumer × route, derived from the configuration. Allowed → must
//! not be refused (any status but 401 and 403); not allowed → must be refused by the application, in its
//! words ("Unable to authorise …"); a suspended, revoked or unknown consumer → refused for that reason. GETs
//! by default: other methods may change data. Also what the configuration covers: routes no permission
//! mentions, permissions no route matches, consumers with no access.

use std::collections::BTreeMap;

use serde::Serialize;

use super::routes::{Route, fill};
use super::rules::{Decision, Rules};

/// A consumer heartbeat holds credentials for: its certificate's CN, and the prefix of its variables
/// (`<PREFIX>_API_KEY`, `_CERT`, `_KEY`).
#[derive(Debug, Clone)]
pub struct Probe {
    pub cn: String,
    pub prefix: String,
    /// Its certificate's serial, when known, so a revoked certificate is expected refused.
    pub serial: Option<Vec<u8>>,
}

/// What a configuration covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Routes no permission of any consumer matches.
    pub unreached: Vec<String>,
    /// Permissions (with where they come from) that match no route.
    pub unused: Vec<(String, String)>,
    /// Consumers with neither a role nor an `include`.
    pub without_access: Vec<String>,
}

/// A generated suite.
pub struct Matrix {
    pub suite: String,
    pub checks: usize,
    pub allowed: usize,
    pub coverage: Coverage,
}

#[derive(Serialize)]
struct Suite {
    base_url: String,
    defaults: Defaults,
    consumers: BTreeMap<String, Credentials>,
    check: Vec<Check>,
}

#[derive(Serialize)]
struct Defaults {
    attempts: u32,
}

#[derive(Serialize)]
struct Credentials {
    api_key: String,
    cert: String,
    key: String,
}

#[derive(Serialize)]
struct Check {
    name: String,
    consumer: String,
    method: String,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expect_status: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expect: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused_with: Option<String>,
}

/// Any status but the two refusals: the application's authorisation let it through.
const NOT_REFUSED: [&str; 3] = ["<401", "402", "404-599"];

/// Builds the suite for the probes over the routes whose method is in `methods`.
pub fn generate(
    rules: &Rules,
    routes: &[Route],
    fixtures: &BTreeMap<String, String>,
    probes: &[Probe],
    methods: &[String],
    base_url: &str,
) -> Result<Matrix, String> {
    let mut consumers = BTreeMap::new();
    let mut checks = Vec::new();
    let mut allowed = 0;
    let chosen: Vec<&Route> = routes
        .iter()
        .filter(|r| methods.contains(&r.method))
        .collect();
    for probe in probes {
        let credentials = Credentials {
            api_key: format!("${{{}_API_KEY}}", probe.prefix),
            cert: format!("${{{}_CERT}}", probe.prefix),
            key: format!("${{{}_KEY}}", probe.prefix),
        };
        if consumers.insert(probe.cn.clone(), credentials).is_some() {
            return Err(format!("{} is probed twice", probe.cn));
        }
        let mut seen = std::collections::BTreeSet::new();
        for route in &chosen {
            let path = fill(&route.template, fixtures);
            // Two templates can fill to one path; one check says it.
            if !seen.insert((route.method.clone(), path.clone())) {
                continue;
            }
            // The matrix sends no on-behalf-of token: a consumer that needs one is refused for that.
            let decision = rules.decide(Some(&probe.cn), probe.serial.as_deref(), &path, false);
            let verb = if decision == Decision::Allowed {
                "may"
            } else {
                "may not"
            };
            let mut check = Check {
                name: format!("{} {verb} {} {path}", probe.cn, route.method),
                consumer: probe.cn.clone(),
                method: route.method.clone(),
                path,
                expect_status: None,
                expect: None,
                refused_by: None,
                refused_with: None,
            };
            match decision {
                Decision::Allowed => {
                    allowed += 1;
                    check.expect_status = Some(NOT_REFUSED.to_vec());
                }
                Decision::Refused { message, .. } => {
                    check.expect = Some("refused");
                    check.refused_by = Some("application");
                    check.refused_with = Some(message);
                }
            }
            checks.push(check);
        }
    }
    let count = checks.len();
    let suite = Suite {
        base_url: base_url.to_string(),
        defaults: Defaults { attempts: 1 },
        consumers,
        check: checks,
    };
    let text =
        toml::to_string(&suite).map_err(|e| format!("the suite could not be written ({e})"))?;
    let header = "# Generated by `heartbeat access matrix` from the authorisation config: one check per consumer and\n# route. Regenerate it when the config changes; do not edit it by hand.\n";
    Ok(Matrix {
        suite: format!("{header}{text}"),
        checks: count,
        allowed,
        coverage: coverage(rules, routes, fixtures),
    })
}

/// What the configuration covers, over all the routes.
pub fn coverage(rules: &Rules, routes: &[Route], fixtures: &BTreeMap<String, String>) -> Coverage {
    let paths: Vec<(String, String)> = routes
        .iter()
        .map(|r| (r.template.clone(), fill(&r.template, fixtures)))
        .collect();
    let permissions = rules.permissions_in_use();
    let mut unreached: Vec<String> = paths
        .iter()
        .filter(|(_, path)| !permissions.iter().any(|(_, p)| p.regex.is_match(path)))
        .map(|(template, _)| template.clone())
        .collect();
    unreached.dedup();
    let mut unused: Vec<(String, String)> = permissions
        .iter()
        .filter(|(_, p)| !paths.iter().any(|(_, path)| p.regex.is_match(path)))
        .map(|(from, p)| (from.clone(), p.source.clone()))
        .collect();
    unused.sort();
    unused.dedup();
    Coverage {
        unreached,
        unused,
        without_access: rules
            .without_access()
            .into_iter()
            .map(str::to_string)
            .collect(),
    }
}

impl Coverage {
    /// Writes the coverage for people.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut list = |title: String, items: Vec<String>| {
            out.push_str(&title);
            for item in items {
                out.push_str(&format!("  {item}\n"));
            }
        };
        list(
            format!(
                "{} routes no consumer's permission reaches\n",
                self.unreached.len()
            ),
            self.unreached.clone(),
        );
        list(
            format!("{} permissions that match no route\n", self.unused.len()),
            self.unused
                .iter()
                .map(|(from, p)| format!("{p} ({from})"))
                .collect(),
        );
        list(
            format!(
                "{} consumers with no role and no include\n",
                self.without_access.len()
            ),
            self.without_access.clone(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(cn: &str, prefix: &str) -> Probe {
        Probe {
            cn: cn.into(),
            prefix: prefix.into(),
            serial: None,
        }
    }

    fn config() -> Rules {
        Rules::from_yaml("authorisation:\n  consumers:\n    full: {roles: [full-access]}\n    named: {include: ['/v1/persons/{hmppsId}/name', '/v1/nowhere']}\n    none: {}\n    resting: {roles: [full-access], is-suspended: true}\n").unwrap()
    }

    #[test]
    fn each_cell_expects_what_the_config_decides() {
        let routes = super::super::routes::read(
            "/v1/persons/{hmppsId}\n/v1/persons/{hmppsId}/name\nPOST /v1/persons/{hmppsId}/name\n",
        )
        .unwrap();
        let fixtures = BTreeMap::from([("hmppsId".to_string(), "A8451DY".to_string())]);
        let probes = [
            probe("named", "LIMITED"),
            probe("resting", "SUSPENDED"),
            probe("stranger", "X"),
        ];
        let matrix = generate(
            &config(),
            &routes,
            &fixtures,
            &probes,
            &["GET".into()],
            "${SERVICE_BASE_URL}",
        )
        .unwrap();
        assert_eq!((matrix.checks, matrix.allowed), (6, 1));
        let suite: toml::Value = toml::from_str(&matrix.suite).unwrap();
        let checks = suite["check"].as_array().unwrap();
        let find = |name: &str| {
            checks
                .iter()
                .find(|c| c["name"].as_str() == Some(name))
                .unwrap_or_else(|| panic!("{name}: {}", matrix.suite))
        };
        let may = find("named may GET /v1/persons/A8451DY/name");
        assert_eq!(may["expect_status"].as_array().unwrap().len(), 3);
        let may_not = find("named may not GET /v1/persons/A8451DY");
        assert_eq!(may_not["expect"].as_str(), Some("refused"));
        assert_eq!(may_not["refused_by"].as_str(), Some("application"));
        assert_eq!(
            may_not["refused_with"].as_str(),
            Some("Unable to authorise /v1/persons/A8451DY for named")
        );
        let resting = find("resting may not GET /v1/persons/A8451DY");
        assert_eq!(resting["refused_with"].as_str(), Some("Access suspended"));
        let stranger = find("stranger may not GET /v1/persons/A8451DY");
        assert_eq!(
            stranger["refused_with"].as_str(),
            Some("No consumer authorisation config found for stranger")
        );
        assert_eq!(
            suite["consumers"]["named"]["api_key"].as_str(),
            Some("${LIMITED_API_KEY}")
        );
        assert_eq!(
            suite["consumers"]["named"]["cert"].as_str(),
            Some("${LIMITED_CERT}")
        );
        assert!(!matrix.suite.contains("POST"), "GETs only unless asked");
        let both = generate(
            &config(),
            &routes,
            &fixtures,
            &probes[..1],
            &["GET".into(), "POST".into()],
            "x",
        )
        .unwrap();
        assert_eq!(both.checks, 3);
        assert!(
            generate(
                &config(),
                &routes,
                &fixtures,
                &[probe("a", "A"), probe("a", "B")],
                &["GET".into()],
                "x"
            )
            .is_err()
        );
    }

    #[test]
    fn a_revoked_probe_is_expected_refused_for_its_serial() {
        let rules = config().revoke(&[0x0A]);
        let mut revoked = probe("full", "REVOKED");
        revoked.serial = Some(vec![0x0A]);
        let routes = super::super::routes::read("/v1/status\n").unwrap();
        let matrix = generate(
            &rules,
            &routes,
            &BTreeMap::new(),
            &[revoked],
            &["GET".into()],
            "x",
        )
        .unwrap();
        assert!(
            matrix
                .suite
                .contains("Certificate with serial number 0A has been revoked"),
            "{}",
            matrix.suite
        );
        assert_eq!(matrix.allowed, 0);
    }

    #[test]
    fn coverage_names_unreached_routes_unused_permissions_and_consumers_without_access() {
        let routes = super::super::routes::read("/v1/persons/{hmppsId}/name\n/v1/never\n").unwrap();
        let rules = Rules::from_yaml("authorisation:\n  consumers:\n    named: {include: ['/v1/persons/{hmppsId}/name', '/v1/nowhere']}\n    none: {}\n").unwrap();
        let coverage = coverage(&rules, &routes, &BTreeMap::new());
        assert_eq!(coverage.unreached, ["/v1/never"]);
        assert_eq!(
            coverage.unused,
            [("include of named".to_string(), "/v1/nowhere".to_string())]
        );
        assert_eq!(coverage.without_access, ["none"]);
        let text = coverage.text();
        assert!(
            text.contains("1 routes no consumer's permission reaches\n  /v1/never\n"),
            "{text}"
        );
        assert!(
            text.contains("  /v1/nowhere (include of named)\n"),
            "{text}"
        );
    }
}
