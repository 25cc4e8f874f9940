//! `heartbeat sandbox`: the sandbox as a process, with its PKI, an env file to source, and a clean stop.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::pki::{self, Pki};
use super::{Options, PERSONS_PATH, Sandbox, base_url, environment, profile_environment};
use crate::access::Rules;
use crate::error::{Error, ExitCode};

/// What `heartbeat sandbox` was asked for.
#[derive(Debug, Clone)]
pub struct Settings {
    pub port: u16,
    pub bind: std::net::IpAddr,
    pub allow_remote: bool,
    pub api_key: Option<String>,
    pub ca_cert: Option<std::path::PathBuf>,
    pub ca_key: Option<std::path::PathBuf>,
    pub write_env: Option<std::path::PathBuf>,
    pub consumers: Option<std::path::PathBuf>,
    pub delius_down: bool,
    pub waf: bool,
}

/// Runs `heartbeat sandbox` until Ctrl-C or SIGTERM.
pub fn run(args: &Settings) -> Result<ExitCode, Error> {
    if !args.bind.is_loopback() && !args.allow_remote {
        return Err(Error::Usage(format!(
            "--bind {} is not a loopback address; pass --allow-remote to listen on it",
            args.bind
        )));
    }
    let mut names: Vec<String> = pki::SERVER_NAMES.iter().map(|s| s.to_string()).collect();
    names.push(args.bind.to_string());
    names.dedup();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let pki = Arc::new(load_pki(args, &names)?);
    let api_key = SecretString::from(
        args.api_key
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
    );
    let mut options = Options::new(SocketAddr::new(args.bind, args.port), api_key, pki);
    options.log = true;
    options.delius_down = args.delius_down;
    options.waf = args.waf;
    if let Some(path) = &args.consumers {
        options.rules = load_consumers(path)?;
    }
    let runtime = crate::process::runtime()?;
    runtime.block_on(async {
        let sandbox = Sandbox::bind(&options).await?;
        let url = base_url(sandbox.local_addr());
        if let Some(path) = &args.write_env {
            let mut vars: Vec<(String, String)> = environment(
                &format!("{url}{PERSONS_PATH}"),
                &options.api_key,
                &options.pki,
                &options.pki.client,
            )
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            vars.extend(profile_environment(
                &url,
                &options.profile_keys,
                &options.pki,
            )?);
            write_env(path, &vars)?;
        }
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "heartbeat sandbox: listening on {url}");
        let _ = stdout.flush();
        sandbox.serve(shutdown_signal()).await;
        eprintln!("heartbeat sandbox: stopped");
        Ok(ExitCode::Healthy)
    })
}

fn load_pki(args: &Settings, names: &[&str]) -> Result<Pki, Error> {
    let (Some(cert), Some(key)) = (&args.ca_cert, &args.ca_key) else {
        return Pki::generate(names)
            .map_err(|e| Error::Startup(format!("generating its PKI failed: {e}")));
    };
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))
    };
    let (cert_pem, key_pem) = (read(cert)?, Zeroizing::new(read(key)?));
    Pki::from_ca(&cert_pem, &key_pem, names).map_err(|_| {
        Error::Config(vec![crate::error::Problem::new(
            "--ca-cert/--ca-key",
            "cannot sign with this CA; give a PEM CA certificate and its PKCS#8 key (openssl pkcs8 -topk8 -nocrypt converts a PKCS#1 key)",
        )])
    })
}

/// Reads the consumers, roles and revocation list in the shape of the team's `authorisation.yaml`.
fn load_consumers(path: &Path) -> Result<Rules, Error> {
    let problem = |why| {
        Error::Config(vec![crate::error::Problem::new(
            format!("--consumers {}", path.display()),
            why,
        )])
    };
    let text = crate::access::read_file(path).map_err(problem)?;
    Rules::from_yaml(&text).map_err(problem)
}

/// Writes the variables as a file to source, readable by its owner only: it holds keys. The file is made new
/// (mode 0600) beside the target and renamed over it, so an existing file's wider mode never applies.
fn write_env(path: &Path, vars: &[(String, String)]) -> Result<(), Error> {
    let mut text = Zeroizing::new(String::from(
        "# heartbeat sandbox: `. ./this-file` then `heartbeat check`\n",
    ));
    for (name, value) in vars {
        text.push_str(&format!(
            "export {name}='{}'\n",
            value.replace('\'', r"'\''")
        ));
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let result = options
            .open(&temporary)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .and_then(|()| std::fs::rename(&temporary, path));
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result
    };
    write().map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
