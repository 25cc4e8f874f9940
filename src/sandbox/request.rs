//! A request as the sandbox's routes see it: what the gateway passes on to the application.

use std::collections::HashMap;

/// The parts of a request the routes look at.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: HashMap<String, String>,
    pub api_key: Option<&'a str>,
    pub on_behalf_of: Option<&'a str>,
    /// The client certificate's CN, as the application reads it.
    pub consumer: Option<&'a str>,
    /// The client certificate's serial number, as big-endian two's-complement bytes.
    pub serial: Option<&'a [u8]>,
    pub body: &'a [u8],
}
