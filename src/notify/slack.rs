//! The Slack message, in the team's own shape (a header, a context line, a "Logs" button to the run) plus
//! what only heartbeat knows: which checks went down, are still down or recovered, who refused, the request
//! ids. Text from outside (server answers, names, URLs) is escaped, so it can neither mention nor link; every
//! block stays within Slack's limits, and what did not fit is counted.

use serde_json::{Value, json};

use super::mrkdwn::{SECTION_MAX, cut, escape, human, sections};
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

/// Slack's limit on a header's text.
const HEADER_MAX: usize = 150;
/// The longest line about one check; a longer one is cut.
const LINE_MAX: usize = 600;

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
}
