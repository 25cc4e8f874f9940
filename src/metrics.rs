//! Numbers over time: a run's results in the Prometheus text format, for node_exporter's textfile collector
//! (`--metrics FILE`, written atomically) or a Pushgateway (`--metrics-push URL`). Labels are check and
//! consumer names, never a secret. The encoding is prometheus-client's (the Prometheus project's own crate):
//! its label escaping and number formatting are the format's, not ours.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use secrecy::{ExposeSecret, SecretString};

use crate::delivery::{Delivery, Message};
use crate::error::ExitCode;
use crate::probe::CheckResult;

type Float = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    check: String,
    consumer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConsumerLabels {
    consumer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CertificateLabels {
    env: String,
    client: String,
    cn: String,
}

/// One certificate of `cert watch`: env, client, CN, its last valid second, and whether it needs action.
pub struct Certificate {
    pub env: String,
    pub client: String,
    pub cn: String,
    pub not_after: i64,
    pub needs_action: bool,
}

/// Encodes the fleet's certificates in the text format.
pub fn certificates_text(certificates: &[Certificate]) -> String {
    let mut registry = Registry::with_prefix("heartbeat");
    let expiry = Family::<CertificateLabels, Float>::default();
    registry.register(
        "certificate_expiry_timestamp_seconds",
        "When the certificate expires, in seconds since the epoch",
        expiry.clone(),
    );
    let action = Family::<CertificateLabels, Float>::default();
    registry.register(
        "certificate_needs_action",
        "Whether the certificate needs action today (expired, on an alert day, not from the CA, unreadable)",
        action.clone(),
    );
    for c in certificates {
        let labels = CertificateLabels {
            env: c.env.clone(),
            client: c.client.clone(),
            cn: c.cn.clone(),
        };
        expiry.get_or_create(&labels).set(c.not_after as f64);
        action
            .get_or_create(&labels)
            .set(f64::from(u8::from(c.needs_action)));
    }
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// What the metrics are made of.
pub struct Run<'a> {
    pub results: &'a [CheckResult],
    /// Each consumer's name ("" for `heartbeat check`) and its client certificate's last valid second.
    pub certificates: Vec<(String, i64)>,
    pub code: ExitCode,
    pub elapsed: Duration,
    /// When the run ended, in seconds since the epoch.
    pub now: f64,
}

/// Encodes a run in the text format.
pub fn text(run: &Run<'_>) -> String {
    let mut registry = Registry::with_prefix("heartbeat");
    let family = |registry: &mut Registry, name: &str, help: &str| {
        let family = Family::<CheckLabels, Float>::default();
        registry.register(name, help, family.clone());
        family
    };
    let up = family(
        &mut registry,
        "check_up",
        "Whether the check held (1) or failed (0) in the last run",
    );
    let latency = family(
        &mut registry,
        "check_latency_seconds",
        "How long the last attempt's answer took",
    );
    let attempts = family(
        &mut registry,
        "check_attempts",
        "Attempts the check made in the last run",
    );
    let status = family(
        &mut registry,
        "check_status_code",
        "The HTTP status of the last answer (0: no answer)",
    );
    let last_run = family(
        &mut registry,
        "check_last_run_timestamp_seconds",
        "When the check last ran, in seconds since the epoch",
    );
    for result in run.results.iter().filter(|r| r.skipped.is_none()) {
        let labels = CheckLabels {
            check: crate::state::key(result),
            consumer: result.consumer.clone().unwrap_or_default(),
        };
        let last = result.made().last();
        up.get_or_create(&labels)
            .set(f64::from(u8::from(result.failure().is_none())));
        latency
            .get_or_create(&labels)
            .set(last.map_or(0.0, |a| a.latency.as_secs_f64()));
        attempts
            .get_or_create(&labels)
            .set(result.attempts_made() as f64);
        status
            .get_or_create(&labels)
            .set(last.and_then(|a| a.status).map_or(0.0, f64::from));
        last_run.get_or_create(&labels).set(run.now);
    }
    let expiry = Family::<ConsumerLabels, Float>::default();
    registry.register(
        "client_certificate_expiry_timestamp_seconds",
        "When the client certificate the consumer presents expires, in seconds since the epoch",
        expiry.clone(),
    );
    for (consumer, not_after) in &run.certificates {
        let labels = ConsumerLabels {
            consumer: consumer.clone(),
        };
        expiry.get_or_create(&labels).set(*not_after as f64);
    }
    let plain = |registry: &mut Registry, name: &str, help: &str, value: f64| {
        let gauge = Float::default();
        gauge.set(value);
        registry.register(name, help, gauge);
    };
    plain(
        &mut registry,
        "run_exit_code",
        "The exit code of the last run (see heartbeat --help)",
        f64::from(run.code.code()),
    );
    plain(
        &mut registry,
        "run_duration_seconds",
        "How long the last run took",
        run.elapsed.as_secs_f64(),
    );
    plain(
        &mut registry,
        "run_timestamp_seconds",
        "When the last run ended, in seconds since the epoch",
        run.now,
    );
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// Writes the text atomically (the textfile collector must never read half a file).
pub fn write(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    crate::atomic_file::write(path, text.as_bytes(), 0o644)
}

/// Pushes the text to a Pushgateway, grouped under job "heartbeat" and the run's name.
pub async fn push(
    delivery: &Delivery,
    base: &SecretString,
    name: &str,
    text: String,
) -> Result<(), String> {
    use base64::Engine as _;
    let instance = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name);
    let url = SecretString::from(format!(
        "{}/metrics/job/heartbeat/instance@base64/{instance}",
        base.expose_secret().trim_end_matches('/')
    ));
    let message = Message {
        method: reqwest::Method::PUT,
        url: &url,
        content_type: "text/plain; version=0.0.4; charset=utf-8",
        body: text,
        bearer: None,
    };
    delivery
        .send(&message)
        .await?
        .accepted("the Pushgateway")
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::failure::FailureClass;
    use crate::probe::sample::{failing, passing};

    #[test]
    fn every_check_and_certificate_has_its_gauges() {
        let mut named = passing("prisoner \"A\"\nnew");
        named.consumer = Some("full-access".to_string());
        let results = [named, failing("locked", FailureClass::DoorOpen, "open")];
        let text = text(&Run {
            results: &results,
            certificates: vec![("full-access".to_string(), 1_900_000_000)],
            code: ExitCode::DoorOpen,
            elapsed: Duration::from_millis(1500),
            now: 1_800_000_000.0,
        });
        assert!(
            text.contains(
                r#"heartbeat_check_up{check="prisoner \"A\"\nnew",consumer="full-access"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"heartbeat_check_up{check="locked",consumer=""} 0"#));
        assert!(text.contains(r#"heartbeat_check_status_code{check="locked",consumer=""} 500"#));
        assert!(
            text.contains(r#"heartbeat_check_latency_seconds{check="locked",consumer=""} 0.012"#)
        );
        assert!(text.contains(
            r#"heartbeat_client_certificate_expiry_timestamp_seconds{consumer="full-access"} 1900000000"#
        ));
        assert!(text.contains("heartbeat_run_exit_code 5"));
        assert!(text.contains("heartbeat_run_duration_seconds 1.5"));
        assert!(text.contains("# TYPE heartbeat_check_up gauge"));
    }

    #[test]
    fn each_certificate_has_its_expiry_and_whether_it_needs_action() {
        let text = certificates_text(&[Certificate {
            env: "dev".into(),
            client: "alpha".into(),
            cn: "alpha".into(),
            not_after: 1_900_000_000,
            needs_action: true,
        }]);
        assert!(text.contains(
            r#"heartbeat_certificate_expiry_timestamp_seconds{env="dev",client="alpha",cn="alpha"} 1900000000"#
        ), "{text}");
        assert!(text.contains(
            r#"heartbeat_certificate_needs_action{env="dev",client="alpha",cn="alpha"} 1"#
        ));
    }

    #[test]
    fn a_skipped_check_has_no_gauges() {
        let mut skipped = passing("after");
        skipped.skipped = Some("needs login".to_string());
        let text = text(&Run {
            results: &[skipped],
            certificates: Vec::new(),
            code: ExitCode::Healthy,
            elapsed: Duration::ZERO,
            now: 0.0,
        });
        assert!(!text.contains("check=\"after\""), "{text}");
    }
}
