//! Diff: what a change to the configuration (or to the roles) does to each consumer — the routes it gains and
//! the routes it loses, a gain first, since a widened door is what a review must not miss.

use std::collections::BTreeMap;

use super::routes::{Route, fill};
use super::rules::{Decision, Rules};

/// One consumer's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub consumer: String,
    pub gained: Vec<Route>,
    pub lost: Vec<Route>,
}

/// Compares what each consumer of either config may call, route by route (each filled with the fixtures, or
/// a value any placeholder matches). Consumers that change nothing are left out.
pub fn diff(
    old: &Rules,
    new: &Rules,
    routes: &[Route],
    fixtures: &BTreeMap<String, String>,
) -> Vec<Change> {
    let mut names: Vec<&str> = old.names().chain(new.names()).collect();
    names.sort_unstable();
    names.dedup();
    let paths: Vec<(&Route, String)> = routes
        .iter()
        .map(|r| (r, fill(&r.template, fixtures)))
        .collect();
    let allowed = |rules: &Rules, cn: &str, path: &str| {
        rules.decide(Some(cn), None, path, true) == Decision::Allowed
    };
    names
        .into_iter()
        .filter_map(|cn| {
            let mut change = Change {
                consumer: cn.to_string(),
                gained: Vec::new(),
                lost: Vec::new(),
            };
            for (route, path) in &paths {
                match (allowed(old, cn, path), allowed(new, cn, path)) {
                    (false, true) => change.gained.push((*route).clone()),
                    (true, false) => change.lost.push((*route).clone()),
                    _ => {}
                }
            }
            (!change.gained.is_empty() || !change.lost.is_empty()).then_some(change)
        })
        .collect()
}

/// Writes the changes for a review: every gain first, then every loss, then one summary line.
pub fn text(changes: &[Change]) -> String {
    let mut out = String::new();
    for change in changes {
        for route in &change.gained {
            out.push_str(&format!(
                "GAINED  {}  {} {}\n",
                change.consumer, route.method, route.template
            ));
        }
    }
    for change in changes {
        for route in &change.lost {
            out.push_str(&format!(
                "lost    {}  {} {}\n",
                change.consumer, route.method, route.template
            ));
        }
    }
    let gaining = changes.iter().filter(|c| !c.gained.is_empty()).count();
    let gained: usize = changes.iter().map(|c| c.gained.len()).sum();
    let losing = changes.iter().filter(|c| !c.lost.is_empty()).count();
    let lost: usize = changes.iter().map(|c| c.lost.len()).sum();
    out.push_str(&format!(
        "{gaining} consumers gain {gained} routes; {losing} consumers lose {lost} routes\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates(routes: &[Route]) -> Vec<&str> {
        routes.iter().map(|r| r.template.as_str()).collect()
    }

    fn routes() -> Vec<Route> {
        super::super::routes::read(
            "/v1/persons/{hmppsId}\n/v1/persons/{hmppsId}/name\n/v1/status\n/health\n",
        )
        .unwrap()
    }

    #[test]
    fn a_change_lists_exactly_the_routes_gained_and_lost_gains_first() {
        let old = Rules::from_yaml(
            "authorisation:\n  consumers:\n    a: {include: ['/v1/persons/{hmppsId}/name', '/health']}\n    b: {include: ['/v1/status']}\n    gone: {include: ['/health']}\n",
        )
        .unwrap();
        let new = Rules::from_yaml(
            "authorisation:\n  consumers:\n    a: {include: ['/v1/persons/{hmppsId}', '/health']}\n    b: {include: ['/v1/status']}\n    fresh: {include: ['/v1/status']}\n",
        )
        .unwrap();
        let changes = diff(&old, &new, &routes(), &BTreeMap::new());
        let summary: Vec<(&str, Vec<&str>, Vec<&str>)> = changes
            .iter()
            .map(|c| {
                (
                    c.consumer.as_str(),
                    templates(&c.gained),
                    templates(&c.lost),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "a",
                    vec!["/v1/persons/{hmppsId}"],
                    vec!["/v1/persons/{hmppsId}/name"]
                ),
                ("fresh", vec!["/v1/status"], vec![]),
                ("gone", vec![], vec!["/health"]),
            ]
        );
        let text = text(&changes);
        let gained = text.find("GAINED  a  GET /v1/persons/{hmppsId}").unwrap();
        let lost = text
            .find("lost    a  GET /v1/persons/{hmppsId}/name")
            .unwrap();
        assert!(gained < lost, "{text}");
        assert!(
            text.ends_with("2 consumers gain 2 routes; 2 consumers lose 2 routes\n"),
            "{text}"
        );
        assert!(diff(&old, &old, &routes(), &BTreeMap::new()).is_empty());
    }

    #[test]
    fn widening_a_role_by_one_permission_gains_exactly_that_route_for_its_holders() {
        let config = "authorisation:\n  consumers:\n    holder: {roles: [reference-data-only]}\n    other: {roles: [full-access]}\n";
        let old = Rules::from_yaml(config).unwrap();
        let widened = format!(
            "{config}  roles:\n    reference-data-only:\n      permissions: ['/v1/hmpps/reference-data', '/v1/status', '/v1/persons/{{hmppsId}}/name']\n"
        );
        let new = Rules::from_yaml(&widened).unwrap();
        let all = super::super::routes::read(super::super::routes::TEAM_ROUTES).unwrap();
        let changes = diff(&old, &new, &all, &BTreeMap::new());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].consumer, "holder");
        assert_eq!(changes[0].gained.len(), 1);
        assert_eq!(changes[0].gained[0].template, "/v1/persons/{hmppsId}/name");
        assert!(changes[0].lost.is_empty());
    }
}
