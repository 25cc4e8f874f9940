//! Makes server text safe to print: the server is untrusted, so its text is stripped of control and bidi
//! characters, folded onto one line, cut short, and any secret it echoes — raw, trimmed, JSON-escaped,
//! percent-encoded or base64 — is replaced.

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// Cleans untrusted text before it reaches a terminal, a JSON result or a JUnit file.
#[derive(Default, Clone)]
pub struct Redactor {
    search: Search,
}

/// What a redactor looks for.
#[derive(Default, Clone)]
enum Search {
    /// No secret: text passes unchanged.
    #[default]
    Nothing,
    Forms(Arc<Forms>),
    /// The secrets could not be made into a search: every text is redacted whole.
    Everything,
}

/// Every form of every secret, and an automaton over their first bytes that rules most texts out in one pass:
/// cleaning runs on every header line of every answer, and a search per form cost a suite of 55 checks a fifth
/// of its instructions. (An automaton over the whole forms — tens of kilobytes of PEM-derived text — cost more
/// to build than a run spends searching.)
struct Forms {
    all: Zeroizing<Vec<String>>,
    prefixes: AhoCorasick,
}

/// How many leading bytes of each form the first pass looks for.
const PREFIX: usize = 8;

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let forms = match &self.search {
            Search::Forms(forms) => forms.all.len(),
            _ => 0,
        };
        write!(f, "Redactor({forms} forms, [redacted])")
    }
}

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Shorter secrets are still redacted raw, but not in their encodings: a 3-character base64 form would
/// redact half of any text.
const MIN_ENCODED_LEN: usize = 6;

impl Redactor {
    /// Builds a redactor for these secret values.
    pub fn new(secrets: Vec<SecretString>) -> Self {
        let mut all = Zeroizing::new(Vec::new());
        for secret in &secrets {
            all.extend(forms(secret.expose_secret()).iter().cloned());
        }
        all.retain(|form| !form.is_empty());
        all.sort();
        all.dedup();
        if all.is_empty() {
            return Self::default();
        }
        let prefixes = all.iter().map(|f| &f.as_bytes()[..f.len().min(PREFIX)]);
        let search = match AhoCorasick::new(prefixes) {
            Ok(prefixes) => Search::Forms(Arc::new(Forms { all, prefixes })),
            // Building fails only past the crate's size limits, far beyond any set of secrets: then nothing
            // the server says is printed, rather than anything unredacted.
            Err(_) => Search::Everything,
        };
        Self { search }
    }

    /// Returns the text on one line, without control characters or secrets, at most `max_chars` long.
    /// JSON string escapes are decoded first, so an escaped echo of a secret is found too.
    pub fn clean(&self, text: &str, max_chars: usize) -> String {
        // Escapes can nest (a JSON string holding JSON): decode until nothing changes, a few rounds at most.
        let mut text = text.to_string();
        for _ in 0..4 {
            let decoded = crate::escape::unescape_json(&text);
            if decoded == text {
                break;
            }
            text = decoded;
        }
        let text = fold(&text);
        let text = self.replace_all(text);
        match text.char_indices().nth(max_chars) {
            Some((index, _)) => format!("{}…", &text[..index]),
            None => text,
        }
    }

    /// Replaces every form of every secret and changes nothing else (for text that must stay JSON).
    pub fn redact(&self, text: &str) -> String {
        self.replace_all(text.to_string())
    }

    /// Redacts before cutting, so no prefix of a secret survives at the cut. Every occurrence of every form
    /// counts, overlapping ones too, and each run of overlapping occurrences becomes one `[redacted]`: no part
    /// of any secret survives, whichever of two overlapping secrets starts first.
    fn replace_all(&self, text: String) -> String {
        let forms = match &self.search {
            Search::Nothing => return text,
            Search::Everything => return REDACTED.to_string(),
            Search::Forms(forms) if !forms.prefixes.is_match(&text) => return text,
            Search::Forms(forms) => forms,
        };
        let mut found: Vec<(usize, usize)> = forms
            .all
            .iter()
            .flat_map(|form| text.match_indices(form.as_str()))
            .map(|(start, form)| (start, start + form.len()))
            .collect();
        found.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut spans = found.into_iter().peekable();
        while let Some((start, mut end)) = spans.next() {
            while let Some(&(next, next_end)) = spans.peek() {
                if next > end {
                    break;
                }
                end = end.max(next_end);
                spans.next();
            }
            out.push_str(&text[at..start]);
            out.push_str(REDACTED);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// Returns a URL as it may be printed: no userinfo, percent-decoded, then cleaned.
pub fn display_url(redactor: &Redactor, url: &reqwest::Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        // Only fails for URLs that cannot have userinfo, which then have none.
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    let decoded = crate::escape::percent_decode(url.as_str());
    redactor.clean(&decoded, 4096)
}

/// Returns text safe for a terminal: control, bidi and invisible formatting characters become spaces, and
/// runs of whitespace fold to one.
pub fn printable(text: &str) -> String {
    fold(text)
}

fn fold(text: &str) -> String {
    // Most text (keys, base64, URLs) is printable ASCII without spaces: nothing to fold.
    if text.bytes().all(|b| b.is_ascii_graphic()) {
        return text.to_string();
    }
    text.chars()
        .map(|c| if is_unsafe(c) { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Control characters, the characters that can reorder what a terminal shows (Unicode's Bidi_Control) or that
/// render as nothing (Default_Ignorable_Code_Point: soft hyphens, joiners, tags, variation selectors…), and
/// what XML 1.0 cannot carry (noncharacters such as U+FFFE): the complete sets, from ICU4X's property data.
pub(crate) fn is_unsafe(c: char) -> bool {
    use icu_properties::CodePointSetData;
    use icu_properties::props::{BidiControl, DefaultIgnorableCodePoint, NoncharacterCodePoint};
    // None of the three sets has an ASCII member: most text never needs the tables.
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || CodePointSetData::new::<BidiControl>().contains(c)
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || CodePointSetData::new::<NoncharacterCodePoint>().contains(c)
}

/// Every form in which an echo of `secret` can reach printable text.
fn forms(secret: &str) -> Zeroizing<Vec<String>> {
    let folded = fold(secret);
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let mut forms = vec![
        secret.to_string(),
        secret.trim().to_string(),
        folded.clone(),
        json.replace('/', "\\/"),
        json,
    ];
    if secret.chars().count() >= MIN_ENCODED_LEN {
        let values = if folded == secret {
            vec![secret]
        } else {
            vec![secret, folded.as_str()]
        };
        for value in values {
            forms.push(percent_encode(value, false));
            forms.push(percent_encode(value, true));
            forms.push(percent_encode(value, false).replace("%20", "+"));
            let b64 = base64::engine::general_purpose::STANDARD.encode(value);
            forms.push(b64.trim_end_matches('=').to_string());
            let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value);
            forms.push(url_safe);
        }
    }
    Zeroizing::new(forms)
}

fn percent_encode(value: &str, lower: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            // Built by hand: a format! per byte made this the costliest part of building a redactor.
            let digits: &[u8; 16] = if lower {
                b"0123456789abcdef"
            } else {
                b"0123456789ABCDEF"
            };
            out.push('%');
            out.push(char::from(digits[usize::from(byte >> 4)]));
            out.push(char::from(digits[usize::from(byte & 0xf)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secret: &str) -> Redactor {
        Redactor::new(vec![SecretString::from(secret.to_string())])
    }

    #[test]
    fn strips_controls_folds_lines_and_redacts() {
        let cleaned = redactor("s3cret-key").clean("bad key\n\t\x1b[31ms3cret-key\x07 here", 100);
        assert_eq!(cleaned, "bad key [31m[redacted] here");
    }

    #[test]
    fn cuts_long_text_after_redacting() {
        assert_eq!(redactor("abcdefgh").clean("xxabcdefgh", 4), "xx[r…");
        assert_eq!(redactor("abcdefgh").clean("short", 10), "short");
    }

    #[test]
    fn finds_every_encoding_of_a_secret() {
        let secret = "k+y/\"q\\=9";
        let r = redactor(secret);
        let echoes = [
            r#"{"m":"k+y\/\"q\\=9"}"#.to_string(),
            r#"{"m":"\u006b\u002by/\"q\\=9"}"#.to_string(),
            "x=k%2By%2F%22q%5C%3D9".to_string(),
            "x=k%2by%2f%22q%5c%3d9".to_string(),
            base64::engine::general_purpose::STANDARD.encode(secret),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        ];
        for echo in echoes {
            let cleaned = r.clean(&echo, 500);
            assert!(cleaned.contains(REDACTED), "{echo} -> {cleaned}");
            assert!(!cleaned.contains(secret), "{echo} -> {cleaned}");
        }
    }

    #[test]
    fn overlapping_secrets_are_redacted_whole_whichever_starts_first() {
        let r = Redactor::new(vec![
            SecretString::from("EFGH-secret-two".to_string()),
            SecretString::from("one-secret-EFGH".to_string()),
        ]);
        // The shorter-starting one first, the longer later: no part of either survives.
        assert_eq!(r.redact("<one-secret-EFGH-secret-two>"), "<[redacted]>");
        // Apart, each is redacted in its place and the text between them kept.
        assert_eq!(
            r.redact("a one-secret-EFGH b EFGH-secret-two c"),
            "a [redacted] b [redacted] c"
        );
        assert_eq!(r.redact("no secret here"), "no secret here");
        // Touching, not overlapping: one redaction still, so no reader can tell where one ends.
        assert_eq!(r.redact("<one-secret-EFGHEFGH-secret-two>"), "<[redacted]>");
        // Shown in a debug print only as a count, never a secret.
        let shown = format!("{r:?}");
        assert!(
            shown.starts_with("Redactor(") && shown.ends_with(" forms, [redacted])"),
            "{shown}"
        );
        assert!(
            !shown.starts_with("Redactor(0 "),
            "its forms are counted: {shown}"
        );
        assert_eq!(
            format!("{:?}", Redactor::default()),
            "Redactor(0 forms, [redacted])"
        );
        assert!(!shown.contains("EFGH"), "{shown}");
        assert_eq!(
            Redactor::default().redact("EFGH-secret-two"),
            "EFGH-secret-two"
        );
    }

    #[test]
    fn ascii_is_unsafe_exactly_when_it_is_a_control_as_the_tables_say() {
        use icu_properties::CodePointSetData;
        use icu_properties::props::{
            BidiControl, DefaultIgnorableCodePoint, NoncharacterCodePoint,
        };
        for c in (0u8..128).map(char::from) {
            let in_tables = CodePointSetData::new::<BidiControl>().contains(c)
                || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
                || CodePointSetData::new::<NoncharacterCodePoint>().contains(c);
            assert!(!in_tables, "U+{:04X} is in a table", c as u32);
            assert_eq!(is_unsafe(c), c.is_control(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn a_secret_that_folding_changes_is_found_in_the_encodings_of_both_forms() {
        let r = redactor("abc\tdef-123");
        // Percent-encoded as folded ("abc def-123") and as given (the tab as %09).
        assert_eq!(r.redact("x=abc%20def-123"), "x=[redacted]");
        assert_eq!(r.redact("x=abc%09def-123"), "x=[redacted]");
        assert_eq!(r.redact("x=abc%20xyz-123"), "x=abc%20xyz-123");
    }

    #[test]
    fn a_key_with_inner_whitespace_is_found_as_sent() {
        let r = redactor("abc\tdef-123 ");
        assert_eq!(r.clean("got abc def-123!", 100), "got [redacted]!");
    }

    #[test]
    fn bidi_and_invisible_characters_are_removed() {
        let cleaned = redactor("zzzzzz").clean("a\u{202E}b\u{2066}c\u{200B}d", 100);
        assert_eq!(cleaned, "a b c d");
        // The rest of Bidi_Control and Default_Ignorable_Code_Point, tags, and what XML 1.0 cannot carry.
        for c in [
            '\u{061C}',
            '\u{00AD}',
            '\u{2060}',
            '\u{180E}',
            '\u{034F}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
            '\u{FE0F}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{1FFFE}',
            '\u{FDD0}',
            '\u{1B}',
            '\u{7}',
            '\u{0}',
            '\u{85}',
        ] {
            assert!(is_unsafe(c), "U+{:04X}", c as u32);
            assert_eq!(printable(&format!("a{c}b")), "a b", "U+{:04X}", c as u32);
        }
        // The other side: letters of every script, signs and symbols stay as they are.
        for kept in ["é", "中文", "عربي", "👍", "—", "€", "ß", "\u{1F600}"] {
            assert_eq!(printable(kept), kept);
            assert!(kept.chars().all(|c| !is_unsafe(c)));
        }
    }

    #[test]
    fn urls_lose_userinfo_and_are_redacted_after_decoding() {
        let r = redactor("k+y/=9abc");
        let url = reqwest::Url::parse("https://user:pa55@api.test/v1?key=k%2By%2F%3D9abc").unwrap();
        let shown = display_url(&r, &url);
        assert_eq!(shown, "https://api.test/v1?key=[redacted]");
        // A user alone, or a password alone, is userinfo too.
        for alone in [
            "https://secret-user@api.test/v1",
            "https://:secret-pass@api.test/v1",
        ] {
            let url = reqwest::Url::parse(alone).unwrap();
            assert_eq!(display_url(&r, &url), "https://api.test/v1", "{alone}");
        }
    }
}
