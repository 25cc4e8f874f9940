//! The state file: JSON, written atomically, holding check names and times
//! only — never a secret. A missing, unreadable or corrupt file is a warning and a fresh start, never a crash
//! or a changed verdict.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::transition::Entry;

/// The version of the file's shape; a file of another version is started afresh.
const VERSION: u32 = 1;
/// A state file larger than this is not heartbeat's: it is read as corrupt.
const MAX_SIZE: u64 = 4 * 1024 * 1024;

/// What the state file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    pub checks: BTreeMap<String, Entry>,
}

/// Reads the state file; the warning says why it starts afresh instead.
pub fn load(path: &Path) -> (Record, Option<String>) {
    let fresh = Record {
        version: VERSION,
        ..Record::default()
    };
    let shown = path.display();
    match read(path) {
        Ok(None) => (
            fresh,
            Some(format!(
                "the state file {shown} does not exist yet; starting fresh"
            )),
        ),
        Ok(Some(text)) => match serde_json::from_str::<Record>(&text) {
            Ok(record) if record.version == VERSION => (record, None),
            Ok(record) => (
                fresh,
                Some(format!(
                    "the state file {shown} is of version {}, not {VERSION}; starting fresh",
                    record.version
                )),
            ),
            Err(error) => (
                fresh,
                Some(format!(
                    "the state file {shown} is not heartbeat's state (line {}, column {}); starting fresh",
                    error.line(),
                    error.column()
                )),
            ),
        },
        Err(why) => (
            fresh,
            Some(format!("the state file {shown} {why}; starting fresh")),
        ),
    }
}

/// Reads the file when it is a regular file of a sane size; `None` when it does not exist.
fn read(path: &Path) -> Result<Option<String>, String> {
    use crate::bounded_file::{Refused, read_text};
    match read_text(path, MAX_SIZE) {
        Ok(text) => Ok(Some(text)),
        Err(Refused::Missing) => Ok(None),
        Err(why) => Err(why.describe(&format!("{} MiB", MAX_SIZE / 1024 / 1024))),
    }
}

/// Writes the record atomically, readable by its owner only.
pub fn save(path: &Path, record: &Record) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    text.push('\n');
    crate::atomic_file::write(path, text.as_bytes(), 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        let mut checks = BTreeMap::new();
        checks.insert(
            "prisoner".to_string(),
            Entry {
                failures: 2,
                down_since: Some(10),
                alerted_at: Some(20),
            },
        );
        Record {
            version: VERSION,
            checks,
        }
    }

    #[test]
    fn a_saved_record_loads_as_it_was_and_leaves_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        save(&path, &record()).unwrap();
        assert_eq!(load(&path), (record(), None));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn missing_corrupt_foreign_and_odd_files_start_fresh_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let fresh = Record {
            version: VERSION,
            ..Record::default()
        };
        let cases: [(&[u8], &str); 4] = [
            (b"{\"version\": 1, \"checks\": ", "not heartbeat's state"),
            (b"\xff\xfe garbage", "could not be read"),
            (
                b"{\"version\": 9, \"last_run\": 0, \"checks\": {}}",
                "version 9",
            ),
            (b"[]", "not heartbeat's state"),
        ];
        for (bytes, why) in cases {
            std::fs::write(&path, bytes).unwrap();
            let (loaded, warning) = load(&path);
            assert_eq!(loaded, fresh);
            let warning = warning.unwrap();
            assert!(warning.contains(why), "{warning}");
        }
        std::fs::remove_file(&path).unwrap();
        let (loaded, warning) = load(&path);
        assert_eq!(loaded, fresh);
        assert!(warning.unwrap().contains("does not exist yet"));
        let (loaded, warning) = load(dir.path());
        assert_eq!(loaded, fresh);
        assert!(warning.unwrap().contains("not a regular file"));
        // Larger than any state heartbeat writes: not read at all.
        let huge = format!(
            "{{\"version\": 1, \"checks\": {{}}, \"x\": \"{}\"}}",
            "x".repeat(MAX_SIZE as usize)
        );
        std::fs::write(&path, huge).unwrap();
        let (loaded, warning) = load(&path);
        assert_eq!(loaded, fresh);
        assert!(warning.unwrap().contains("is larger than 4 MiB"));
        // Exactly the limit is read.
        let head = "{\"version\": 1, \"checks\": {}, \"x\": \"";
        let exact = format!(
            "{head}{}\"}}",
            "x".repeat(MAX_SIZE as usize - head.len() - 2)
        );
        assert_eq!(exact.len() as u64, MAX_SIZE);
        std::fs::write(&path, exact).unwrap();
        assert_eq!(load(&path), (fresh.clone(), None));
        // A path through a file is not "missing": it cannot be read.
        let (_, warning) = load(&path.join("state.json"));
        assert!(warning.unwrap().contains("could not be read"));
    }
}
