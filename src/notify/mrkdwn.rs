//! Slack's markup (mrkdwn) made safe and bounded: the three characters that make mentions and links escaped,
//! text cut by its escaped width, lines packed into sections within Slack's limits (the last saying how many
//! were left out), and durations in words.

use std::time::Duration;

/// Slack's limit on a section's text.
pub(super) const SECTION_MAX: usize = 3000;
/// Sections of lines at most (Slack allows 50 blocks in all).
pub(super) const MAX_SECTIONS: usize = 8;

/// Packs lines into sections of at most `SECTION_MAX` characters and `MAX_SECTIONS` sections; when they do not
/// all fit, the last section ends with how many checks were left out (lines give way to that note).
pub(super) fn sections(lines: &[String]) -> Vec<String> {
    let width = |text: &str| text.chars().count();
    let mut packed: Vec<Vec<String>> = Vec::new();
    let mut size = 0;
    for line in lines {
        match packed.last_mut() {
            Some(last) if size + 1 + width(line) <= SECTION_MAX => {
                last.push(line.clone());
                size += 1 + width(line);
            }
            _ => {
                packed.push(vec![line.clone()]);
                size = width(line);
            }
        }
    }
    if packed.len() > MAX_SECTIONS {
        packed.truncate(MAX_SECTIONS);
        let before: usize = packed[..MAX_SECTIONS - 1].iter().map(Vec::len).sum();
        let last = packed.last_mut().expect("MAX_SECTIONS > 0");
        loop {
            let note = format!("… and {} more not shown", lines.len() - before - last.len());
            let used: usize = last.iter().map(|l| width(l) + 1).sum();
            if used + width(&note) <= SECTION_MAX || last.is_empty() {
                last.push(note);
                break;
            }
            last.pop();
        }
    }
    packed
        .into_iter()
        .map(|section| section.join("\n"))
        .collect()
}

/// Escapes the three characters Slack reads as markup (`<!channel>`, `<url|label>`, entities).
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Cuts text so that, escaped, it is at most `max` characters, ending in "…" when cut.
pub(super) fn cut(text: &str, max: usize) -> String {
    let width = |c: char| match c {
        '&' => 5,
        '<' | '>' => 4,
        _ => 1,
    };
    if text.chars().map(width).sum::<usize>() <= max {
        return text.to_string();
    }
    let mut used = 1; // the ellipsis
    let mut out = String::new();
    for c in text.chars() {
        if used + width(c) > max {
            break;
        }
        used += width(c);
        out.push(c);
    }
    out.push('…');
    out
}

/// A duration in the largest whole units: "2h 5m", "45m", "30s".
pub(super) fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The width of a line about one check (`slack::LINE_MAX`).
    const LINE: usize = 600;

    #[test]
    fn escaping_disarms_mentions_links_and_entities() {
        assert_eq!(
            escape("<!channel> <https://evil.example|Click here> &amp;"),
            "&lt;!channel&gt; &lt;https://evil.example|Click here&gt; &amp;amp;"
        );
        assert_eq!(escape("plain text"), "plain text");
    }

    #[test]
    fn a_cut_counts_escaped_width_and_never_splits_an_entity() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "ab…");
        // "<" is four characters escaped: "a<" is five, so the cut keeps "a" and the ellipsis.
        assert_eq!(cut("a<b", 5), "a…");
        assert_eq!(escape(&cut("a<bc", 6)), "a&lt;…");
        assert_eq!(cut("a<b", 6), "a<b");
        assert!(escape(&cut(&"&".repeat(1000), 100)).chars().count() <= 100);
    }

    #[test]
    fn sections_stay_within_the_limit_and_count_what_is_left_out() {
        let lines: Vec<String> = (0..200)
            .map(|i| format!("{i:03}{}", "x".repeat(LINE - 3)))
            .collect();
        let packed = sections(&lines);
        assert_eq!(packed.len(), MAX_SECTIONS);
        assert!(packed.iter().all(|s| s.chars().count() <= SECTION_MAX));
        let shown: usize = packed
            .iter()
            .map(|s| s.matches('x').count() / (LINE - 3))
            .sum();
        let last = packed.last().unwrap();
        let left: usize = last
            .rsplit("… and ")
            .next()
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert_eq!(shown + left, 200);
        // Lines that fill a section to the character make room for the note: every line is counted.
        let lines: Vec<String> = (0..40)
            .map(|i| format!("{i:03}{}", "y".repeat(996)))
            .collect();
        let packed = sections(&lines);
        assert_eq!(packed.len(), MAX_SECTIONS);
        assert!(packed.iter().all(|s| s.chars().count() <= SECTION_MAX));
        let shown: usize = packed.iter().map(|s| s.matches("yyy").count() / 332).sum();
        assert_eq!(shown, 3 * 7 + 2);
        assert!(
            packed[7].ends_with(&format!("… and {} more not shown", 40 - shown)),
            "{}",
            packed[7]
        );
        // The limit to the character: 1500 + 1 + 1499 is one section, 1500 + 1 + 1500 two.
        let fits = ["a".repeat(1500), "b".repeat(1499)];
        assert_eq!(sections(&fits).len(), 1);
        let over = ["a".repeat(1500), "b".repeat(1500)];
        assert_eq!(sections(&over).len(), 2);
        // A short list is one section, every line in it.
        let few = sections(&["a".to_string(), "b".to_string()]);
        assert_eq!(few, ["a\nb"]);
        assert!(sections(&[]).is_empty());
    }

    #[test]
    fn sections_count_every_separator_to_the_character() {
        let line = |c: &str, n: usize| c.repeat(n);
        // 999 + 1 + 999 + 1 + 1000 is 3000: one section; with 1001 it is 3001: two.
        assert_eq!(
            sections(&[line("a", 999), line("b", 999), line("c", 1000)]).len(),
            1
        );
        assert_eq!(
            sections(&[line("a", 999), line("b", 999), line("c", 1001)]).len(),
            2
        );
        // Exactly eight sections: all shown, no note.
        let eight: Vec<String> = (0..MAX_SECTIONS).map(|_| line("x", 3000)).collect();
        let packed = sections(&eight);
        assert_eq!(packed.len(), MAX_SECTIONS);
        assert!(!packed.concat().contains("more not shown"));
        // The last section's lines and the note, with their separators, must fit: one line gives way.
        let note = "… and 2 more not shown".chars().count();
        let mut lines: Vec<String> = (0..MAX_SECTIONS - 1).map(|_| line("x", 3000)).collect();
        lines.push(line("a", 1000));
        lines.push(line("b", 3001 - 2 - note - 1000));
        lines.push(line("z", 3000));
        lines.push(line("z", 3000));
        let packed = sections(&lines);
        assert!(
            packed.iter().all(|s| s.chars().count() <= SECTION_MAX),
            "{:?}",
            packed.iter().map(|s| s.chars().count()).collect::<Vec<_>>()
        );
        assert!(packed[MAX_SECTIONS - 1].ends_with("\n… and 3 more not shown"));
    }

    #[test]
    fn durations_read_in_their_largest_units() {
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_secs(45 * 60)), "45m");
        assert_eq!(human(Duration::from_secs(2 * 3600 + 5 * 60)), "2h 5m");
        assert_eq!(human(Duration::from_secs(86_400 + 3600)), "1d 1h");
    }
}
