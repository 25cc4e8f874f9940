//! Who is on the other end of a sandbox connection, as the TLS layer tells it and the gateway passes it on.

use rustls::pki_types::CertificateDer;

/// What the TLS layer says about the client of a connection.
pub(super) struct Peer {
    pub(super) client: Option<Client>,
    pub(super) full_handshake: bool,
}

/// The client certificate, as the gateway passes it on: subject, CN and serial number.
pub(super) struct Client {
    pub(super) subject: String,
    pub(super) cn: Option<String>,
    /// The serial's big-endian two's-complement bytes (what the application's `BigInteger` makes of it).
    pub(super) serial: Vec<u8>,
}

/// Reads the client certificate's subject, CN and serial; `None` when it does not parse.
pub(super) fn subject(cert: &CertificateDer<'_>) -> Option<Client> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::prelude::X509Certificate::from_der(cert.as_ref()).ok()?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    Some(Client {
        subject: cert.subject().to_string(),
        cn,
        serial: cert.raw_serial().to_vec(),
    })
}
