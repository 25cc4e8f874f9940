//! The API's routes, as the team publishes them: the OpenAPI document (`api-docs.json`, its `paths` keys with
//! `{placeholders}` and their methods) or a plain list (`/path` or `GET /path` per line, `#` comments), and
//! the values that fill a route's placeholders (`hmppsId = "A8451DY"`).

use std::collections::BTreeMap;

/// The API's path templates (`roleConstants.allEndpoints`), the default routes of the access commands.
pub const TEAM_ROUTES: &str = include_str!("routes.txt");

/// A value for a placeholder without a fixture: one segment of the characters a placeholder matches.
const ANY_SEGMENT: &str = "x1";

/// One route: a method and a path template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    pub template: String,
}

/// Reads routes from an OpenAPI document (JSON) or a plain list; sorted, without repeats.
pub fn read(text: &str) -> Result<Vec<Route>, String> {
    let mut routes = if text.trim_start().starts_with('{') {
        openapi(text)?
    } else {
        list(text)?
    };
    routes.sort();
    routes.dedup();
    if routes.is_empty() {
        return Err("names no route".to_string());
    }
    Ok(routes)
}

fn openapi(text: &str) -> Result<Vec<Route>, String> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("is not JSON ({e})"))?;
    let paths = document
        .get("paths")
        .and_then(serde_json::Value::as_object)
        .ok_or("has no `paths` object: expected an OpenAPI document")?;
    let mut routes = Vec::new();
    for (template, item) in paths {
        check_template(template)?;
        let methods = item.as_object().into_iter().flatten().map(|(k, _)| k);
        for method in methods {
            // Path items hold other keys too (`parameters`, `summary`).
            const METHODS: [&str; 8] = [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ];
            if METHODS.contains(&method.as_str()) {
                routes.push(Route {
                    method: method.to_ascii_uppercase(),
                    template: template.clone(),
                });
            }
        }
    }
    Ok(routes)
}

fn list(text: &str) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let (method, template) = match line.split_once(char::is_whitespace) {
            Some((method, template)) => (method.to_ascii_uppercase(), template.trim()),
            None => ("GET".to_string(), line),
        };
        if !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "line {}: {method:?} is not an HTTP method",
                number + 1
            ));
        }
        check_template(template).map_err(|e| format!("line {}: {e}", number + 1))?;
        routes.push(Route {
            method,
            template: template.to_string(),
        });
    }
    Ok(routes)
}

fn check_template(template: &str) -> Result<(), String> {
    if !template.starts_with('/')
        || template.contains(char::is_whitespace)
        || template.contains('?')
    {
        return Err(format!(
            "{template:?} is not a path template (/v1/persons/{{hmppsId}})"
        ));
    }
    Ok(())
}

/// Reads fixtures: a TOML table of placeholder names and values. A value must be one path segment, so the
/// path it fills is the path a consumer would call.
pub fn fixtures(text: &str) -> Result<BTreeMap<String, String>, String> {
    let table: BTreeMap<String, String> =
        toml::from_str(text).map_err(|e| format!("expected `name = \"value\"` lines ({e})"))?;
    for (name, value) in &table {
        let bad = value.is_empty()
            || value.contains(['/', '?', '#', '{', '}'])
            || value.contains(char::is_whitespace);
        if bad {
            return Err(format!("{name}: {value:?} is not one path segment"));
        }
    }
    Ok(table)
}

/// Fills a template's placeholders with the fixtures, or with a value any placeholder matches.
pub fn fill(template: &str, fixtures: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = &rest[start + 1..start + end];
        out.push_str(fixtures.get(name).map_or(ANY_SEGMENT, String::as_str));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_list_and_an_openapi_document_give_the_same_routes() {
        let plain =
            read("# routes\n/v1/persons/{hmppsId}\nPOST /v1/visit\n\n/v1/persons/{hmppsId}\n")
                .unwrap();
        let openapi = read(r#"{"paths": {"/v1/persons/{hmppsId}": {"get": {}, "parameters": []}, "/v1/visit": {"post": {}}}}"#).unwrap();
        assert_eq!(plain, openapi);
        assert_eq!(
            plain[0],
            Route {
                method: "GET".into(),
                template: "/v1/persons/{hmppsId}".into()
            }
        );
        assert_eq!(plain[1].method, "POST");
    }

    #[test]
    fn what_is_not_a_route_is_refused_with_its_line() {
        assert!(read("v1/persons\n").unwrap_err().contains("line 1"));
        assert!(read("/ok\nG3T /x\n").unwrap_err().contains("line 2"));
        assert!(read("/v1/persons?x=1\n").is_err());
        assert!(read("# nothing\n").unwrap_err().contains("names no route"));
        assert!(read("{\"openapi\": \"3\"}").unwrap_err().contains("paths"));
        assert!(read("{ not json").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn placeholders_are_filled_from_fixtures_or_with_a_safe_segment() {
        let fixtures = fixtures("hmppsId = \"A8451DY\"\nprisonId = \"MKI\"\n").unwrap();
        assert_eq!(
            fill("/v1/persons/{hmppsId}/x/{prisonId}", &fixtures),
            "/v1/persons/A8451DY/x/MKI"
        );
        assert_eq!(fill("/v1/{other}/name", &fixtures), "/v1/x1/name");
        assert_eq!(fill("/v1/{broken", &fixtures), "/v1/{broken");
        assert_eq!(fill("/health", &fixtures), "/health");
    }

    #[test]
    fn a_fixture_must_be_one_segment() {
        for bad in [
            "a = \"x/y\"",
            "a = \"\"",
            "a = \"x y\"",
            "a = \"{b}\"",
            "a = 1",
        ] {
            assert!(fixtures(bad).is_err(), "{bad}");
        }
        assert_eq!(fixtures("a = \"A.1\"").unwrap()["a"], "A.1");
    }
}
