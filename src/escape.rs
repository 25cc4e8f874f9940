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
