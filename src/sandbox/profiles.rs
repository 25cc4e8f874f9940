//! The consumers the sandbox knows by default: the team's smoke-test profiles — full access, limited access,
//! no access, a revoked certificate, a suspended consumer — and `heartbeat`, each with the access the team's
//! configuration gives it, decided by the application's own rules (`crate::access`).

use crate::access::Rules;

/// A profile: its certificate's CN, and the prefixes of its variables in `--write-env` (`<PREFIX>_API_KEY`,
/// `_CERT`, `_KEY`): the k6-era names, and the GitHub secret names the team's smoke workflows use today. The
/// `heartbeat` consumer's variables are the plain `SERVICE_URL`, `API_KEY`, `MTLS_CERT`, `MTLS_KEY`.
pub const PROFILES: [(&str, &[&str]); 7] = [
    ("heartbeat", &[]),
    (
        "full-access",
        &["FULL_ACCESS", "DEV_SMOKE_TEST_FULL_ACCESS"],
    ),
    (
        "limited-access",
        &["LIMITED_ACCESS", "DEV_SMOKE_TEST_LIMITED_ACCESS"],
    ),
    ("no-access", &["NO_ACCESS", "DEV_SMOKE_TEST_NO_ACCESS"]),
    ("revoked", &["REVOKED", "DEV_SMOKE_TEST_REVOKED"]),
    ("suspended", &["SUSPENDED"]),
    ("smoke-minimal", &["PREPROD_SMOKE_TEST", "PROD_SMOKE_TEST"]),
];

/// The serial of the revoked profile's certificate: the team's own revoked smoke-test certificate (the first
/// entry of their revocation list, "Smoke test").
pub const REVOKED_SERIAL: [u8; 20] = [
    0x01, 0x7B, 0xEB, 0x77, 0x06, 0xDB, 0x11, 0xF5, 0x2E, 0xB6, 0xF7, 0x37, 0x7B, 0xA9, 0xE0, 0xE4,
    0x84, 0xC5, 0x2C, 0xA3,
];

/// The profiles' access: the team's roles for full access, the older `include` style for `heartbeat` and
/// limited access, a configuration with no permission for no access, and the revoked and suspended consumers
/// refused before their roles are looked at.
pub fn rules() -> Rules {
    Rules::default()
        .with("heartbeat", &["/v1/persons/[^/]*$"])
        .and_then(|r| r.with("limited-access", &["/v1/persons/{hmppsId}/name"]))
        .and_then(|r| r.with("no-access", &[]))
        .expect("the built-in patterns compile")
        .with_roles("full-access", &["full-access"])
        .with_roles("revoked", &["full-access"])
        .revoke(&REVOKED_SERIAL)
        .with_roles("suspended", &["full-access"])
        .suspend("suspended")
        .with_roles("smoke-minimal", &["reference-data-only"])
}
