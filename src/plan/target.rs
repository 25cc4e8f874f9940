//! What is called, checked before anything is sent: the URL (https, a sane length, DNS name limits) and the
//! header names the key and the request id travel in.

use reqwest::Url;
use reqwest::header::HeaderName;

use crate::environment::{Environment, SERVICE_URL};
use crate::error::Problem;

/// The longest URL accepted; servers refuse longer request lines long before this.
const MAX_URL_LEN: usize = 8192;

/// Reads the URL from `--url` or SERVICE_URL and checks it can be called.
pub fn url(flag: Option<&str>, env: &Environment) -> Result<Url, Problem> {
    if flag.is_none() {
        if let Some(problem) = env.utf8_problem(SERVICE_URL) {
            return Err(problem);
        }
    }
    let (name, text) = match flag {
        Some(text) => ("--url", text),
        None => (
            SERVICE_URL,
            env.get(SERVICE_URL).ok_or_else(|| {
                Problem::new(
                    SERVICE_URL,
                    "is not set (the URL to check); set it or pass --url",
                )
            })?,
        ),
    };
    https_url(name, text)
}

/// Checks a URL a consumer's credentials may be sent to, for `check` and every suite URL alike: a sane length,
/// https, a host that is really there (`https:///path` would make `path` the host), no user name or password
/// (heartbeat's credentials are the key and the certificate; a password in a URL would travel as Basic auth),
/// and DNS name limits.
pub fn https_url(name: &str, text: &str) -> Result<Url, Problem> {
    if text.len() > MAX_URL_LEN {
        return Err(Problem::new(
            name,
            format!(
                "is {} characters long; a URL may be at most {MAX_URL_LEN}",
                text.len()
            ),
        ));
    }
    let text = text.trim();
    let url = Url::parse(text).map_err(|e| {
        Problem::new(
            name,
            format!("is not a valid URL ({e}); write it like https://host/v1/persons"),
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            return Err(Problem::new(name, "uses http: mutual TLS needs https://"));
        }
        other => {
            return Err(Problem::new(
                name,
                format!("has scheme {other:?}; use https://"),
            ));
        }
    }
    let after_scheme = &text[text.find(':').map_or(0, |i| i + 1)..];
    if !after_scheme.starts_with("//") || after_scheme[2..].starts_with(['/', '\\']) {
        return Err(Problem::new(
            name,
            "has no host; write it like https://host/v1/persons",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Problem::new(
            name,
            "holds a user name or password; credentials come only from the consumer (API key, certificate)",
        ));
    }
    if let Some(host) = url.domain() {
        host_problem(host).map_or(Ok(()), |why| Err(Problem::new(name, why)))?;
    }
    Ok(url)
}

/// Names a URL's origin as compared: scheme, host and port (the default port spelled out).
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Joins a path to the base URL, refusing a path that would leave the base's origin (`@host`, `//host`,
/// `:port`): a consumer's key and certificate belong to one origin.
pub fn join(name: &str, base: &Url, path: &str) -> Result<Url, Problem> {
    if !path.starts_with('/') || path.starts_with("//") || path.starts_with("/\\") {
        return Err(Problem::new(
            name,
            "must start with a single / (a path on base_url, like /v1/persons)",
        ));
    }
    let url = https_url(
        name,
        &format!("{}{path}", base.as_str().trim_end_matches('/')),
    )?;
    if url.origin() != base.origin() {
        return Err(Problem::new(
            name,
            format!(
                "would leave base_url's origin for {}; a path stays on base_url",
                origin(&url)
            ),
        ));
    }
    Ok(url)
}

/// Checks a DNS name's lengths (RFC 1035): at most 253 characters, labels of 1 to 63.
fn host_problem(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.');
    if host.len() > 253 {
        return Some(format!(
            "has a host name of {} characters; at most 253",
            host.len()
        ));
    }
    host.split('.')
        .find(|label| label.is_empty() || label.len() > 63)
        .map(|label| {
            format!(
                "has a host name label of {} characters; labels are 1 to 63",
                label.len()
            )
        })
}

/// Headers with routing, framing or hop-by-hop meaning, and the one heartbeat names itself in: no key and no
/// check may set them (RFC 9110 §7.6.1 connection options, RFC 9112 framing).
const RESERVED_HEADERS: [&str; 13] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "proxy-authorization",
    "proxy-authenticate",
    "proxy-connection",
    "user-agent",
];

/// Headers that carry credentials: set only to a secret reference (`"${NAME}"`), never a literal, so no secret
/// lives in the file.
const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "cookie", "x-on-behalf-of"];

/// Parses a header name given on the command line, refusing routing and framing headers.
pub fn header_name(flag: &str, text: &str) -> Result<HeaderName, Problem> {
    let name = HeaderName::from_bytes(text.as_bytes())
        .map_err(|_| Problem::new(flag, "is not a valid HTTP header name"))?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(Problem::new(
            flag,
            format!(
                "names {}, a header with routing or framing meaning; choose the header the API reads",
                name.as_str()
            ),
        ));
    }
    Ok(name)
}

/// Says why a check or consumer may not set a header: framing and routing headers are heartbeat's, the API key
/// header is the consumer's `api_key` alone (`x-api-key` and the consumer's own `api_key_header`), and a
/// credential header (`authorization`, `cookie`, `x-on-behalf-of`) takes only a secret reference.
pub fn check_header_problem(
    name: &HeaderName,
    key_header: Option<&HeaderName>,
    secret: bool,
) -> Option<String> {
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Some(format!(
            "headers may not set {name}: routing and framing are heartbeat's"
        ));
    }
    if name == "x-api-key" || key_header == Some(name) {
        return Some(format!(
            "headers may not set {name}: it carries the API key, which is the consumer's api_key alone"
        ));
    }
    if CREDENTIAL_HEADERS.contains(&name.as_str()) && !secret {
        return Some(format!(
            "headers may set {name} only to a reference like \"${{NAME}}\": it carries a credential, and no secret lives in the file (the value is not shown)"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_held_to_dns_lengths_at_their_edges() {
        let label = |n: usize| "a".repeat(n);
        assert_eq!(host_problem(&format!("{}.test", label(63))), None);
        assert_eq!(
            host_problem(&format!("{}.test", label(64))).as_deref(),
            Some("has a host name label of 64 characters; labels are 1 to 63")
        );
        assert!(host_problem("api..test").unwrap().contains("label of 0"));
        assert_eq!(host_problem("api.test."), None, "a final dot is the root");
        // 4 labels of 63 and their dots make 255; trimmed by 2 they make 253.
        let long = [label(63), label(63), label(63), label(61)].join(".");
        assert_eq!(long.len(), 253);
        assert_eq!(host_problem(&long), None);
        let longer = format!("{long}a");
        assert_eq!(
            host_problem(&longer).as_deref(),
            Some("has a host name of 254 characters; at most 253")
        );
        assert_eq!(
            origin(&Url::parse("https://api.test/v1?q").unwrap()),
            "https://api.test"
        );
        assert_eq!(
            origin(&Url::parse("https://api.test:8443/").unwrap()),
            "https://api.test:8443"
        );
    }

    #[test]
    fn a_callable_url_is_https_with_a_host_and_no_userinfo() {
        assert!(https_url("u", "https://api.test/v1/persons").is_ok());
        assert!(https_url("u", "  https://api.test:8443/v1  ").is_ok());
        for (text, why) in [
            ("http://api.test/v1", "uses http"),
            ("ftp://api.test/v1", "has scheme \"ftp\""),
            ("https:///v1/persons", "has no host"),
            ("https:/v1/persons", "has no host"),
            ("https://\\v1", "has no host"),
            ("https://user:pw@api.test/v1", "user name or password"),
            ("https://user@api.test/v1", "user name or password"),
            ("not a url", "is not a valid URL"),
        ] {
            let problem = https_url("u", text).expect_err(text);
            assert!(problem.message.contains(why), "{text}: {}", problem.message);
            assert!(!problem.message.contains("pw"), "{}", problem.message);
        }
        let long = format!("https://api.test/{}", "a".repeat(MAX_URL_LEN));
        assert!(
            https_url("u", &long)
                .unwrap_err()
                .message
                .contains("at most 8192")
        );
        let exact = format!("https://api.test/{}", "a".repeat(MAX_URL_LEN - 17));
        assert_eq!(exact.len(), MAX_URL_LEN);
        assert!(https_url("u", &exact).is_ok());
    }

    #[test]
    fn a_path_joins_on_the_base_origin_only() {
        let base = Url::parse("https://api.test:8443/").unwrap();
        let joined = join("path", &base, "/v1/persons/A1?x=@evil.test").unwrap();
        assert_eq!(
            joined.as_str(),
            "https://api.test:8443/v1/persons/A1?x=@evil.test"
        );
        for path in [
            "@evil.test/v1",
            "//evil.test/v1",
            ":1/v1",
            "v1/persons",
            "/\\evil.test/v1",
            "",
        ] {
            assert!(join("path", &base, path).is_err(), "{path}");
        }
        let base_with_path = Url::parse("https://api.test/api").unwrap();
        assert_eq!(
            join("path", &base_with_path, "/v1").unwrap().as_str(),
            "https://api.test/api/v1"
        );
    }

    #[test]
    fn checks_set_ordinary_headers_and_credentials_only_from_secrets() {
        let key = HeaderName::from_static("x-token");
        let ordinary = HeaderName::from_static("x-correlation-id");
        assert_eq!(check_header_problem(&ordinary, Some(&key), false), None);
        assert_eq!(
            check_header_problem(&key, None, false),
            None,
            "x-token is only the key's header when it is"
        );
        // The API key's header is the consumer's api_key alone: not even a secret reference sets it.
        for secret in [false, true] {
            let problem = check_header_problem(&key, Some(&key), secret).unwrap();
            assert!(problem.contains("API key"), "{problem}");
            let problem =
                check_header_problem(&HeaderName::from_static("x-api-key"), None, secret).unwrap();
            assert!(problem.contains("API key"), "{problem}");
        }
        // A credential header: refused as a literal, taken as a secret reference.
        for name in ["authorization", "cookie", "x-on-behalf-of"] {
            let header = HeaderName::from_static(name);
            let problem = check_header_problem(&header, None, false).unwrap();
            assert!(problem.contains("credential"), "{name}");
            assert_eq!(check_header_problem(&header, None, true), None, "{name}");
        }
        for name in RESERVED_HEADERS {
            let header = HeaderName::from_static(name);
            for secret in [false, true] {
                let problem = check_header_problem(&header, None, secret).unwrap();
                assert!(problem.contains("routing and framing"), "{name}");
            }
            assert!(header_name("--api-key-header", name).is_err(), "{name}");
        }
        assert!(header_name("--api-key-header", "authorization").is_ok());
    }
}
