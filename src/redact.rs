//! Makes server text safe to print: the server is untrusted, so its text is stripped of control characters,
//! folded onto one line, cut short, and any secret it echoes is replaced.

use secrecy::{ExposeSecret, SecretString};

/// Cleans untrusted text before it reaches a terminal, a JSON result or a JUnit file.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<SecretString>,
}

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

impl Redactor {
    /// Builds a redactor for these secret values.
    pub fn new(secrets: Vec<SecretString>) -> Self {
        Self { secrets }
    }

    /// Returns the text on one line, without control characters or secrets, at most `max_chars` long.
    pub fn clean(&self, text: &str, max_chars: usize) -> String {
        let mut text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        // Redact before cutting, so no prefix of a secret survives at the cut.
        for secret in &self.secrets {
            text = text.replace(secret.expose_secret(), REDACTED);
        }
        match text.char_indices().nth(max_chars) {
            Some((index, _)) => format!("{}…", &text[..index]),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_folds_lines_and_redacts() {
        let redactor = Redactor::new(vec![SecretString::from("s3cret-key".to_string())]);
        let cleaned = redactor.clean("bad key\n\t\x1b[31ms3cret-key\x07 here", 100);
        assert_eq!(cleaned, "bad key [31m[redacted] here");
    }

    #[test]
    fn cuts_long_text_after_redacting() {
        let redactor = Redactor::new(vec![SecretString::from("abcdefgh".to_string())]);
        assert_eq!(redactor.clean("xxabcdefgh", 4), "xx[r…");
        assert_eq!(redactor.clean("short", 10), "short");
    }
}
