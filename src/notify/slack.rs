//! The Slack message, in the team's own shape (a header, a context line, a "Logs" button to the run) plus
//! what only heartbeat knows: which checks went down, are still down or recovered, who refused, the request
//! ids. Text from outside (server answers, names, URLs) is escaped, so it can neither mention nor link; every
//! block stays within Slack's limits, and what did not fit is counted.

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::ExitCode;
use crate::probe::CheckResult;
use crate::probe::failure::FailureClass;
use crate::state::{Change, News};

/// What a message tells: the run's report, under the run's name, with a link to it.
pub struct Story<'a> {
    pub name: &'a str,
    pub link: Option<&'a str>,
    pub results: &'a [CheckResult],
    pub code: ExitCode,
    pub news: &'a News,
    pub remembered: bool,
}

/// Slack's limit on a section's text.
const SECTION_MAX: usize = 3000;
/// Slack's limit on a header's text.
const HEADER_MAX: usize = 150;
/// The longest line about one check; a longer one is cut.
const LINE_MAX: usize = 600;
/// Sections of check lines at most (Slack allows 50 blocks in all).
const MAX_SECTIONS: usize = 8;

/// Builds the message: `text` (what notifications show) and the blocks.
pub fn message(story: &Story<'_>) -> Value {
    let summary = summary(story);
    let mark = if story.code == ExitCode::Healthy {
        "✅"
    } else {
        "❌"
    };
    let header = cut(
        &format!("{mark} heartbeat {}: {summary}", story.name),
        HEADER_MAX,
    );
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": escape(&header)}
    })];
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": escape(&context(story))}]
    }));
    for text in sections(&lines(story)) {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    }
    blocks.extend(link_block(story.link));
    let text = format!(
        "heartbeat {}: {summary} (exit {})",
        story.name,
        story.code.code()
    );
    json!({"text": escape(&cut(&text, SECTION_MAX)), "blocks": blocks})
}

/// Builds a message that is not about checks (`cert watch`'s day): a header, the lines, the link.
pub fn announcement(
    name: &str,
    link: Option<&str>,
    good: bool,
    summary: &str,
    lines: &[String],
) -> Value {
    let mark = if good { "✅" } else { "❌" };
    let header = cut(&format!("{mark} heartbeat {name}: {summary}"), HEADER_MAX);
    let escaped: Vec<String> = lines.iter().map(|l| escape(&cut(l, LINE_MAX))).collect();
    let mut blocks =
        vec![json!({"type": "header", "text": {"type": "plain_text", "text": escape(&header)}})];
    for text in sections(&escaped) {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    }
    blocks.extend(link_block(link));
    let text = format!("heartbeat {name}: {summary}");
    json!({"text": escape(&cut(&text, SECTION_MAX)), "blocks": blocks})
}

/// The run's link: a "Logs" button when it is a URL, a context line otherwise.
fn link_block(link: Option<&str>) -> Option<Value> {
    match link {
        Some(link) if link.starts_with("https://") || link.starts_with("http://") => Some(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": "Logs"},
                "url": cut(link, SECTION_MAX)
            }]
        })),
        Some(where_) => Some(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": escape(&cut(where_, SECTION_MAX))}]
        })),
        None => None,
    }
}

/// The verdict in a few words.
fn summary(story: &Story<'_>) -> String {
    let failed = story
        .results
        .iter()
        .filter(|r| r.failure().is_some())
        .count();
    let recovered = story
        .news
        .iter()
        .any(|(_, c)| matches!(c, Change::Recovered { .. }));
    match story.code {
        ExitCode::Healthy if recovered => "recovered".to_string(),
        ExitCode::Healthy => "healthy".to_string(),
        ExitCode::DoorOpen => "a door that must stay locked is OPEN".to_string(),
        _ if story.results.len() == 1 => "unhealthy".to_string(),
        _ => format!("{failed} of {} checks failed", story.results.len()),
    }
}

/// The context line: the exit code and the counts of each kind of news.
fn context(story: &Story<'_>) -> String {
    let count = |f: fn(&Change) -> bool| story.news.iter().filter(|(_, c)| f(c)).count();
    let down = count(|c| matches!(c, Change::Down { .. }));
    let still = count(|c| matches!(c, Change::StillDown { .. }));
    let recovered = count(|c| matches!(c, Change::Recovered { .. }));
    let mut parts = vec![format!("Exit {}", story.code.code())];
    let went = if story.remembered {
        "went down"
    } else {
        "failing"
    };
    for (n, what) in [
        (down, went),
        (still, "still down"),
        (recovered, "recovered"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(" · ")
}

/// One escaped line per check in the news, news order.
fn lines(story: &Story<'_>) -> Vec<String> {
    story
        .news
        .iter()
        .map(|(name, change)| {
            let result = story.results.iter().find(|r| crate::state::key(r) == *name);
            let line = match change {
                Change::Down { failures } if story.remembered && *failures > 1 => {
                    format!("DOWN ({failures} runs in a row) {}", failing(name, result))
                }
                Change::Down { .. } => format!("DOWN {}", failing(name, result)),
                Change::StillDown { down_for } => {
                    format!(
                        "STILL DOWN for {} {}",
                        human(*down_for),
                        failing(name, result)
                    )
                }
                Change::Recovered { down_for } => {
                    format!("RECOVERED {name}, after {} down", human(*down_for))
                }
            };
            escape(&cut(&format!("• {line}"), LINE_MAX))
        })
        .collect()
}

/// A failing check: name, status, who refused, the reason and the request ids.
fn failing(name: &str, result: Option<&CheckResult>) -> String {
    let Some(result) = result else {
        return name.to_string();
    };
    let last = result.attempts.last();
    let status = last
        .and_then(|a| a.status)
        .map_or("no answer".to_string(), |s| s.to_string());
    let failure = result.failure();
    let who = failure.and_then(|f| refused_by(f.class));
    let reason = failure.map_or("", |f| f.message.as_str());
    let ids = last.map(crate::report::ids).unwrap_or_default();
    let who = who.map(|w| format!(" [{w}]")).unwrap_or_default();
    format!("{name}: {status}{who}: {reason} ({ids})")
}

/// Who stopped the request, when the class knows.
fn refused_by(class: FailureClass) -> Option<&'static str> {
    match class {
        FailureClass::GatewayForbidden => Some("refused by the gateway"),
        FailureClass::ConsumerForbidden => Some("refused by the application"),
        FailureClass::ClientCertRejected
        | FailureClass::ServerCertInvalid
        | FailureClass::TlsHandshake => Some("TLS"),
        _ => None,
    }
}

/// Packs lines into sections of at most `SECTION_MAX` characters and `MAX_SECTIONS` sections; when they do not
/// all fit, the last section ends with how many checks were left out (lines give way to that note).
fn sections(lines: &[String]) -> Vec<String> {
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
pub fn escape(text: &str) -> String {
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
fn cut(text: &str, max: usize) -> String {
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
fn human(duration: Duration) -> String {
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
    use crate::probe::sample::{failing, passing};

    fn story<'a>(
        results: &'a [CheckResult],
        news: &'a News,
        code: ExitCode,
        link: Option<&'a str>,
    ) -> Story<'a> {
        Story {
            name: "dev",
            link,
            results,
            code,
            news,
            remembered: true,
        }
    }

    fn kinds(message: &Value) -> Vec<String> {
        message["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["type"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_link_is_a_logs_button_when_it_is_a_url_and_context_otherwise() {
        let results = [passing("a")];
        let news = Vec::new();
        let button = message(&story(
            &results,
            &news,
            ExitCode::Healthy,
            Some("https://ci.example/run/1"),
        ));
        assert_eq!(kinds(&button), ["header", "context", "actions"]);
        assert_eq!(
            button["blocks"][2]["elements"][0]["url"],
            "https://ci.example/run/1"
        );
        assert_eq!(button["blocks"][2]["elements"][0]["text"]["text"], "Logs");
        let pod = message(&story(
            &results,
            &news,
            ExitCode::Healthy,
            Some("Kubernetes pod hb-1"),
        ));
        assert_eq!(kinds(&pod), ["header", "context", "context"]);
        assert_eq!(
            pod["blocks"][2]["elements"][0]["text"],
            "Kubernetes pod hb-1"
        );
        let none = message(&story(&results, &news, ExitCode::Healthy, None));
        assert_eq!(kinds(&none), ["header", "context"]);
        assert_eq!(none["text"], "heartbeat dev: healthy (exit 0)");
        assert_eq!(
            none["blocks"][0]["text"]["text"],
            "✅ heartbeat dev: healthy"
        );
    }

    #[test]
    fn each_line_says_what_changed_and_who_refused() {
        let results = [
            failing("gate", FailureClass::GatewayForbidden, "refused"),
            failing("app", FailureClass::ConsumerForbidden, "refused"),
            failing("tls", FailureClass::ClientCertRejected, "bad cert"),
            failing("slow", FailureClass::Timeout, "no answer"),
            passing("back"),
        ];
        let minute = Duration::from_secs(60);
        let news: News = vec![
            ("gate".into(), Change::Down { failures: 1 }),
            ("app".into(), Change::Down { failures: 3 }),
            (
                "tls".into(),
                Change::StillDown {
                    down_for: minute * 90,
                },
            ),
            ("slow".into(), Change::Down { failures: 2 }),
            (
                "back".into(),
                Change::Recovered {
                    down_for: minute * 5,
                },
            ),
        ];
        let shown = lines(&story(&results, &news, ExitCode::Tls, None));
        assert_eq!(
            shown[0],
            "• DOWN gate: 500 [refused by the gateway]: refused (request id rid-1)"
        );
        assert_eq!(
            shown[1],
            "• DOWN (3 runs in a row) app: 500 [refused by the application]: refused (request id rid-1)"
        );
        assert_eq!(
            shown[2],
            "• STILL DOWN for 1h 30m tls: 500 [TLS]: bad cert (request id rid-1)"
        );
        assert_eq!(
            shown[3],
            "• DOWN (2 runs in a row) slow: 500: no answer (request id rid-1)"
        );
        assert_eq!(shown[4], "• RECOVERED back, after 5m down");
        let line = context(&story(&results, &news, ExitCode::Tls, None));
        assert_eq!(line, "Exit 4 · 3 went down · 1 still down · 1 recovered");
        // Kinds of news that did not happen are not named.
        let one: News = vec![("gate".into(), Change::Down { failures: 1 })];
        assert_eq!(
            context(&story(&results, &one, ExitCode::Unhealthy, None)),
            "Exit 1 · 1 went down"
        );
        // Without a state file nothing is known of the runs before: "failing", never a count.
        let mut stateless = story(&results, &news, ExitCode::Tls, None);
        stateless.remembered = false;
        assert!(context(&stateless).starts_with("Exit 4 · 3 failing"));
        assert!(lines(&stateless)[1].starts_with("• DOWN app:"));
    }

    #[test]
    fn an_announcement_escapes_its_lines_and_links_the_run() {
        let lines = ["• dev/<!channel>: EXPIRED".to_string()];
        let message = announcement(
            "certificates",
            Some("https://ci.example/1"),
            false,
            "1 needs action",
            &lines,
        );
        assert_eq!(kinds(&message), ["header", "section", "actions"]);
        assert_eq!(
            message["blocks"][1]["text"]["text"],
            "• dev/&lt;!channel&gt;: EXPIRED"
        );
        assert_eq!(message["text"], "heartbeat certificates: 1 needs action");
        let good = announcement("certificates", None, true, "nothing due", &[]);
        assert_eq!(kinds(&good), ["header"]);
        assert_eq!(
            good["blocks"][0]["text"]["text"],
            "✅ heartbeat certificates: nothing due"
        );
    }

    #[test]
    fn the_header_names_the_verdict() {
        let news = Vec::new();
        let two = [
            passing("a"),
            failing("b", FailureClass::UnexpectedStatus, "500"),
        ];
        let open = [failing("door", FailureClass::DoorOpen, "open")];
        let one = [failing("b", FailureClass::UnexpectedStatus, "500")];
        let recovered: News = vec![(
            "a".into(),
            Change::Recovered {
                down_for: Duration::ZERO,
            },
        )];
        let header = |results: &[CheckResult], news: &News, code| {
            message(&story(results, news, code, None))["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            header(&two, &news, ExitCode::Unhealthy),
            "❌ heartbeat dev: 1 of 2 checks failed"
        );
        assert_eq!(
            header(&open, &news, ExitCode::DoorOpen),
            "❌ heartbeat dev: a door that must stay locked is OPEN"
        );
        assert_eq!(
            header(&one, &news, ExitCode::Unhealthy),
            "❌ heartbeat dev: unhealthy"
        );
        assert_eq!(
            header(&two[..1], &recovered, ExitCode::Healthy),
            "✅ heartbeat dev: recovered"
        );
    }

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
            .map(|i| format!("{i:03}{}", "x".repeat(LINE_MAX - 3)))
            .collect();
        let packed = sections(&lines);
        assert_eq!(packed.len(), MAX_SECTIONS);
        assert!(packed.iter().all(|s| s.chars().count() <= SECTION_MAX));
        let shown: usize = packed
            .iter()
            .map(|s| s.matches('x').count() / (LINE_MAX - 3))
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
