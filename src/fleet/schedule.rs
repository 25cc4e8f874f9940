//! Judging one certificate on one day: expired (told every day), on an alert day (the team's 30, 21, 14, 7 …
//! 0 days left, `--alert-days`' default), expiring (inside the window, not an alert day), revoked (on the revocation list: reported,
//! never nagged), ignored (until its date), not issued by the CA, or fine. Days left count as the team's job
//! counts them: whole days, rounded down.

use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::ignore::Ignore;
use super::tree::{Found, Source};

/// What a certificate needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    // In order of urgency: the table sorts by it.
    Expired,
    Unreadable,
    /// Not issued by the CA given.
    Foreign,
    /// On an alert day.
    Alert,
    /// Inside the alert window, not on an alert day.
    Expiring,
    Revoked,
    Ignored,
    Ok,
}

impl State {
    /// Every state, in order of urgency.
    pub const ALL: [Self; 8] = [
        Self::Expired,
        Self::Unreadable,
        Self::Foreign,
        Self::Alert,
        Self::Expiring,
        Self::Revoked,
        Self::Ignored,
        Self::Ok,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Unreadable => "unreadable",
            Self::Foreign => "not from the CA",
            Self::Alert => "alert",
            Self::Expiring => "expiring",
            Self::Revoked => "revoked",
            Self::Ignored => "ignored",
            Self::Ok => "ok",
        }
    }

    /// Tells whether the state is told in the day's message.
    pub fn tells(self) -> bool {
        matches!(
            self,
            Self::Expired | Self::Unreadable | Self::Foreign | Self::Alert
        )
    }
}

/// What the judging knows besides the certificate.
pub struct Rules<'a> {
    pub now: i64,
    pub alert_days: &'a [i64],
    /// Upper-case colon hex serials (the application's format).
    pub revoked: &'a [String],
    /// The CA's certificate (DER), to check each client certificate was issued by it.
    pub ca: Option<&'a [u8]>,
    pub ignores: &'a [Ignore],
}

/// One certificate, judged.
#[derive(Debug, Clone)]
pub struct Judged {
    pub source: Source,
    pub cn: String,
    pub serial: String,
    /// The last valid second, since the epoch.
    pub not_after: i64,
    pub days_left: i64,
    pub state: State,
    /// Why, in words: the error, the ignore's reason, an ignore whose date has passed.
    pub note: String,
}

/// Judges a certificate.
pub fn judge(found: &Found, rules: &Rules<'_>) -> Judged {
    let mut judged = Judged {
        source: found.source.clone(),
        cn: String::new(),
        serial: String::new(),
        not_after: 0,
        days_left: 0,
        state: State::Unreadable,
        note: String::new(),
    };
    let der = match &found.certificate {
        Ok(der) => der,
        Err(why) => {
            judged.note = why.clone();
            return judged;
        }
    };
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        judged.note = "is not a valid X.509 certificate".to_string();
        return judged;
    };
    judged.cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(crate::redact::printable)
        .unwrap_or_default();
    judged.serial = crate::access::serial_hex(cert.raw_serial());
    judged.not_after = cert.validity().not_after.timestamp();
    judged.days_left = (judged.not_after - rules.now).div_euclid(86_400);
    let source = &found.source;
    let ignore = rules
        .ignores
        .iter()
        .find(|i| i.names(&source.env, &source.client));
    judged.state = if rules
        .revoked
        .iter()
        .any(|r| r.eq_ignore_ascii_case(&judged.serial))
    {
        State::Revoked
    } else if let Some(ignore) = ignore.filter(|i| rules.now < i.ends) {
        judged.note = format!("ignored until {}: {}", ignore.until, ignore.reason);
        State::Ignored
    } else if rules.ca.is_some_and(|ca| !issued_by(&cert, ca)) {
        State::Foreign
    } else if judged.not_after < rules.now {
        State::Expired
    } else if rules.alert_days.contains(&judged.days_left) {
        State::Alert
    } else if rules.alert_days.iter().any(|d| judged.days_left <= *d) {
        State::Expiring
    } else {
        State::Ok
    };
    if let Some(ignore) = ignore.filter(|i| rules.now >= i.ends) {
        judged.note = format!(
            "the ignore ended on {} ({}): judged again",
            ignore.until, ignore.reason
        );
    }
    judged
}

/// Tells whether the CA signed the certificate (its key verifies the signature).
fn issued_by(cert: &X509Certificate<'_>, ca: &[u8]) -> bool {
    let Ok((_, ca)) = X509Certificate::from_der(ca) else {
        return false;
    };
    cert.verify_signature(Some(ca.public_key())).is_ok()
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    /// The team's alert days (`warn_days` in `check_certs_expiry.sh`), `--alert-days`' default.
    const DEFAULT_ALERT_DAYS: [i64; 11] = [30, 21, 14, 7, 6, 5, 4, 3, 2, 1, 0];

    /// One client certificate from the sandbox's PKI, made once for all the tests here.
    fn certificate() -> &'static (Found, i64) {
        static MADE: std::sync::OnceLock<(Found, i64)> = std::sync::OnceLock::new();
        MADE.get_or_init(|| {
            let pki = crate::sandbox::pki::Pki::generate(&["localhost"]).unwrap();
            let der =
                crate::tls::input::parse_certificates("t", pki.client.cert_pem.as_bytes()).unwrap();
            let (_, cert) = X509Certificate::from_der(&der[0]).unwrap();
            let not_after = cert.validity().not_after.timestamp();
            let found = Found {
                source: Source {
                    path: "dev/tester/client.pem".into(),
                    env: "dev".into(),
                    client: "tester".into(),
                },
                certificate: Ok(der[0].as_ref().to_vec()),
            };
            (found, not_after)
        })
    }

    /// Judges the certificate `offset` seconds before it expires.
    fn judged_at(offset: i64, ignores: &[Ignore], revoked: &[String]) -> Judged {
        let (found, not_after) = certificate();
        let rules = Rules {
            now: not_after - offset,
            alert_days: &DEFAULT_ALERT_DAYS,
            revoked,
            ca: None,
            ignores,
        };
        judge(found, &rules)
    }

    #[test]
    fn each_state_has_its_word_and_only_the_urgent_ones_are_told() {
        let words: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            words,
            [
                "expired",
                "unreadable",
                "not from the CA",
                "alert",
                "expiring",
                "revoked",
                "ignored",
                "ok"
            ]
        );
    }

    #[test]
    fn the_teams_four_cases() {
        // A warning day: 14 days and an hour left (Oct 09 09:32 → Oct 23 10:32) alerts, "in 14 days".
        let warned = judged_at(14 * DAY + 3600, &[], &[]);
        assert_eq!((warned.state, warned.days_left), (State::Alert, 14));
        // A non-warning day: 15 days and an hour left stays quiet (expiring, not told).
        let quiet = judged_at(15 * DAY + 3600, &[], &[]);
        assert_eq!((quiet.state, quiet.days_left), (State::Expiring, 15));
        assert!(!quiet.state.tells());
        // Expired a day ago: the team's job says nothing (its test asserts silence); heartbeat tells it every day.
        let expired = judged_at(-(DAY - 3600), &[], &[]);
        assert_eq!(expired.state, State::Expired);
        assert!(expired.state.tells());
        // An ignored client stays quiet while its ignore holds.
        let ignore = Ignore {
            client: "dev/tester".into(),
            reason: "leaving".into(),
            until: "x".into(),
            ends: i64::MAX,
        };
        assert_eq!(
            judged_at(14 * DAY + 3600, &[ignore], &[]).state,
            State::Ignored
        );
    }

    #[test]
    fn day_boundaries_count_whole_days_down() {
        assert_eq!(judged_at(0, &[], &[]).days_left, 0);
        assert_eq!(judged_at(0, &[], &[]).state, State::Alert);
        assert_eq!(judged_at(DAY - 1, &[], &[]).days_left, 0);
        assert_eq!(judged_at(DAY, &[], &[]).days_left, 1);
        assert_eq!(judged_at(30 * DAY, &[], &[]).state, State::Alert);
        assert_eq!(judged_at(31 * DAY, &[], &[]).state, State::Ok);
        assert_eq!(judged_at(22 * DAY, &[], &[]).state, State::Expiring);
        let just_expired = judged_at(-1, &[], &[]);
        assert_eq!(
            (just_expired.state, just_expired.days_left),
            (State::Expired, -1)
        );
    }

    #[test]
    fn revoked_wins_and_an_ended_ignore_is_judged_again_and_said() {
        let fresh = judged_at(14 * DAY, &[], &[]);
        let revoked = judged_at(14 * DAY, &[], &[fresh.serial.to_ascii_lowercase()]);
        assert_eq!(revoked.state, State::Revoked);
        assert!(!revoked.state.tells());
        let ended = Ignore {
            client: "tester".into(),
            reason: "leaving".into(),
            until: "2020-01-01".into(),
            ends: 0,
        };
        let judged = judged_at(14 * DAY, &[ended], &[]);
        assert_eq!(judged.state, State::Alert);
        assert!(
            judged
                .note
                .contains("the ignore ended on 2020-01-01 (leaving)"),
            "{}",
            judged.note
        );
        let other = Ignore {
            client: "prod/tester".into(),
            reason: "r".into(),
            until: "x".into(),
            ends: i64::MAX,
        };
        assert_eq!(judged_at(14 * DAY, &[other], &[]).state, State::Alert);
    }

    #[test]
    fn an_ignore_holds_up_to_the_second_before_its_end() {
        let (_, not_after) = certificate();
        let ends = not_after - 14 * DAY;
        let at_end = Ignore {
            client: "tester".into(),
            reason: "r".into(),
            until: "x".into(),
            ends,
        };
        assert_eq!(
            judged_at(14 * DAY, std::slice::from_ref(&at_end), &[]).state,
            State::Alert
        );
        let before = Ignore {
            ends: ends + 1,
            ..at_end
        };
        assert_eq!(judged_at(14 * DAY, &[before], &[]).state, State::Ignored);
    }

    #[test]
    fn a_certificate_from_another_ca_is_named() {
        let pki = crate::sandbox::pki::Pki::generate(&["localhost"]).unwrap();
        let other = crate::sandbox::pki::Pki::generate(&["localhost"]).unwrap();
        let der = |pem: &str| {
            crate::tls::input::parse_certificates("t", pem.as_bytes()).unwrap()[0]
                .as_ref()
                .to_vec()
        };
        let found = Found {
            source: Source {
                path: "c.pem".into(),
                env: String::new(),
                client: "c".into(),
            },
            certificate: Ok(der(&pki.client.cert_pem)),
        };
        let ca = der(&pki.ca_cert_pem);
        let foreign_ca = der(&other.ca_cert_pem);
        let rules = |ca| Rules {
            now: 0,
            alert_days: &DEFAULT_ALERT_DAYS,
            revoked: &[],
            ca,
            ignores: &[],
        };
        assert_eq!(judge(&found, &rules(Some(&ca))).state, State::Ok);
        assert_eq!(
            judge(&found, &rules(Some(&foreign_ca))).state,
            State::Foreign
        );
        let unreadable = Found {
            certificate: Err("holds no certificate".into()),
            ..found
        };
        let judged = judge(&unreadable, &rules(None));
        assert_eq!(
            (judged.state, judged.note.as_str()),
            (State::Unreadable, "holds no certificate")
        );
    }
}
