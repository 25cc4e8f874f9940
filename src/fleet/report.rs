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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Source;

    fn judged(env: &str, client: &str, state: State, days_left: i64, note: &str) -> Judged {
        Judged {
            source: Source {
                path: format!("{env}/{client}/client.pem").into(),
                env: env.into(),
                client: client.into(),
            },
            cn: client.into(),
            serial: "0A".into(),
            // 2026-01-01T00:00:00Z plus the days left.
            not_after: 1_767_225_600 + days_left * 86_400,
            days_left,
            state,
            note: note.into(),
        }
    }

    fn fleet() -> Vec<Judged> {
        vec![
            judged("dev", "fine", State::Ok, 90, ""),
            judged("dev", "late", State::Expired, -2, ""),
            judged(
                "prod",
                "soon",
                State::Alert,
                14,
                "the ignore ended on 2025-12-01 (left): judged again",
            ),
            judged(
                "",
                "broken.pem",
                State::Unreadable,
                0,
                "holds no certificate",
            ),
            judged("dev", "odd", State::Foreign, 50, ""),
            judged("dev", "gone", State::Revoked, -9, ""),
            judged(
                "dev",
                "resting",
                State::Ignored,
                3,
                "ignored until 2027-01-01: leave",
            ),
            judged("dev", "near", State::Expiring, 20, ""),
            judged("dev", "nearer", State::Expiring, 16, ""),
        ]
    }

    #[test]
    fn the_table_is_sorted_by_urgency_with_notes_under_their_rows() {
        let mut all = fleet();
        sort(&mut all);
        let order: Vec<&str> = all.iter().map(|j| j.source.client.as_str()).collect();
        assert_eq!(
            order,
            [
                "late",
                "broken.pem",
                "odd",
                "soon",
                "nearer",
                "near",
                "gone",
                "resting",
                "fine"
            ]
        );
        let table = table(&all[..4]);
        assert_eq!(
            table,
            "client      env   CN          serial  not after   days left  state\n\
             late        dev   late        0A      2025-12-30  -2         expired\n\
             broken.pem        broken.pem  0A                             unreadable\n    holds no certificate\n\
             odd         dev   odd         0A      2026-02-20  50         not from the CA\n\
             soon        prod  soon        0A      2026-01-15  14         alert\n    the ignore ended on 2025-12-01 (left): judged again\n"
        );
    }

    #[test]
    fn the_exit_code_is_6_for_an_expired_one_1_for_anything_due_else_0() {
        let all = fleet();
        assert_eq!(exit_code(&all), ExitCode::Expired);
        assert_eq!(exit_code(&all[2..]), ExitCode::Unhealthy);
        assert_eq!(
            exit_code(&all[7..8]),
            ExitCode::Unhealthy,
            "inside the window alone"
        );
        assert_eq!(
            exit_code(&all[4..5]),
            ExitCode::Unhealthy,
            "not from the CA"
        );
        assert_eq!(
            exit_code(&[all[0].clone(), all[5].clone(), all[6].clone()]),
            ExitCode::Healthy
        );
    }

    #[test]
    fn the_message_tells_what_needs_action_in_words() {
        let lines = lines(&fleet());
        assert_eq!(
            lines,
            [
                "• dev/late (CN late): EXPIRED on 2025-12-30 (2 days ago)",
                "• prod/soon (CN soon): expires on 2026-01-15 (in 14 days) (the ignore ended on 2025-12-01 (left): judged again)",
                "• broken.pem (CN broken.pem): could not be read: holds no certificate",
                "• dev/odd (CN odd): is not issued by the CA",
            ]
        );
    }

    #[test]
    fn junit_and_json_say_each_certificates_state() {
        let all = fleet();
        let cases = cases(&all);
        assert_eq!(cases.len(), all.len());
        assert!(cases[0].outcome.is_none());
        assert_eq!(cases[0].name, "dev/fine");
        assert_eq!(
            cases[1].outcome,
            Some(Err((
                "• dev/late (CN late): EXPIRED on 2025-12-30 (2 days ago)".into(),
                "expired".into()
            )))
        );
        assert_eq!(
            cases[4].outcome,
            Some(Err((
                "• dev/odd (CN odd): is not issued by the CA".into(),
                "not_from_the_CA".into()
            )))
        );
        assert_eq!(cases[5].outcome, Some(Ok("revoked".into())));
        assert!(
            cases[7].outcome.is_none(),
            "inside the window is not a failure"
        );
        let json = json(&all, ExitCode::Expired);
        assert_eq!(json["exit_code"], 6);
        assert_eq!(json["certificates"][1]["state"], "expired");
        assert_eq!(json["certificates"][1]["days_left"], -2);
        assert_eq!(json["certificates"][1]["not_after"], "2025-12-30T00:00:00Z");
        assert_eq!(
            json["certificates"][3]["not_after"],
            serde_json::Value::Null,
            "unreadable: no date"
        );
        assert_eq!(json["certificates"][3]["note"], "holds no certificate");
    }
}
