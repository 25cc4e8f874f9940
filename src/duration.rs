//! Durations and dates as people write and read them, shared by the command line, the sandbox and the reports:
//! `500ms`, `10s`, `2m` or plain seconds in; bounded so that no sum with `Instant` can overflow.

use std::time::Duration;

/// The longest duration any flag or parameter accepts: a heartbeat that waits longer is misconfigured.
pub const MAX: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses `500ms`, `10s`, `2m` or a plain number of seconds, up to one day.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let limit = "at most 1 day (24h)";
    if let Ok(seconds) = text.parse::<f64>() {
        if !seconds.is_finite() {
            return Err(format!(
                "{text:?} is not a number of seconds; write a duration like 500ms, 10s or 2m"
            ));
        }
        if seconds < 0.0 {
            return Err("a duration cannot be negative".into());
        }
        return Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|d| *d <= MAX)
            .ok_or_else(|| format!("{text} seconds is too long: {limit}"));
    }
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("{e}; write a duration like 500ms, 10s or 2m"))?;
    if duration > MAX {
        return Err(format!("{text} is too long: {limit}"));
    }
    Ok(duration)
}

/// Writes a duration for people: `496ms`, `1.5s`, `10s`, `5m 1s` — never `496ms 456us 42ns`.
pub fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    if d < Duration::from_secs(60) {
        let tenths = (d.as_millis() + 50) / 100;
        return if tenths % 10 == 0 {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        };
    }
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// Writes a latency in milliseconds: one decimal under a millisecond (`0.4 ms`), whole ones above (`12 ms`).
pub fn latency(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Formats Unix seconds as an RFC 3339 date for messages; dates before 1970 are written too.
pub fn rfc3339(seconds: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("{seconds} seconds from 1970-01-01"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_plain_seconds() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("24h"), Ok(MAX));
        assert!(parse("-1").unwrap_err().contains("negative"));
        assert!(parse("soon").is_err());
    }

    #[test]
    fn absurd_durations_are_refused_with_the_limit_named() {
        for text in ["1e19", "1e30", "293000000000y", "25h", "86401"] {
            let error = parse(text).unwrap_err();
            assert!(error.contains("at most 1 day"), "{text}: {error}");
        }
        for text in ["NaN", "inf", "-inf"] {
            assert!(parse(text).unwrap_err().contains("not a number"), "{text}");
        }
    }

    #[test]
    fn durations_and_latencies_read_as_people_write_them() {
        assert_eq!(human(Duration::from_nanos(496_456_042)), "496ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_secs(10)), "10s");
        assert_eq!(human(Duration::from_millis(9_960)), "10s");
        assert_eq!(human(Duration::from_secs(301)), "5m 1s");
        assert_eq!(latency(Duration::from_micros(420)), "0.4 ms");
        assert_eq!(latency(Duration::from_millis(12)), "12 ms");
    }

    #[test]
    fn dates_are_written_before_the_epoch_too() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
        assert_eq!(rfc3339(-2_208_988_800), "1900-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(i64::MAX),
            format!("{} seconds from 1970-01-01", i64::MAX)
        );
    }
}
