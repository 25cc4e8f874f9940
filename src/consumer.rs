//! Who calls: a consumer's API key (and the header it goes in), its client certificate when it has one, the
//! roots it trusts and the proxy it goes through — and the HTTP clients built from them.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Client;
use reqwest::header::{HeaderName, HeaderValue};
use rustls::RootCertStore;

use crate::identity::{self, ClientIdentity};
use crate::proxy::Proxy;

/// The API key as sent: the header and its value, validated once and marked sensitive.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub header: HeaderName,
    value: HeaderValue,
}

impl ApiKey {
    /// Builds the header; `None` when the key is not a valid header value.
    pub fn new(header: HeaderName, key: &str) -> Option<Self> {
        let mut value = HeaderValue::from_str(key).ok()?;
        value.set_sensitive(true);
        Some(Self { header, value })
    }

    /// Returns the header value (sensitive, so never logged).
    pub fn value(&self) -> HeaderValue {
        self.value.clone()
    }
}

/// One consumer of the API.
#[derive(Debug)]
pub struct Consumer {
    /// The suite's name for it; `None` for `heartbeat check`.
    pub name: Option<String>,
    pub api_key: Option<ApiKey>,
    pub request_id_header: HeaderName,
    /// No identity means no client certificate is presented.
    pub identity: Option<Arc<ClientIdentity>>,
    pub roots: RootCertStore,
    pub proxy: Option<Proxy>,
}

impl Consumer {
    /// Builds an HTTP client. `keep_alive` false gives a fresh connection for every request (what `check` and
    /// refused-door checks want); TLS sessions are never resumed either way.
    pub fn client(&self, keep_alive: bool, connect_timeout: Duration) -> Client {
        let tls = identity::client_config(self.roots.clone(), self.identity.as_deref());
        // Proxies come from `environment` through `proxy`, never from reqwest's own lookup.
        let mut builder = Client::builder().no_proxy();
        if let Some(proxy) = &self.proxy {
            // Proxy::for_url checked the URL parses; a proxy reqwest still refuses is simply not used.
            if let Ok(proxy) = reqwest::Proxy::all(proxy.url.clone()) {
                builder = builder.proxy(proxy);
            }
        }
        if !keep_alive {
            builder = builder.pool_max_idle_per_host(0);
        }
        builder
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .user_agent(concat!("heartbeat/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a rustls client with a preconfigured TLS backend builds")
    }
}
