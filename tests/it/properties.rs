//! Property tests with a bounded number of cases (they run in the test command): the input decoders, the
//! certificate reader and the duration parser never panic on any input and never echo it, and the redactor
//! never lets a secret through in any supported encoding.

use base64::Engine as _;
use heartbeat::redact::{REDACTED, Redactor};
use heartbeat::tls::input::{Input, parse_certificates, parse_private_key, read_pem};
use proptest::prelude::*;
use secrecy::SecretString;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Wraps arbitrary bytes as a PEM block, so the parsers get past the armour.
fn armoured(label: &str, body: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(body);
    format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n").into_bytes()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_value_decodes_or_is_refused_without_echo(value in "\\PC{0,200}") {
        let input = Input::Value(SecretString::from(value.clone()));
        if let Err(problem) = read_pem("MTLS_CERT", &input) {
            let trimmed = value.trim();
            prop_assert!(trimmed.len() < 8 || !problem.message.contains(trimmed), "{}", problem.message);
        }
    }

    #[test]
    fn any_der_in_pem_armour_is_parsed_or_refused(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        for label in ["CERTIFICATE", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"] {
            let pem = armoured(label, &body);
            if let Ok(chain) = parse_certificates("MTLS_CERT", &pem) {
                let _ = heartbeat::tls::identity::CertFacts::from_der("MTLS_CERT", &chain[0]);
            }
            let _ = parse_private_key("MTLS_KEY", &pem);
        }
    }

    #[test]
    fn durations_parse_within_a_day_or_are_refused(text in "\\PC{0,40}") {
        if let Ok(duration) = heartbeat::duration::parse(&text) {
            prop_assert!(duration <= heartbeat::duration::MAX);
        }
    }

    #[test]
    fn numeric_durations_never_overflow(number in any::<f64>(), unit in prop::sample::select(vec!["", "ms", "s", "m", "h", "d", "y"])) {
        let _ = heartbeat::duration::parse(&format!("{number}{unit}"));
    }

    #[test]
    fn rfc3339_writes_every_instant(seconds in any::<i64>()) {
        prop_assert!(!heartbeat::duration::rfc3339(seconds).is_empty());
    }

    #[test]
    fn an_echoed_secret_never_survives_in_any_encoding(
        secret in "[!-~]{6,40}",
        prefix in "[a-zA-Z0-9 :,.{}\"]{0,20}",
        suffix in "[a-zA-Z0-9 :,.{}\"]{0,20}",
        encoding in 0usize..7,
    ) {
        prop_assume!(!REDACTED.contains(secret.as_str()));
        let echoed = encode(&secret, encoding);
        let redactor = Redactor::new(vec![SecretString::from(secret.clone())]);
        let cleaned = redactor.clean(&format!("{prefix}{echoed}{suffix}"), 10_000);
        prop_assert!(!cleaned.contains(&secret), "{cleaned}");
        prop_assert!(!cleaned.contains(&echoed), "{cleaned}");
    }
}

/// One of the encodings a server might echo a secret in.
fn encode(secret: &str, encoding: usize) -> String {
    let percent = |upper: bool| {
        secret
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect::<String>()
    };
    match encoding {
        0 => secret.to_string(),
        1 => {
            let json = serde_json::to_string(secret).unwrap();
            json[1..json.len() - 1].to_string()
        }
        2 => percent(true),
        3 => percent(false),
        4 => base64::engine::general_purpose::STANDARD.encode(secret),
        5 => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        _ => secret
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect(),
    }
}
