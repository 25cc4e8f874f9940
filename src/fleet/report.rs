//! The day's findings for people and machines: one table sorted by urgency, JSON, JUnit (one case per
//! certificate), the lines of the one message, and the exit code a scheduled job acts on.

use serde_json::{Value, json};

use super::schedule::{Judged, State};
use crate::error::ExitCode;

/// Sorts by urgency: the state, then the fewest days left, then the path.
pub fn sort(judged: &mut [Judged]) {
    judged.sort_by(|a, b| {
        (a.state, a.days_left, &a.source.path).cmp(&(b.state, b.days_left, &b.source.path))
    });
}

/// The exit code: 6 when one has expired, 1 when one needs action or is inside the alert window, else 0.
pub fn exit_code(judged: &[Judged]) -> ExitCode {
    if judged.iter().any(|j| j.state == State::Expired) {
        ExitCode::Expired
    } else if judged
        .iter()
        .any(|j| j.state.tells() || j.state == State::Expiring)
    {
        ExitCode::Unhealthy
    } else {
        ExitCode::Healthy
    }
}

fn date(seconds: i64) -> String {
    crate::duration::rfc3339(seconds).chars().take(10).collect()
}

/// The table: client, env, CN, serial, not after, days left, state; a note under its row.
pub fn table(judged: &[Judged]) -> String {
    let rows: Vec<[String; 7]> = judged
        .iter()
        .map(|j| {
            let readable = j.state != State::Unreadable;
            [
                j.source.client.clone(),
                j.source.env.clone(),
                j.cn.clone(),
                j.serial.clone(),
                if readable {
                    date(j.not_after)
                } else {
                    String::new()
                },
                if readable {
                    j.days_left.to_string()
                } else {
                    String::new()
                },
                j.state.as_str().to_string(),
            ]
        })
        .collect();
    let head = [
        "client",
        "env",
        "CN",
        "serial",
        "not after",
        "days left",
        "state",
    ]
    .map(String::from);
    let mut widths = head.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 7]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&head);
    for (row, j) in rows.iter().zip(judged) {
        out.push_str(&line(row));
        if !j.note.is_empty() {
            out.push_str(&format!("    {}\n", j.note));
        }
    }
    out
}

/// One object: the exit code and every certificate.
pub fn json(judged: &[Judged], code: ExitCode) -> Value {
    let certificates: Vec<Value> = judged
        .iter()
        .map(|j| {
            json!({
                "path": j.source.path.display().to_string(),
                "env": j.source.env,
                "client": j.source.client,
                "cn": j.cn,
                "serial": j.serial,
                "not_after": (j.state != State::Unreadable).then(|| crate::duration::rfc3339(j.not_after)),
                "days_left": (j.state != State::Unreadable).then_some(j.days_left),
                "state": j.state.as_str(),
                "note": j.note,
            })
        })
        .collect();
    json!({"exit_code": code.code(), "certificates": certificates})
}

/// The name a certificate goes by in messages and reports: `env/client`.
pub fn name(j: &Judged) -> String {
    if j.source.env.is_empty() {
        j.source.client.clone()
    } else {
        format!("{}/{}", j.source.env, j.source.client)
    }
}

/// One line per certificate the day's message must tell.
pub fn lines(judged: &[Judged]) -> Vec<String> {
    judged
        .iter()
        .filter(|j| j.state.tells())
        .map(|j| {
            let what = match j.state {
                State::Expired => format!(
                    "EXPIRED on {} ({} days ago)",
                    date(j.not_after),
                    -j.days_left
                ),
                State::Alert => {
                    format!("expires on {} (in {} days)", date(j.not_after), j.days_left)
                }
                State::Foreign => "is not issued by the CA".to_string(),
                _ => format!("could not be read: {}", j.note),
            };
            let note = if j.note.is_empty() || j.state == State::Unreadable {
                String::new()
            } else {
                format!(" ({})", j.note)
            };
            format!("• {} (CN {}): {what}{note}", name(j), j.cn)
        })
        .collect()
}

/// JUnit cases: what needs action fails, what is ignored or revoked is skipped, the rest passes.
pub fn cases(judged: &[Judged]) -> Vec<crate::report::junit::Case> {
    judged
        .iter()
        .map(|j| crate::report::junit::Case {
            name: name(j),
            classname: "heartbeat.cert_watch".to_string(),
            outcome: match j.state {
                State::Ok | State::Expiring => None,
                State::Ignored | State::Revoked => Some(Ok(j.state.as_str().to_string())),
                state => Some(Err((
                    lines(std::slice::from_ref(j)).join(""),
                    state.as_str().replace(' ', "_"),
                ))),
            },
        })
        .collect()
}
