//! Finding and reading the certificates: a directory tree in the team's layout, or files named one by one.
//! Only files named like certificates (`*.pem`, `*.crt`, `*.cer`, never `*key*`) are opened, so a private key
//! beside a certificate is never read.

use std::path::{Path, PathBuf};

/// The most files a tree may hold: a bucket of hundreds of clients, with room to spare.
const MAX_FILES: usize = 100_000;
/// The largest certificate file read.
const MAX_FILE: u64 = 1024 * 1024;

/// Where a certificate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    /// The environment (`dev` in `dev/<client>/client.pem`), when the layout says.
    pub env: String,
    /// The client (its folder), or the file's name.
    pub client: String,
}

/// A certificate read, or why it could not be.
#[derive(Debug, Clone)]
pub struct Found {
    pub source: Source,
    pub certificate: Result<Vec<u8>, String>,
}

/// Lists the certificate files under a directory, sorted; `<root>/<env>/<client>/<file>` names env and client.
pub fn walk(root: &Path) -> Result<Vec<Source>, String> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let entries = std::fs::read_dir(&directory)
            .map_err(|e| format!("{} could not be read ({})", directory.display(), e.kind()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            // Symbolic links are not followed: a loop would never end.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && is_certificate_name(&path) {
                found.push(source(root, path));
                if found.len() > MAX_FILES {
                    return Err(format!(
                        "{} holds more than {MAX_FILES} certificate files",
                        root.display()
                    ));
                }
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// Tells whether a file is named like a certificate, and not like a key.
fn is_certificate_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let certificate = [".pem", ".crt", ".cer"].iter().any(|e| name.ends_with(e));
    certificate && !name.contains("key")
}

fn source(root: &Path, path: PathBuf) -> Source {
    let relative: Vec<String> = path
        .strip_prefix(root)
        .unwrap_or(&path)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let (env, client) = match relative.as_slice() {
        [env, client, _file] => (env.clone(), client.clone()),
        [client, _file] => (String::new(), client.clone()),
        _ => (String::new(), relative.join("/")),
    };
    Source { path, env, client }
}

/// Reads the first certificate of a file (its DER bytes).
pub fn read_file(source: Source) -> Found {
    let certificate = read_der(&source.path);
    Found {
        source,
        certificate,
    }
}

fn read_der(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = crate::bounded_file::read(path, MAX_FILE)
        .map_err(|why| why.describe(&format!("{} KiB", MAX_FILE / 1024)))?;
    let certificates =
        crate::tls::input::parse_certificates("file", &bytes).map_err(|p| p.message)?;
    certificates
        .into_iter()
        .next()
        .map(|c| c.as_ref().to_vec())
        .ok_or_else(|| "holds no certificate".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_teams_layout_names_env_and_client_and_keys_are_never_listed() {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            "dev/alpha/client.pem",
            "dev/alpha/client.key",
            "prod/beta/client.pem",
            "prod/beta/client-key.pem",
            "ca.crt",
            "notes.txt",
            "gamma/client.pem",
            "a/b/c/d.pem",
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let found = walk(dir.path()).unwrap();
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|s| (s.env.as_str(), s.client.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("", "a/b/c/d.pem"),
                ("", "ca.crt"),
                ("dev", "alpha"),
                ("", "gamma"),
                ("prod", "beta")
            ]
        );
        assert!(
            walk(&dir.path().join("missing"))
                .unwrap_err()
                .contains("could not be read")
        );
    }

    #[cfg(feature = "sandbox")]
    #[test]
    fn a_certificate_file_is_read_up_to_a_mebibyte() {
        let pki = crate::sandbox::pki::Pki::generate(&["localhost"]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.pem");
        let read = |text: String| {
            std::fs::write(&path, text).unwrap();
            read_file(Source {
                path: path.clone(),
                env: String::new(),
                client: "c".into(),
            })
            .certificate
        };
        // Text around a PEM block is allowed: 4 KiB of it is read, 1 MiB and more is not.
        let padded = format!("{}\n{}", "#".repeat(4096), pki.client.cert_pem);
        assert!(read(padded).is_ok());
        // Exactly 1 MiB is read; one byte more is not.
        let fill = |total: usize| {
            format!(
                "{}\n{}",
                "#".repeat(total - 1 - pki.client.cert_pem.len()),
                pki.client.cert_pem
            )
        };
        assert!(read(fill(1024 * 1024)).is_ok());
        assert_eq!(
            read(fill(1024 * 1024 + 1)).unwrap_err(),
            "is larger than 1024 KiB"
        );
    }

    #[test]
    fn a_file_that_is_not_a_certificate_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let found = read_file(Source {
            path,
            env: String::new(),
            client: "c".into(),
        });
        assert!(found.certificate.is_err());
    }
}
