//! `heartbeat suite FILE`: many checks, many consumers, doors that must open and doors that must stay locked,
//! run concurrently into one verdict and one report. The file (TOML) is planned as a whole first; nothing is
//! sent unless all of it is valid.

mod body;
mod chain;
mod checks;
mod consumers;
mod expect;
mod fields;
mod file;
mod plan;
mod request;
mod values;

use std::path::Path;

pub use plan::{Overrides, plan};

use crate::environment::Environment;
use crate::error::Error;
use crate::plan::{Plan, Planned};

/// The largest suite file read: room for an access matrix of every consumer and route (tens of thousands of
/// checks, planned in well under a second: scripts/bench-plan.sh), while a runaway file is refused unread.
const MAX_FILE: u64 = 8 * 1024 * 1024;

/// Reads and plans a suite file, keeping the checks `only` and `consumers` name.
pub fn load(
    path: &Path,
    env: &Environment,
    overrides: &Overrides,
    only: &[String],
    consumers: &[String],
) -> Result<Plan, Error> {
    let text = read(path)?;
    let mut plan = plan(&path.display().to_string(), &text, env, overrides)?;
    select(&mut plan, only, consumers)?;
    Ok(plan)
}

fn read(path: &Path) -> Result<String, Error> {
    use crate::bounded_file::Refused;
    let context = format!("reading the suite {}", path.display());
    crate::bounded_file::read_text(path, MAX_FILE).map_err(|why| match why {
        Refused::Missing => Error::io(&context, std::io::ErrorKind::NotFound.into()),
        Refused::Unreadable(kind) => Error::io(&context, kind.into()),
        Refused::NotAFile | Refused::TooLarge => Error::Usage(format!(
            "{context}: {}",
            why.describe(&format!("{MAX_FILE} bytes"))
        )),
    })
}

/// Keeps the checks `--only` and `--consumer` name, and the checks those require; a name that matches nothing
/// is an error.
fn select(suite: &mut Plan, only: &[String], consumers: &[String]) -> Result<(), Error> {
    let consumer_name = |p: &Planned| suite.consumers[p.consumer].name.clone().unwrap_or_default();
    let unknown: Vec<String> = only
        .iter()
        .filter(|name| !suite.checks.iter().any(|p| &p.check.name == *name))
        .map(|n| format!("--only {n:?} names no check"))
        .chain(
            consumers
                .iter()
                .filter(|name| !suite.checks.iter().any(|p| &consumer_name(p) == *name))
                .map(|n| format!("--consumer {n:?} makes no check")),
        )
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Usage(unknown.join("; ")));
    }
    let mut keep: Vec<bool> = suite
        .checks
        .iter()
        .map(|p| {
            (only.is_empty() || only.contains(&p.check.name))
                && (consumers.is_empty() || consumers.contains(&consumer_name(p)))
        })
        .collect();
    // A kept check keeps what it requires: requirements come earlier, so one pass from the end takes them all.
    for index in (0..suite.checks.len()).rev() {
        if keep[index] {
            for required in &suite.checks[index].check.requires {
                if let Some(at) = suite.checks.iter().position(|p| &p.check.name == required) {
                    keep[at] = true;
                }
            }
        }
    }
    let mut flags = keep.into_iter();
    suite.checks.retain(|_| flags.next().unwrap_or(false));
    if suite.checks.is_empty() {
        // Each name matched something, but not together: running nothing and passing would be a lie.
        return Err(Error::Usage(
            "--only and --consumer together select no check: the checks named belong to other consumers".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Plans a suite of one consumer `a` (these lines in its table) with one check `c` of it (these lines in
    /// its table; a later `[table]` may follow them), body files read from `folder`; the plan or the error's text.
    pub(in crate::plan::suite_file) fn one_check(
        consumer: &str,
        check: &str,
        folder: Option<&Path>,
    ) -> Result<Plan, String> {
        let text = format!(
            "base_url = \"https://api.test\"\n[consumers.a]\n{consumer}\n[[check]]\nname = \"c\"\nconsumer = \"a\"\npath = \"/v1/x\"\n{check}\n"
        );
        let env = Environment::from_pairs([("PEM", "not a pem".to_string())]);
        let overrides = Overrides {
            folder: folder.map(Path::to_path_buf),
            ..Overrides::default()
        };
        plan("suite.toml", &text, &env, &overrides).map_err(|e| e.to_string())
    }

    const SUITE: &str = r#"
base_url = "https://api.test"
[consumers.a]
api_key = "${KEY}"
[consumers.b]
api_key = "${KEY}"
[[check]]
name = "status"
consumer = "a"
path = "/v1/status"
[[check]]
name = "person"
consumer = "a"
path = "/v1/persons/1"
requires = ["status"]
[[check]]
name = "b status"
consumer = "b"
path = "/v1/status"
"#;

    fn selected(only: &[&str], consumers: &[&str]) -> Result<Vec<String>, String> {
        let env = Environment::from_pairs([("KEY", "k".to_string())]);
        let mut suite =
            plan("suite.toml", SUITE, &env, &Overrides::default()).expect("the suite plans");
        let own = |names: &[&str]| names.iter().map(ToString::to_string).collect::<Vec<_>>();
        select(&mut suite, &own(only), &own(consumers)).map_err(|e| e.to_string())?;
        Ok(suite.checks.iter().map(|p| p.check.name.clone()).collect())
    }

    #[test]
    fn filters_select_alone_and_together_and_keep_what_is_required() {
        assert_eq!(
            selected(&[], &[]).unwrap(),
            ["status", "person", "b status"]
        );
        assert_eq!(selected(&["b status"], &[]).unwrap(), ["b status"]);
        assert_eq!(selected(&["person"], &[]).unwrap(), ["status", "person"]);
        assert_eq!(selected(&[], &["b"]).unwrap(), ["b status"]);
        assert_eq!(selected(&[], &["a"]).unwrap(), ["status", "person"]);
        assert_eq!(selected(&["person"], &["a"]).unwrap(), ["status", "person"]);
        assert_eq!(
            selected(&["status", "b status"], &["b"]).unwrap(),
            ["b status"]
        );
    }

    #[test]
    fn a_filter_that_selects_nothing_is_an_error_never_a_pass() {
        let told = selected(&["nope"], &["nobody"]).unwrap_err();
        assert_eq!(
            told,
            r#"--only "nope" names no check; --consumer "nobody" makes no check"#
        );
        let told = selected(&["b status"], &["a"]).unwrap_err();
        assert!(told.contains("together select no check"), "{told}");
    }

    #[test]
    fn a_file_of_max_file_bytes_is_read_and_one_byte_more_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suite.toml");
        let comment = |bytes: u64| format!("#{}\n", "x".repeat(bytes as usize - 2));
        std::fs::write(&path, comment(MAX_FILE)).unwrap();
        assert_eq!(read(&path).unwrap().len() as u64, MAX_FILE);
        std::fs::write(&path, comment(MAX_FILE + 1)).unwrap();
        let refused = read(&path).unwrap_err().to_string();
        assert!(refused.contains("larger than 8388608 bytes"), "{refused}");
        // A folder (or a FIFO, which could block forever) is refused unread.
        let folder = read(dir.path()).unwrap_err().to_string();
        assert!(folder.contains("is not a regular file"), "{folder}");
    }
}
