//! Where a redirect leads: the Location it names, and whether that stays on the request's origin (the only
//! place `--follow-redirects` goes, so the API key never follows a redirect elsewhere).

use reqwest::header::LOCATION;
use reqwest::{Response, Url};

use super::failure::{Failure, FailureClass};

/// The URL a redirect names, resolved against the request's; a missing or invalid Location is a failure.
pub(super) fn target(url: &Url, response: &Response) -> Result<Url, Failure> {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok());
    let status = response.status();
    let location = location.ok_or_else(|| {
        Failure::new(
            FailureClass::Redirect,
            format!("redirected ({status}) without a Location"),
        )
        .with_status(status.as_u16())
    })?;
    url.join(location).map_err(|_| {
        Failure::new(
            FailureClass::Redirect,
            format!("redirected ({status}) to an invalid Location"),
        )
        .with_status(status.as_u16())
    })
}

/// Tells whether two URLs share scheme, host and port.
pub(super) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = Url::parse("https://api.test/v1").unwrap();
        assert!(same_origin(
            &a,
            &Url::parse("https://api.test:443/v2?x=1").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://api.test:8443/v1").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://evil.test/v1").unwrap()
        ));
        assert!(!same_origin(&a, &Url::parse("http://api.test/v1").unwrap()));
    }
}
