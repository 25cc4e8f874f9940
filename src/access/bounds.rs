//! What a configuration file may cost before the YAML parser sees it: its size, how deep `[`/`{` nest and how
//! far lines are indented — checked cheaply, so a hostile file is refused before it can slow the parser.

/// The largest consumers file read: the team's has dozens of consumers, a few KiB.
pub const MAX_FILE: usize = 1024 * 1024;
/// The deepest nesting of flow collections (`[`, `{`) and the widest indentation accepted. The YAML parser is
/// slow on pathological nesting (100,000 brackets took 43 s), and no real configuration nests like that; alias
/// expansion ("billion laughs") is bounded by the parser itself.
const MAX_FLOW_DEPTH: usize = 64;
const MAX_INDENT: usize = 256;

/// Reads a configuration file (the consumers, roles, routes or fixtures), never more than `MAX_FILE` and one
/// byte: a larger file is refused without being read whole. The error names the kind of failure.
pub fn read_file(path: &std::path::Path) -> Result<String, String> {
    crate::bounded_file::read_text(path, MAX_FILE as u64)
        .map_err(|why| why.describe(&format!("{MAX_FILE} bytes")))
}

/// Refuses, cheaply and before parsing, a file too large, nested too deeply or indented too far.
pub(crate) fn bounded(text: &str) -> Result<(), String> {
    if text.len() > MAX_FILE {
        return Err(format!("the file is larger than {MAX_FILE} bytes"));
    }
    let mut depth = 0usize;
    for (number, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if indent > MAX_INDENT {
            return Err(format!(
                "line {} is indented by more than {MAX_INDENT} columns",
                number + 1
            ));
        }
        let mut quote = None;
        for c in line.chars() {
            match (quote, c) {
                (None, '#') => break,
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_FLOW_DEPTH {
                return Err(format!(
                    "line {} nests [ ] or {{ }} more than {MAX_FLOW_DEPTH} deep",
                    number + 1
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_consumers_file_may_cost_is_bounded_before_parsing() {
        let team = "authorisation:\n  consumers:\n    a:\n      include: [\"/v1/[^/]*$\", '/v1/\\[x\\]{1}'] # [[[\n";
        assert_eq!(
            bounded(team),
            Ok(()),
            "brackets in strings and comments do not count"
        );
        assert!(super::super::Rules::from_yaml(team).is_ok());
        let nested = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(bounded(&nested(MAX_FLOW_DEPTH)), Ok(()));
        assert!(
            bounded(&nested(MAX_FLOW_DEPTH + 1))
                .unwrap_err()
                .contains("nests")
        );
        // Brackets inside a quoted string or a comment do not count; after the string ends, they do again.
        let deep = "[".repeat(MAX_FLOW_DEPTH + 1);
        assert_eq!(
            bounded(&format!("a: '{deep}'\nb: \"{deep}\"\n# {deep}\n")),
            Ok(())
        );
        assert!(bounded(&format!("a: 'q' {deep}\n")).is_err());
        assert!(bounded(&format!("a: \"q\" {deep}\n")).is_err());
        // Depth is how far collections nest, not how many there are: closed ones no longer count.
        let many = "a: [1]\nb: {c: [2]}\n".repeat(MAX_FLOW_DEPTH);
        assert_eq!(bounded(&many), Ok(()));
        let indented = |n: usize| format!("a:\n{}b: 1\n", " ".repeat(n));
        assert_eq!(bounded(&indented(MAX_INDENT)), Ok(()));
        assert!(
            bounded(&indented(MAX_INDENT + 1))
                .unwrap_err()
                .contains("indented")
        );
        let large = format!("# {}\n", "x".repeat(MAX_FILE));
        assert!(bounded(&large).unwrap_err().contains("larger than"));
        assert_eq!(bounded(&large[..MAX_FILE]), Ok(()));
    }
}
