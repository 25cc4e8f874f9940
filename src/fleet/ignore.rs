//! The ignore list: clients whose certificates are not to be nagged about, each with a reason and an until
//! date, so an ignore cannot outlive its reason silently — once its date has passed it is reported, and the
//! certificate is judged again. (The team's job keeps a bare list in the script: `ignore="dev/sleach5 …"`.)

use serde::Deserialize;

/// One entry: `client = "dev/sleach5"` (env/client, or a client in any env), why, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub client: String,
    pub reason: String,
    /// The last day it holds (`2027-01-31`), as written.
    pub until: String,
    /// The first second after that day.
    pub ends: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    ignore: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    client: String,
    reason: String,
    until: String,
}

/// Reads the ignore list (TOML: `[[ignore]]` tables with `client`, `reason` and `until`).
pub fn read(text: &str) -> Result<Vec<Ignore>, String> {
    let file: File = toml::from_str(text)
        .map_err(|e| format!("expected [[ignore]] entries with client, reason and until ({e})"))?;
    file.ignore
        .into_iter()
        .map(|entry| {
            if entry.reason.trim().is_empty() {
                return Err(format!(
                    "{}: the reason is empty; say why it is ignored",
                    entry.client
                ));
            }
            let ends = day_start(&entry.until)
                .map(|start| start + 86_400)
                .ok_or_else(|| {
                    format!(
                        "{}: until {:?} is not a date (YYYY-MM-DD)",
                        entry.client, entry.until
                    )
                })?;
            Ok(Ignore {
                client: entry.client,
                reason: entry.reason,
                until: entry.until,
                ends,
            })
        })
        .collect()
}

/// The first second of a `YYYY-MM-DD` day (UTC).
pub fn day_start(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

impl Ignore {
    /// Tells whether the entry names this certificate's client (`env/client`, or a bare client in any env).
    pub fn names(&self, env: &str, client: &str) -> bool {
        match self.client.split_once('/') {
            Some((e, c)) => e == env && c == client,
            None => self.client == client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_needs_a_reason_and_a_real_date() {
        let list = read(
            "[[ignore]]\nclient = \"dev/sleach5\"\nreason = \"left\"\nuntil = \"2026-12-31\"\n",
        )
        .unwrap();
        assert_eq!(list[0].ends, day_start("2027-01-01").unwrap());
        assert!(list[0].names("dev", "sleach5") && !list[0].names("prod", "sleach5"));
        assert!(
            !list[0].names("dev", "sleach"),
            "whole names only, not the script's regex match"
        );
        let bare =
            read("[[ignore]]\nclient = \"tester\"\nreason = \"r\"\nuntil = \"2026-01-01\"\n")
                .unwrap();
        assert!(bare[0].names("dev", "tester") && bare[0].names("prod", "tester"));
        for bad in [
            "[[ignore]]\nclient = \"a\"\nreason = \" \"\nuntil = \"2026-01-01\"\n",
            "[[ignore]]\nclient = \"a\"\nreason = \"r\"\nuntil = \"2026-02-30\"\n",
            "[[ignore]]\nclient = \"a\"\nreason = \"r\"\n",
            "[[ignore]]\nclient = \"a\"\nreason = \"r\"\nuntil = \"soon\"\n",
            "[[ignore]]\nclient = \"a\"\nreason = \"r\"\nuntil = \"2026-01-01\"\nextra = 1\n",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert_eq!(read("").unwrap(), []);
        assert_eq!(day_start("1970-01-02"), Some(86_400));
    }
}
