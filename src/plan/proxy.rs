//! Which proxy a URL is reached through, decided as curl decides it: `HTTPS_PROXY` (or `ALL_PROXY`), unless
//! `NO_PROXY` names the host. Decided here rather than inside reqwest, so a failure can say that the proxy,
//! not SERVICE_URL, refused or could not be reached.

use reqwest::Url;

use crate::environment::Environment;
use crate::error::Problem;

/// A proxy that applies to the checked URL.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub url: Url,
    /// The proxy as it may be printed: scheme, host and port, never its credentials.
    pub display: String,
}

impl Proxy {
    /// Finds the proxy for `target`; `Ok(None)` when none is set or NO_PROXY names the host.
    pub fn for_url(env: &Environment, target: &Url) -> Result<Option<Self>, Problem> {
        let Some((variable, value)) = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
            .into_iter()
            .find_map(|name| env.get(name).map(|value| (name, value)))
        else {
            return Ok(None);
        };
        let no_proxy = env.get("no_proxy").or_else(|| env.get("NO_PROXY"));
        if no_proxy.is_some_and(|list| bypasses(list, target)) {
            return Ok(None);
        }
        // curl reads a proxy without a scheme as http://.
        let text = if value.contains("://") {
            value.trim().to_string()
        } else {
            format!("http://{}", value.trim())
        };
        let url = Url::parse(&text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h"))
            .filter(|u| u.host_str().is_some())
            .ok_or_else(|| {
                Problem::new(
                    variable,
                    "is not a proxy URL; write it like http://proxy.example:3128",
                )
            })?;
        let display = format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(1080)
        );
        Ok(Some(Self { url, display }))
    }
}

/// Tells whether a NO_PROXY list names the host: `*`, the host itself, or a domain it is under (with or
/// without a leading dot). IP addresses match exactly.
fn bypasses(list: &str, target: &Url) -> bool {
    let Some(host) = target.host_str() else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            let entry = entry.trim_start_matches('.');
            // An entry may carry a port (host:443); the port does not narrow it here.
            let entry = match entry.rsplit_once(':') {
                Some((name, port)) if !name.contains(':') && port.parse::<u16>().is_ok() => name,
                _ => entry,
            };
            entry == "*" || host == entry || host.ends_with(&format!(".{entry}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy_for(vars: &[(&'static str, &str)], url: &str) -> Option<String> {
        let env = Environment::from_pairs(vars.iter().map(|(k, v)| (*k, v.to_string())));
        Proxy::for_url(&env, &Url::parse(url).unwrap())
            .unwrap()
            .map(|p| p.display)
    }

    #[test]
    fn https_proxy_applies_unless_no_proxy_names_the_host() {
        let proxy = [("HTTPS_PROXY", "proxy.test:3128")];
        assert_eq!(
            proxy_for(&proxy, "https://api.test/v1").as_deref(),
            Some("http://proxy.test:3128")
        );
        for no_proxy in ["api.test", ".test", "test", "*", "other, api.test:443"] {
            let vars = [proxy[0], ("NO_PROXY", no_proxy)];
            assert_eq!(proxy_for(&vars, "https://api.test/v1"), None, "{no_proxy}");
        }
        let vars = [proxy[0], ("NO_PROXY", "notapi.test,xapi.test")];
        assert!(proxy_for(&vars, "https://api.test/v1").is_some());
        assert_eq!(proxy_for(&[], "https://api.test/v1"), None);
    }

    #[test]
    fn credentials_are_never_displayed_and_bad_urls_are_named() {
        let vars = [("https_proxy", "http://user:pa55@proxy.test:8080")];
        assert_eq!(
            proxy_for(&vars, "https://api.test").as_deref(),
            Some("http://proxy.test:8080")
        );
        let env = Environment::from_pairs([("HTTPS_PROXY", "ftp://x".to_string())]);
        let problem = Proxy::for_url(&env, &Url::parse("https://api.test").unwrap()).unwrap_err();
        assert_eq!(problem.input, "HTTPS_PROXY");
    }
}
