//! Reading a file heartbeat does not control (a state file, an authorisation config, a certificate): a regular
//! file only — a FIFO or a device could block forever — and never more than a bound, so a huge file is refused
//! without being read whole. One reader for them all; each caller words the bound its own way.

use std::io::Read as _;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Missing,
    Unreadable(std::io::ErrorKind),
    NotAFile,
    TooLarge,
}

impl Refused {
    /// Says why, after the file's name; `limit` words the bound ("4 MiB").
    pub fn describe(self, limit: &str) -> String {
        match self {
            Self::Missing => format!("could not be read ({})", std::io::ErrorKind::NotFound),
            Self::Unreadable(kind) => format!("could not be read ({kind})"),
            Self::NotAFile => "is not a regular file".to_string(),
            Self::TooLarge => format!("is larger than {limit}"),
        }
    }
}

fn refused(error: &std::io::Error) -> Refused {
    match error.kind() {
        std::io::ErrorKind::NotFound => Refused::Missing,
        kind => Refused::Unreadable(kind),
    }
}

/// Reads a regular file of at most `max` bytes.
pub fn read(path: &Path, max: u64) -> Result<Vec<u8>, Refused> {
    let metadata = std::fs::metadata(path).map_err(|e| refused(&e))?;
    if !metadata.is_file() {
        return Err(Refused::NotAFile);
    }
    if metadata.len() > max {
        return Err(Refused::TooLarge);
    }
    let mut bytes = Vec::new();
    // A file that grew since it was measured is still read no further than the bound.
    std::fs::File::open(path)
        .and_then(|file| file.take(max).read_to_end(&mut bytes))
        .map_err(|e| refused(&e))?;
    Ok(bytes)
}

/// Reads a regular file of at most `max` bytes as UTF-8 text.
pub fn read_text(path: &Path, max: u64) -> Result<String, Refused> {
    String::from_utf8(read(path, max)?)
        .map_err(|_| Refused::Unreadable(std::io::ErrorKind::InvalidData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_bound_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "12345").unwrap();
        assert_eq!(read(&path, 5).unwrap(), b"12345");
        assert_eq!(read(&path, 4), Err(Refused::TooLarge));
        assert_eq!(read(dir.path(), 5), Err(Refused::NotAFile));
        assert_eq!(read(&dir.path().join("none"), 5), Err(Refused::Missing));
        assert_eq!(
            read(&path.join("x"), 5),
            Err(Refused::Unreadable(std::io::ErrorKind::NotADirectory))
        );
        std::fs::write(&path, b"\xff").unwrap();
        assert_eq!(
            read_text(&path, 5),
            Err(Refused::Unreadable(std::io::ErrorKind::InvalidData))
        );
        assert_eq!(Refused::TooLarge.describe("4 MiB"), "is larger than 4 MiB");
        assert_eq!(
            Refused::Missing.describe(""),
            "could not be read (entity not found)"
        );
    }
}
