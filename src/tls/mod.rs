//! Certificates and keys: reading every form users have (base64 of PEM, PEM, a path), the client identity and
//! trust store a connection uses, and `cert inspect`'s report.

pub mod identity;
pub mod input;
pub mod inspection;
