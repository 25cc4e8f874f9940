//! A missed run is noticed: a dead man's switch (healthchecks.io's convention) hears from every run — the URL
//! on success, `URL/fail` on failure, `URL/start` when asked before the checks — so a schedule that stopped
//! (a suspended CronJob, a disabled workflow) is noticed by the switch's silence. A ping is bounded in time and
//! never changes the verdict; its URL is a secret.

use secrecy::{ExposeSecret, SecretString};

use crate::delivery::{Delivery, Message};

/// The variable that may hold the ping URL instead of `--ping`.
pub const HEARTBEAT_PING_URL: &str = "HEARTBEAT_PING_URL";

/// Which ping a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Start,
    Success,
    Fail,
}

/// The URL a ping of this kind goes to.
pub fn url(base: &SecretString, signal: Signal) -> SecretString {
    let base = base.expose_secret().trim_end_matches('/');
    SecretString::from(match signal {
        Signal::Start => format!("{base}/start"),
        Signal::Success => base.to_string(),
        Signal::Fail => format!("{base}/fail"),
    })
}

/// Sends a ping with a short line of what happened (healthchecks.io shows a POST's body in its log).
pub async fn send(
    delivery: &Delivery,
    base: &SecretString,
    signal: Signal,
    summary: String,
) -> Result<(), String> {
    let url = url(base, signal);
    let message = Message {
        method: reqwest::Method::POST,
        url: &url,
        content_type: "text/plain; charset=utf-8",
        body: summary,
        bearer: None,
    };
    delivery
        .send(&message)
        .await?
        .accepted("the ping receiver")
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_has_its_path() {
        let base = SecretString::from("https://hc-ping.example/uuid/".to_string());
        let url = |s| url(&base, s).expose_secret().to_string();
        assert_eq!(url(Signal::Success), "https://hc-ping.example/uuid");
        assert_eq!(url(Signal::Fail), "https://hc-ping.example/uuid/fail");
        assert_eq!(url(Signal::Start), "https://hc-ping.example/uuid/start");
    }
}
