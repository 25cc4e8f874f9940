//! A suite's consumers: the base URL and the roots they share, and each consumer's key, header, certificate
//! pair and proxy, read from `[consumers.NAME]` with every problem at its position.

use std::collections::HashMap;
use std::time::SystemTime;

use reqwest::Url;
use secrecy::SecretString;
use toml::de::DeTable;

use super::fields::CONSUMER_KEYS;
use super::file::Reader;
use crate::environment::{Environment, SERVICE_CA_CERT, SERVICE_URL};
use crate::plan::consumer::Consumer;
use crate::plan::consumer::{self, Description, Named};
use crate::tls::identity;
use crate::tls::input::{self, Input};

/// The URL paths are joined to: `base_url`, or the origin of SERVICE_URL.
pub(super) fn base_url(
    reader: &mut Reader<'_>,
    root: &DeTable<'_>,
    env: &Environment,
) -> Option<Url> {
    let (text, span) = match root.get("base_url") {
        Some(value) => (reader.text("base_url", value)?, value.span()),
        None => {
            let url = Url::parse(env.get(SERVICE_URL)?).ok()?;
            (crate::plan::target::origin(&url), 0..0)
        }
    };
    crate::plan::target::https_url("base_url", &text)
        .map_err(|p| reader.named_problem(&span, p))
        .ok()
}

/// The built-in roots plus, first found: `--ca-cert`, the file's `ca_cert` (a `${NAME}` reference, PEM,
/// base64 of PEM or a path), or `SERVICE_CA_CERT` from the environment, which means what it means to `check`.
pub(super) fn roots(
    reader: &mut Reader<'_>,
    root: &DeTable<'_>,
    ca_cert: Option<&std::path::PathBuf>,
    env: &Environment,
) -> Option<rustls::RootCertStore> {
    let (name, input) = match (ca_cert, root.get("ca_cert")) {
        // The same forms as SERVICE_CA_CERT (PEM, base64 of PEM, or a path): `--ca-cert "$SERVICE_CA_CERT"`
        // works, and a value that is none of them is named, never printed back.
        (Some(value), _) => (
            "--ca-cert".to_string(),
            Input::Value(SecretString::from(value.to_string_lossy().into_owned())),
        ),
        (None, Some(value)) => {
            let text = reader.text("ca_cert", value)?;
            (
                reader.at(&value.span()) + " ca_cert",
                Input::Value(SecretString::from(text)),
            )
        }
        (None, None) => match env.get(SERVICE_CA_CERT) {
            Some(value) => (
                SERVICE_CA_CERT.to_string(),
                Input::Value(SecretString::from(value.to_string())),
            ),
            None => return identity::root_store("ca_cert", &[]).ok(),
        },
    };
    let result = input::read_certificates(&name, &input)
        .and_then(|certs| identity::root_store(&name, &certs));
    result.map_err(|problem| reader.problems.push(problem)).ok()
}

/// A suite's consumers, as planned.
#[derive(Default)]
pub(super) struct Consumers {
    pub list: Vec<Consumer>,
    /// Every consumer the file names: its index in `list`, or `None` when it could not be built (its own
    /// problems say why, once; the checks naming it add nothing).
    pub names: HashMap<String, Option<usize>>,
    /// Per consumer in `list`: the origins (`https://host:port`, serialised) its key and certificate may go to —
    /// base_url's, and any it lists.
    pub origins: Vec<Vec<String>>,
    pub secrets: Vec<SecretString>,
}

pub(super) fn consumers(
    reader: &mut Reader<'_>,
    root: &DeTable<'_>,
    roots: Option<&rustls::RootCertStore>,
    base: Option<&Url>,
    env: &Environment,
) -> Consumers {
    let mut planned = Consumers::default();
    let Some(table) = root
        .get("consumers")
        .and_then(|v| reader.table("consumers", v))
    else {
        return planned;
    };
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        if let Some(problem) = super::fields::name_problem("consumer name", &name) {
            reader.problem(&key.span(), problem);
            planned.names.insert(name, None);
            continue;
        }
        let Some(fields) = reader.table(&format!("consumers.{name}"), value) else {
            planned.names.insert(name, None);
            continue;
        };
        reader.known_keys(fields, &CONSUMER_KEYS, &format!("[consumers.{name}]"));
        let origins = origins(reader, &name, fields, base);
        let consumer = consumer(
            reader,
            &name,
            fields,
            roots,
            base,
            env,
            &mut planned.secrets,
        );
        match (consumer, origins) {
            (Some(consumer), Some(origins)) => {
                planned.names.insert(name, Some(planned.list.len()));
                planned.list.push(consumer);
                planned.origins.push(origins);
            }
            _ => {
                planned.names.insert(name, None);
            }
        }
    }
    planned
}

/// The origins a consumer's credentials may go to: base_url's, plus each https URL in its `origins`.
fn origins(
    reader: &mut Reader<'_>,
    name: &str,
    fields: &DeTable<'_>,
    base: Option<&Url>,
) -> Option<Vec<String>> {
    let mut origins: Vec<String> = base.map(crate::plan::target::origin).into_iter().collect();
    let Some(value) = fields.get("origins") else {
        return Some(origins);
    };
    let key = format!("consumers.{name}.origins");
    let mut ok = true;
    for (text, span) in reader.strings(&key, value)? {
        match crate::plan::target::https_url(&key, &text) {
            Ok(url) => origins.push(crate::plan::target::origin(&url)),
            Err(problem) => {
                reader.named_problem(&span, problem);
                ok = false;
            }
        }
    }
    ok.then_some(origins)
}

fn consumer(
    reader: &mut Reader<'_>,
    name: &str,
    fields: &DeTable<'_>,
    roots: Option<&rustls::RootCertStore>,
    base: Option<&Url>,
    env: &Environment,
    secrets: &mut Vec<SecretString>,
) -> Option<Consumer> {
    let secret = |reader: &mut Reader<'_>, key: &str| {
        let value = fields.get(key)?;
        let found = reader.secret(&format!("consumers.{name}.{key}"), value);
        found.map(|s| (s, value.span()))
    };
    let api_key = secret(reader, "api_key");
    let cert = secret(reader, "cert");
    let key = secret(reader, "key");
    let header = match fields.get("api_key_header") {
        Some(value) => reader.string("api_key_header", value).and_then(|h| {
            crate::plan::target::header_name("api_key_header", &h)
                .map_err(|p| reader.problem(&value.span(), p.message))
                .ok()
        }),
        None => Some(consumer::default_key_header()),
    }?;
    let pair = pair(reader, name, fields, cert, key)?;
    let headers = match fields.get("headers") {
        Some(value) => {
            let key = format!("consumers.{name}.headers");
            super::request::header_table(reader, &key, value, Some(&header), secrets)?
        }
        None => Vec::new(),
    };
    let proxy = base.and_then(|url| {
        crate::plan::proxy::Proxy::for_url(env, url)
            .map_err(|p| reader.problems.push(p))
            .ok()
            .flatten()
    });
    let api_key = api_key.map(|(key, span)| {
        let label = format!("{} consumers.{name}.api_key", reader.at(&span));
        (header, key, label)
    });
    let description = Description {
        name: Some(name.to_string()),
        api_key,
        pair,
        request_id_header: consumer::default_request_id_header(),
        headers,
        roots: roots?.clone(),
        proxy,
    };
    match consumer::build(description, SystemTime::now()) {
        Ok(built) => {
            secrets.extend(built.secrets);
            Some(built.consumer)
        }
        Err(problems) => {
            reader.problems.extend(problems);
            None
        }
    }
}

/// Reads a consumer's certificate and key; both or neither (no certificate is then presented).
fn pair(
    reader: &mut Reader<'_>,
    name: &str,
    fields: &DeTable<'_>,
    cert: Option<(SecretString, std::ops::Range<usize>)>,
    key: Option<(SecretString, std::ops::Range<usize>)>,
) -> Option<Option<(Named, Named)>> {
    match (cert, key) {
        (Some((cert, span)), Some((key, _))) => {
            let label = format!("{} consumers.{name}.cert", reader.at(&span));
            let cert = Named::new(label, Input::Value(cert));
            let key = Named::new(format!("consumers.{name}.key"), Input::Value(key));
            Some(Some((cert, key)))
        }
        (Some((_, span)), None) | (None, Some((_, span))) => {
            // With both keys present, the other one already has its own problem (unset, literal).
            if fields.get("cert").is_none() || fields.get("key").is_none() {
                reader.problem(
                    &span,
                    format!("consumers.{name} needs both cert and key, or neither"),
                );
            }
            None
        }
        // Neither given, or neither readable: an unreadable one has its own problem, so the plan fails then.
        (None, None) => Some(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::suite_file::tests::one_check;

    fn consumer(lines: &str) -> Result<(), String> {
        one_check(lines, "", None).map(|_| ())
    }

    #[test]
    fn a_certificate_needs_its_key_and_a_key_its_certificate() {
        for lines in ["cert = \"${PEM}\"", "key = \"${PEM}\""] {
            let error = consumer(lines).unwrap_err();
            assert!(
                error.contains("consumers.a needs both cert and key, or neither"),
                "{lines}: {error}"
            );
        }
        // With both keys written, the unset one is the problem, named once.
        let error = consumer("cert = \"${PEM}\"\nkey = \"${UNSET}\"").unwrap_err();
        assert!(error.contains("UNSET"), "{error}");
        assert!(!error.contains("needs both"), "{error}");
        let error = consumer("cert = \"${UNSET_C}\"\nkey = \"${UNSET_K}\"").unwrap_err();
        assert!(
            error.contains("UNSET_C") && error.contains("UNSET_K"),
            "{error}"
        );
        // Neither: no certificate is presented.
        consumer("").unwrap();
    }
}
