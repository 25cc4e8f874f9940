//! Verifies client certificates the way nginx (OpenSSL) does for the real API: signed by the CA and within
//! their dates, X.509 v1 included. rustls' own verifier (webpki) refuses v1, which the team's certificates
//! are, so the sandbox checks the chain with x509-parser and the handshake signature against the raw key.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, verify_tls13_signature_with_raw_key};
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, PeerIncompatible,
    SignatureScheme,
};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Accepts client certificates issued directly by one CA.
#[derive(Debug)]
pub struct ClientVerifier {
    ca_der: CertificateDer<'static>,
    hints: Vec<DistinguishedName>,
    provider: Arc<CryptoProvider>,
}

impl ClientVerifier {
    /// Builds the verifier for a CA certificate.
    pub fn new(
        ca_der: CertificateDer<'static>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, Error> {
        let (_, ca) = X509Certificate::from_der(ca_der.as_ref())
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let hints = vec![DistinguishedName::from(ca.subject().as_raw().to_vec())];
        Ok(Self {
            ca_der,
            hints,
            provider,
        })
    }
}

fn parse<'a>(der: &'a CertificateDer<'_>) -> Result<X509Certificate<'a>, Error> {
    X509Certificate::from_der(der.as_ref())
        .map(|(_, cert)| cert)
        .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))
}

impl ClientCertVerifier for ClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let ca = parse(&self.ca_der)?;
        let cert = parse(end_entity)?;
        if cert.issuer().as_raw() != ca.subject().as_raw() {
            return Err(Error::InvalidCertificate(CertificateError::UnknownIssuer));
        }
        cert.verify_signature(Some(ca.public_key()))
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadSignature))?;
        let now = now.as_secs() as i64;
        if now > cert.validity().not_after.timestamp() {
            return Err(Error::InvalidCertificate(CertificateError::Expired));
        }
        if now < cert.validity().not_before.timestamp() {
            return Err(Error::InvalidCertificate(CertificateError::NotValidYet));
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        // The sandbox only speaks TLS 1.3 (see `server_config`), so this is never reached.
        Err(Error::PeerIncompatible(PeerIncompatible::Tls12NotOffered))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let cert = parse(cert)?;
        let spki = SubjectPublicKeyInfoDer::from(cert.public_key().raw);
        verify_tls13_signature_with_raw_key(
            message,
            &spki,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
