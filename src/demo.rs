//! `heartbeat demo`: starts the sandbox in-process and runs real checks against it through the normal code
//! path, one healthy and three failing for reasons users meet, then a suite over the sandbox's consumers, each
//! under a one-line caption.

use std::io::Write;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;

use secrecy::SecretString;

use crate::engine::{self, Outputs, Shape};
use crate::environment::Environment;
use crate::error::{Error, ExitCode};
use crate::followup::Followup;
use crate::plan::Plan;
use crate::plan::check::{Check, RetryPolicy};
use crate::plan::consumer::{self, Description, Named};
use crate::probe::assert::Expectations;
use crate::report::Format;
use crate::sandbox::pki::{Pair, Pki, SERVER_NAMES};
use crate::sandbox::{self, Handle, Options};
use crate::tls::identity;
use crate::tls::input::Input;

/// One demonstrated check and the exit code it should earn.
struct Scene<'a> {
    caption: &'a str,
    path: &'a str,
    /// Attempts, and the wait between them.
    attempts: (u32, u64),
    client: &'a Pair,
    /// Sends this API key instead of the sandbox's.
    api_key: Option<&'a str>,
    expected: ExitCode,
}

/// Runs the demo and succeeds when every scene ends as expected.
pub fn run(color: bool, out: &mut dyn Write) -> Result<ExitCode, Error> {
    let pki =
        Pki::generate(&SERVER_NAMES).map_err(|e| Error::Demo(format!("generating a PKI: {e}")))?;
    let expired = pki
        .issue_client("heartbeat-demo-expired", -400, -35)
        .map_err(|e| Error::Demo(format!("issuing a certificate: {e}")))?;
    let api_key = SecretString::from(uuid::Uuid::new_v4().simple().to_string());
    let options = Options::new(([127, 0, 0, 1], 0).into(), api_key, Arc::new(pki));
    let sandbox = Handle::start(options)?;
    let client = &sandbox.pki().client;
    let scenes = [
        Scene {
            caption: "a healthy check: the API answers 200 with a person's firstName",
            path: sandbox::PERSONS_PATH,
            attempts: (1, 0),
            client,
            api_key: None,
            expected: ExitCode::Healthy,
        },
        Scene {
            caption: "the API fails on its side: 500 with a userMessage (two quick attempts)",
            path: "/fault/error",
            attempts: (2, 200),
            client,
            api_key: None,
            expected: ExitCode::Unhealthy,
        },
        Scene {
            caption: "an expired client certificate is caught before anything is sent",
            path: sandbox::PERSONS_PATH,
            attempts: (1, 0),
            client: &expired,
            api_key: None,
            expected: ExitCode::Usage,
        },
        Scene {
            caption: "the API gateway refuses a wrong API key: 403 {\"message\":\"Forbidden\"}, not retried",
            path: sandbox::PERSONS_PATH,
            attempts: (3, 200),
            client,
            api_key: Some("a-key-from-another-environment"),
            expected: ExitCode::Unhealthy,
        },
    ];
    let write = |result| Error::output("writing the demo", result);
    write(writeln!(
        out,
        "heartbeat demo: a local Integration API on {} (API Gateway in front, mutual TLS, API keys, consumers)\n",
        sandbox.url("")
    ))?;
    let mut surprises = Vec::new();
    for (number, scene) in scenes.iter().enumerate() {
        write(writeln!(out, "── {}. {} ──", number + 1, scene.caption))?;
        let code = play(&sandbox, scene, color, out)?;
        write(writeln!(out, "   → exit code {}\n", code.code()))?;
        if code != scene.expected {
            surprises.push(format!(
                "scene {} exited {} instead of {}",
                number + 1,
                code.code(),
                scene.expected.code()
            ));
        }
    }
    write(writeln!(
        out,
        "── 5. a suite from the dev smoke tests: doors that open, a captured id, and doors locked each for its reason ──"
    ))?;
    let code = suite_scene(&sandbox, color, out)?;
    write(writeln!(out, "   → exit code {}\n", code.code()))?;
    if code != ExitCode::Healthy {
        surprises.push(format!("the suite exited {} instead of 0", code.code()));
    }
    if !surprises.is_empty() {
        return Err(Error::Demo(surprises.join("; ")));
    }
    write(writeln!(
        out,
        "heartbeat demo: all four checks and the suite behaved as expected"
    ))?;
    Ok(ExitCode::Healthy)
}

fn play(
    sandbox: &Handle,
    scene: &Scene<'_>,
    color: bool,
    out: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let outputs = Outputs {
        shape: Shape::Check,
        format: Format::Text,
        junit: None,
        quiet: false,
        color,
        verbose: false,
    };
    let prepared = scene_plan(sandbox, scene).map(|plan| (plan, Followup::default()));
    let mut text = Vec::new();
    let code = match engine::run(prepared, &outputs, &mut std::io::sink(), &mut text) {
        Ok(code) => code,
        Err(error) => {
            // Writing into a Vec cannot fail.
            let _ = error.report(&mut text);
            error.exit_code()
        }
    };
    Error::output("writing the demo", out.write_all(&text))?;
    Ok(code)
}

/// Builds a scene's plan from plain values through the one consumer builder, with the same pre-flight checks
/// `heartbeat check` makes (an expired certificate is refused before anything is sent).
fn scene_plan(sandbox: &Handle, scene: &Scene<'_>) -> Result<Plan, Error> {
    let vars = sandbox.environment(scene.path, scene.client);
    let value = |name: &str| {
        let found = vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone());
        Named::new(
            name,
            Input::Value(SecretString::from(found.unwrap_or_default())),
        )
    };
    let key = scene
        .api_key
        .map_or_else(|| sandbox.api_key().to_string(), str::to_string);
    let roots = identity::root_store("SERVICE_CA_CERT", &[sandbox.pki().ca_cert_der().clone()])
        .map_err(|p| Error::Config(vec![p]))?;
    let description = Description {
        name: None,
        api_key: Some((
            consumer::default_key_header(),
            SecretString::from(key),
            "API_KEY".into(),
        )),
        pair: Some((value("MTLS_CERT"), value("MTLS_KEY"))),
        request_id_header: consumer::default_request_id_header(),
        headers: Vec::new(),
        roots,
        proxy: None,
    };
    let built = consumer::build(description, SystemTime::now()).map_err(Error::Config)?;
    let url =
        reqwest::Url::parse(&sandbox.url(scene.path)).map_err(|e| Error::Demo(e.to_string()))?;
    let expectations = Expectations::new(&[200], &[], &[]).map_err(|p| Error::Config(vec![p]))?;
    let retry = RetryPolicy {
        attempts: scene.attempts.0,
        delay: Duration::from_millis(scene.attempts.1),
        ..RetryPolicy::default()
    };
    let check = Check::get(format!("GET {url}"), url, expectations, retry);
    let redactor = crate::redact::Redactor::new(built.secrets);
    Ok(Plan::one(check, built.consumer, redactor, 30))
}

/// The suite the demo runs: a few of the dev smoke suite's checks (examples/hmpps-integration-api/dev.toml),
/// against the sandbox's consumer profiles.
const DEMO_SUITE: &str = r#"
base_url = "https://${DOMAIN}"
[vars]
hmpps_id = { value = "A8451DY", env = "HMPPSID" }
[defaults]
attempts = 1
[consumers.main]
api_key = "${DEV_SMOKE_TEST_FULL_ACCESS_API_KEY}"
cert = "${DEV_SMOKE_TEST_FULL_ACCESS_CERT}"
key = "${DEV_SMOKE_TEST_FULL_ACCESS_KEY}"
[consumers.partial]
api_key = "${DEV_SMOKE_TEST_LIMITED_ACCESS_API_KEY}"
cert = "${DEV_SMOKE_TEST_LIMITED_ACCESS_CERT}"
key = "${DEV_SMOKE_TEST_LIMITED_ACCESS_KEY}"
[consumers.nocert]
api_key = "${DEV_SMOKE_TEST_NO_ACCESS_API_KEY}"
[consumers.revoked]
api_key = "${DEV_SMOKE_TEST_REVOKED_API_KEY}"
cert = "${DEV_SMOKE_TEST_REVOKED_CERT}"
key = "${DEV_SMOKE_TEST_REVOKED_KEY}"
[[check]]
name = "person"
consumer = "main"
path = "/v1/persons/{hmpps_id}"
capture = { nomis = "$.data.prisonerOffenderSearch.identifiers.nomisNumber" }
[[check]]
name = "prisoner by the captured NOMIS number"
consumer = "main"
path = "/v1/prison/prisoners/{nomis}"
expect_not_null = ["$.data.prisonId"]
[[check]]
name = "the WAF blocks SQL injection"
consumer = "main"
path = "/v1/status?id=abc'+or+'1'%3D'1'"
expect = "refused"
refused_by = "waf"
[[check]]
name = "partial: search is refused"
consumer = "partial"
path = "/v1/persons?first_name=john"
expect = "refused"
refused_by = "application"
[[check]]
name = "no certificate is refused"
consumer = "nocert"
path = "/v1/status"
expect = "refused"
refused_by = "tls"
[[check]]
name = "a revoked certificate is refused"
consumer = "revoked"
path = "/v1/status"
expect = "refused"
refused_with = "has been revoked"
"#;

fn suite_scene(sandbox: &Handle, color: bool, out: &mut dyn Write) -> Result<ExitCode, Error> {
    let mut vars = sandbox.profile_environment()?;
    vars.push((
        crate::environment::SERVICE_CA_CERT.to_string(),
        base64::engine::general_purpose::STANDARD.encode(&sandbox.pki().ca_cert_pem),
    ));
    let env = Environment::from_pairs(vars.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let plan = crate::plan::suite_file::plan("demo.toml", DEMO_SUITE, &env, &Default::default())?;
    let text = crate::report::TextReport::new(color, false);
    let runtime = crate::process::runtime()?;
    let mut written = Vec::new();
    let mut listener = {
        let _inside = runtime.enter();
        crate::interrupt::Listener::new()
    };
    let outcome = engine::execute(
        &plan,
        Shape::Suite,
        &text,
        &runtime,
        &mut listener,
        &mut written,
    );
    Error::output("writing the demo", out.write_all(&written))?;
    Ok(outcome.code)
}
