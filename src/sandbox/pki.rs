//! A throwaway PKI for the sandbox: a CA, a server certificate and client certificates, generated at start
//! or signed by a CA the user gives (so certificates from the team's own script work too).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// A certificate and its private key, both PEM.
pub struct Pair {
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pair([redacted])")
    }
}

/// The sandbox's certificate authority and the certificates it issued.
pub struct Pki {
    pub ca_cert_pem: String,
    ca_cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    /// The server's certificate, for `localhost` and `127.0.0.1` unless told otherwise.
    pub server: Pair,
    /// A client certificate valid for a year, the one `--write-env` hands out.
    pub client: Pair,
}

/// The CN of the client certificate `--write-env` hands out: the `heartbeat` consumer, as in dev.
pub const CLIENT_NAME: &str = "heartbeat";

/// The names the server certificate covers by default.
pub const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

impl Pki {
    /// Generates a CA with a unique name, and a server and a client certificate signed by it.
    pub fn generate(server_names: &[&str]) -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::default();
        params.distinguished_name = name(&format!(
            "heartbeat sandbox CA {}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        (params.not_before, params.not_after) = around_now(-1, 3650);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Self::with_issuer(
            cert.pem(),
            cert.der().clone(),
            Issuer::new(params, key),
            server_names,
        )
    }

    /// Uses a given CA (PEM certificate and PKCS#8 key) to sign the server and client certificates.
    pub fn from_ca(
        ca_cert_pem: &str,
        ca_key_pem: &str,
        server_names: &[&str],
    ) -> Result<Self, rcgen::Error> {
        let key = KeyPair::from_pem(ca_key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, key)?;
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(ca_cert_pem.as_bytes())
            .map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
        Self::with_issuer(ca_cert_pem.to_string(), der, issuer, server_names)
    }

    fn with_issuer(
        ca_cert_pem: String,
        ca_cert_der: CertificateDer<'static>,
        issuer: Issuer<'static, KeyPair>,
        server_names: &[&str],
    ) -> Result<Self, rcgen::Error> {
        let names: Vec<String> = server_names.iter().map(|s| s.to_string()).collect();
        let mut server = CertificateParams::new(names)?;
        server.distinguished_name = name(server_names.first().copied().unwrap_or("localhost"));
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        (server.not_before, server.not_after) = around_now(-1, 365);
        let server = sign(&server, &issuer)?;
        let mut pki = Self {
            ca_cert_pem,
            ca_cert_der,
            issuer,
            server,
            client: Pair {
                cert_pem: String::new(),
                key_pem: Zeroizing::new(String::new()),
            },
        };
        pki.client = pki.issue_client(CLIENT_NAME, -1, 365)?;
        Ok(pki)
    }

    /// Issues a client certificate valid from `from_days` to `to_days` around now (negative is the past).
    pub fn issue_client(
        &self,
        common_name: &str,
        from_days: i64,
        to_days: i64,
    ) -> Result<Pair, rcgen::Error> {
        self.issue_client_with_serial(common_name, from_days, to_days, None)
    }

    /// Issues a client certificate as `issue_client` does, with this serial number when one is given.
    pub fn issue_client_with_serial(
        &self,
        common_name: &str,
        from_days: i64,
        to_days: i64,
        serial: Option<&[u8]>,
    ) -> Result<Pair, rcgen::Error> {
        let mut params = CertificateParams::default();
        params.serial_number = serial.map(rcgen::SerialNumber::from_slice);
        params.distinguished_name = name(common_name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        (params.not_before, params.not_after) = around_now(from_days, to_days);
        sign(&params, &self.issuer)
    }

    /// Returns the CA certificate in DER, for trust stores.
    pub fn ca_cert_der(&self) -> &CertificateDer<'static> {
        &self.ca_cert_der
    }
}

fn sign(params: &CertificateParams, issuer: &Issuer<'_, KeyPair>) -> Result<Pair, rcgen::Error> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok(Pair {
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

fn around_now(from_days: i64, to_days: i64) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    (
        now + Duration::days(from_days),
        now + Duration::days(to_days),
    )
}
