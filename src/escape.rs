//! Undoing the escapes a server's text may carry — `%XX` in a URL, `\uXXXX` and friends in JSON strings — so
//! the redactor looks at what a reader would see. Invalid escapes stay as they were.

/// Decodes `%XX` sequences; invalid ones and non-UTF-8 results are kept as they were.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Decodes JSON string escapes wherever they appear (`\"`, `\\`, `\/`, `\n`, `\uXXXX` with surrogate pairs);
/// anything that is not a valid escape is kept as it was.
pub(crate) fn unescape_json(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(e @ ('"' | '\\' | '/')) => {
                chars.next();
                out.push(e);
            }
            Some('n' | 'r' | 't' | 'b' | 'f') => {
                chars.next();
                out.push(' ');
            }
            Some('u') => match unicode_escape(&mut chars) {
                Some(decoded) => out.push(decoded),
                None => out.push('\\'),
            },
            _ => out.push('\\'),
        }
    }
    out
}

/// Reads `uXXXX` (and a following `\uXXXX` low surrogate) after a backslash; leaves the input untouched on failure.
fn unicode_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
    let ahead: String = chars.clone().take(11).collect();
    let unit = |s: &str| u16::from_str_radix(s.get(1..5)?, 16).ok();
    let high = unit(&ahead)?;
    if (0xD800..0xDC00).contains(&high) {
        let low = ahead
            .get(5..7)
            .filter(|s| *s == "\\u")
            .and(unit(ahead.get(6..)?))?;
        let decoded = char::decode_utf16([high, low]).next()?.ok()?;
        chars.nth(10);
        return Some(decoded);
    }
    let decoded = char::from_u32(u32::from(high))?;
    chars.nth(4);
    Some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_anywhere_and_invalid_ones_stay() {
        assert_eq!(percent_decode("%41"), "A");
        assert_eq!(percent_decode("a%41b%2fc"), "aAb/c");
        assert_eq!(percent_decode("%41%42%43"), "ABC");
        assert_eq!(percent_decode("x%4"), "x%4");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        assert_eq!(percent_decode("100%"), "100%");
        // A byte sequence that is not UTF-8 keeps the whole text as it was.
        assert_eq!(percent_decode("a%ffb%41"), "a%ffb%41");
        assert_eq!(percent_decode("%C3%A9"), "\u{e9}");
    }

    #[test]
    fn json_escapes_decode_and_invalid_ones_keep_their_backslash() {
        assert_eq!(unescape_json("plain"), "plain");
        assert_eq!(unescape_json(r#"a\"b\\c\/d"#), r#"a"b\c/d"#);
        assert_eq!(unescape_json(r"a\nb\rc\td\be\ff"), "a b c d e f");
        assert_eq!(unescape_json(r"\u0041\u00e9"), "A\u{e9}");
        assert_eq!(unescape_json(r"\ud83d\ude00!"), "\u{1f600}!");
        // A high surrogate without its low half, a short escape, an unknown one: kept as written.
        assert_eq!(unescape_json(r"\ud83dx"), r"\ud83dx");
        assert_eq!(unescape_json(r"\ud83d\u0041"), r"\ud83dA");
        assert_eq!(unescape_json(r"\u00"), r"\u00");
        assert_eq!(unescape_json(r"\q"), r"\q");
        assert_eq!(unescape_json("end\\"), "end\\");
    }
}
