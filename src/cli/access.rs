//! `heartbeat access`: the team's authorisation config, explained, compared and turned into a matrix of
//! checks. Reads files, sends nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::access::{Decision, Probe, Route, Rules};
use crate::environment::Environment;
use crate::error::{Error, ExitCode, Problem};

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Says whether a consumer may call a path, and by which role and permission (exit 0 allowed, 1 refused).
    #[command(
        after_help = "Examples:\n  heartbeat access explain --config authorisation.yaml limited-access /v1/persons/A8451DY/name"
    )]
    Explain(ExplainArgs),
    /// Lists the routes each consumer gains and loses between two versions of the config (gains first).
    #[command(
        after_help = "Examples:\n  heartbeat access diff old/authorisation.yaml authorisation.yaml --fail-on-gain"
    )]
    Diff(DiffArgs),
    /// Writes a suite with one check per probe consumer and route, from the config.
    #[command(
        after_help = "Examples:\n  heartbeat access matrix --config authorisation.yaml --probe full-access=FULL_ACCESS \\\n    --probe limited-access=LIMITED_ACCESS --fixtures fixtures.toml --output matrix.toml\n  heartbeat suite matrix.toml"
    )]
    Matrix(MatrixArgs),
}

/// The configuration and, optionally, roles of its own.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The consumers file, in the shape of authorisation.yaml
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Role definitions (authorisation.roles.<role>.permissions) over the team's built-in roles
    #[arg(long, value_name = "FILE")]
    pub roles: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The consumer: its certificate's CN
    #[arg(value_name = "CONSUMER")]
    pub consumer: String,
    /// The path it calls (a query string is ignored, as the application ignores it)
    #[arg(value_name = "PATH")]
    pub path: String,
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    /// The API's routes: its OpenAPI document (api-docs.json) or a list of paths [default: the team's 111]
    #[arg(long, value_name = "FILE")]
    pub routes: Option<PathBuf>,
    /// Values for the routes' placeholders (TOML: hmppsId = "A8451DY")
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The config before the change
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The config after the change
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Roles for both (or for OLD, with --new-roles)
    #[arg(long, value_name = "FILE")]
    pub roles: Option<PathBuf>,
    /// Roles for NEW, when the change is to the roles
    #[arg(long, value_name = "FILE")]
    pub new_roles: Option<PathBuf>,
    #[command(flatten)]
    pub routes: RouteArgs,
    /// Exit 1 when any consumer gains a route (a check for the configuration's pull requests)
    #[arg(long)]
    pub fail_on_gain: bool,
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub routes: RouteArgs,
    /// A consumer you hold credentials for: CN=PREFIX, its variables <PREFIX>_API_KEY, _CERT, _KEY; repeatable
    #[arg(long, value_name = "CN=PREFIX", required = true)]
    pub probe: Vec<String>,
    /// Methods to check (other methods than GET may change data)
    #[arg(long, value_name = "METHOD", default_value = "GET")]
    pub method: Vec<String>,
    /// The suite's base_url
    #[arg(long, value_name = "URL", default_value = "${SERVICE_BASE_URL}")]
    pub base_url: String,
    /// Write the suite here instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs an access command.
pub fn run(
    command: &AccessCommand,
    env: &Environment,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitCode, Error> {
    match command {
        AccessCommand::Explain(args) => {
            let rules = rules(&args.config.config, args.config.roles.as_deref())?;
            let explained = crate::access::explain(&rules, &args.consumer, None, &args.path);
            Error::output(
                "writing the explanation",
                write!(stdout, "{}", explained.text(&args.consumer)),
            )?;
            Ok(match explained.decision {
                Decision::Allowed => ExitCode::Healthy,
                Decision::Refused { .. } => ExitCode::Unhealthy,
            })
        }
        AccessCommand::Diff(args) => {
            let old = rules(&args.old, args.roles.as_deref())?;
            let new = rules(
                &args.new,
                args.new_roles.as_deref().or(args.roles.as_deref()),
            )?;
            let (routes, fixtures) = routes(&args.routes)?;
            let changes = crate::access::diff(&old, &new, &routes, &fixtures);
            Error::output(
                "writing the diff",
                write!(stdout, "{}", crate::access::diff_text(&changes)),
            )?;
            let gained = changes.iter().any(|c| !c.gained.is_empty());
            Ok(if args.fail_on_gain && gained {
                ExitCode::Unhealthy
            } else {
                ExitCode::Healthy
            })
        }
        AccessCommand::Matrix(args) => matrix(args, env, stdout, stderr),
    }
}

fn matrix(
    args: &MatrixArgs,
    env: &Environment,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let rules = rules(&args.config.config, args.config.roles.as_deref())?;
    let (routes, fixtures) = routes(&args.routes)?;
    let probes = probes(&args.probe, env)?;
    let methods: Vec<String> = args.method.iter().map(|m| m.to_ascii_uppercase()).collect();
    let matrix = crate::access::generate(
        &rules,
        &routes,
        &fixtures,
        &probes,
        &methods,
        &args.base_url,
    )
    .map_err(|why| Error::Config(vec![Problem::new("--probe", why)]))?;
    match &args.output {
        Some(path) => crate::atomic_file::write(path, matrix.suite.as_bytes(), 0o644)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?,
        None => Error::output(
            "writing the suite",
            stdout.write_all(matrix.suite.as_bytes()),
        )?,
    }
    let summary = format!(
        "heartbeat access matrix: {} checks ({} allowed, {} refused) for {} consumers\n{}",
        matrix.checks,
        matrix.allowed,
        matrix.checks - matrix.allowed,
        probes.len(),
        matrix.coverage.text()
    );
    Error::output("writing the coverage", stderr.write_all(summary.as_bytes()))?;
    Ok(ExitCode::Healthy)
}

/// Reads a config, with roles of its own when given.
fn rules(config: &Path, roles: Option<&Path>) -> Result<Rules, Error> {
    let input = |path: &Path| format!("{}", path.display());
    let rules = read(config)
        .and_then(|text| Rules::from_yaml(&text))
        .map_err(|why| problem(input(config), why))?;
    match roles {
        Some(path) => read(path)
            .and_then(|text| rules.with_roles_file(&text))
            .map_err(|why| problem(input(path), why)),
        None => Ok(rules),
    }
}

/// Reads the routes (the team's by default) and the fixtures (none by default).
fn routes(args: &RouteArgs) -> Result<(Vec<Route>, BTreeMap<String, String>), Error> {
    let routes = match &args.routes {
        Some(path) => read(path).and_then(|t| crate::access::read_routes(&t)),
        None => crate::access::read_routes(crate::access::TEAM_ROUTES),
    }
    .map_err(|why| problem(format!("--routes {}", shown(args.routes.as_deref())), why))?;
    let fixtures = match &args.fixtures {
        Some(path) => read(path)
            .and_then(|t| crate::access::fixtures(&t))
            .map_err(|why| problem(format!("--fixtures {}", path.display()), why))?,
        None => BTreeMap::new(),
    };
    Ok((routes, fixtures))
}

fn shown(path: Option<&Path>) -> String {
    path.map_or("(the team's)".to_string(), |p| p.display().to_string())
}

/// Reads `CN=PREFIX` probes; a probe whose certificate variable is set has its serial read (a public
/// certificate only), so a revoked certificate is expected refused.
fn probes(found: &[String], env: &Environment) -> Result<Vec<Probe>, Error> {
    let mut probes = Vec::new();
    let mut problems = Vec::new();
    for text in found {
        let Some((cn, prefix)) = text.split_once('=') else {
            problems.push(Problem::new(
                "--probe",
                format!("{text:?} is not CN=PREFIX"),
            ));
            continue;
        };
        let valid = !prefix.is_empty()
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if cn.is_empty() || !valid {
            problems.push(Problem::new(
                "--probe",
                format!("{text:?}: the CN must not be empty and PREFIX is a variable name prefix (FULL_ACCESS)"),
            ));
            continue;
        }
        let variable = format!("{prefix}_CERT");
        let serial = match env.get(&variable) {
            Some(value) => {
                let input =
                    crate::tls::input::Input::Value(secrecy::SecretString::from(value.to_string()));
                match crate::tls::input::read_certificates(&variable, &input) {
                    Ok(certs) => certs.first().and_then(|c| serial_of(c.as_ref())),
                    Err(problem) => {
                        problems.push(problem);
                        None
                    }
                }
            }
            None => None,
        };
        probes.push(Probe {
            cn: cn.to_string(),
            prefix: prefix.to_string(),
            serial,
        });
    }
    if problems.is_empty() {
        Ok(probes)
    } else {
        Err(Error::Config(problems))
    }
}

fn serial_of(der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::prelude::FromDer as _;
    let (_, cert) = x509_parser::prelude::X509Certificate::from_der(der).ok()?;
    Some(cert.raw_serial().to_vec())
}

fn read(path: &Path) -> Result<String, String> {
    crate::access::read_file(path)
}

fn problem(input: String, why: String) -> Error {
    Error::Config(vec![Problem::new(input, why)])
}
