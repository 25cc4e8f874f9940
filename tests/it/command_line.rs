//! The command line a user meets: completions and a man page from the binary, help that shows examples and one
//! default per flag, messages people can read, and colour conventions (NO_COLOR, CLICOLOR_FORCE).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

fn output(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = heartbeat()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_are_valid_scripts_and_the_man_page_is_roff() {
    let (code, bash, _) = output(&["completions", "bash"], &[]);
    assert_eq!(code, 0);
    let mut check = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(bash.as_bytes())
        .unwrap();
    assert!(
        check.wait().unwrap().success(),
        "bash -n refused the completion script"
    );
    for shell in ["zsh", "fish", "powershell"] {
        let (code, script, _) = output(&["completions", shell], &[]);
        assert!(code == 0 && script.contains("heartbeat"), "{shell}");
    }
    let (code, man, _) = output(&["man"], &[]);
    assert_eq!(code, 0);
    assert!(
        man.starts_with(".TH heartbeat 1"),
        "{}",
        &man[..80.min(man.len())]
    );
    for section in [
        "ENVIRONMENT",
        "EXIT STATUS",
        "SERVICE_URL",
        "HTTPS_PROXY",
        "130",
        "143",
    ] {
        assert!(man.contains(section), "{section} missing from the man page");
    }
    // One page with every command and its flags; no reference to pages that are not shipped.
    for section in [
        ".SH \"HEARTBEAT CHECK\"",
        ".SH \"HEARTBEAT SUITE\"",
        ".SH \"HEARTBEAT CERT INSPECT\"",
        ".SH \"HEARTBEAT SANDBOX\"",
        "\\-\\-only",
        "\\-\\-attempts",
        "\\-\\-cert\\-warn\\-days",
        "\\-\\-write\\-env",
    ] {
        assert!(man.contains(section), "{section} missing from the man page");
    }
    assert!(!man.contains("(1)"), "a reference to another page");
    // groff, as man runs it, reads the page without a single warning.
    let groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    match groff {
        Err(_) => skip("the man page through groff", "groff is not installed"),
        Ok(mut groff) => {
            groff
                .stdin
                .take()
                .unwrap()
                .write_all(man.as_bytes())
                .unwrap();
            let done = groff.wait_with_output().unwrap();
            assert!(
                done.status.success() && done.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&done.stderr)
            );
        }
    }
}

#[test]
fn every_subcommand_help_ends_with_examples() {
    for command in [
        &["check"][..],
        &["suite"],
        &["cert", "inspect"],
        &["sandbox"],
        &["demo"],
        &["completions"],
        &["man"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let (code, help, _) = output(&args, &[]);
        assert_eq!(code, 0, "{command:?}");
        assert!(
            help.contains("\nExamples:\n  heartbeat "),
            "{command:?} has no examples:\n{help}"
        );
    }
    let (_, check, _) = output(&["check", "--help"], &[]);
    for name in ["HTTPS_PROXY", "NO_PROXY", "read from API_KEY only"] {
        assert!(check.contains(name), "{name} missing from check --help");
    }
    let (_, sandbox, _) = output(&["sandbox", "--help"], &[]);
    assert!(
        !sandbox.contains("[default: 0]") && sandbox.contains("--port <PORT>"),
        "{sandbox}"
    );
    assert!(
        sandbox.contains("limited-access") && sandbox.contains("/fault/gateway-timeout"),
        "{sandbox}"
    );
}

#[test]
fn an_api_key_on_the_command_line_is_refused_without_a_suggestion() {
    let (code, _, stderr) = output(&["check", "--api-key", "SENTINEL-argv-key"], &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the API key is read from API_KEY only"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("--api-key-header") && !stderr.contains("SENTINEL-argv-key"),
        "{stderr}"
    );
}

#[test]
fn sizes_and_durations_say_what_they_should_look_like() {
    let (code, _, stderr) = output(&["check", "--max-body", "big"], &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("\"big\" is not a size; write it like 10MiB"),
        "{stderr}"
    );
    let sandbox = sandbox();
    let run = check(
        &vars(&sandbox, "/fault/slow?delay=3s"),
        &["--attempts", "1", "--timeout", "1500ms"],
    );
    assert!(
        run.stderr.contains("no complete answer within 1.5s"),
        "{}",
        run.stderr
    );
    let reset = check(&vars(&sandbox, "/fault/reset"), &["--attempts", "1"]);
    assert!(
        !reset.stderr.contains("https://docs.rs"),
        "{}",
        reset.stderr
    );
}

#[test]
fn quiet_still_warns_of_a_certificate_about_to_expire() {
    let sandbox = sandbox();
    let short = sandbox.pki().issue_client("short-lived", -1, 10).unwrap();
    let run = check(&sandbox.environment(PERSON, &short), &["--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: the client certificate expires in"),
        "{}",
        run.stderr
    );
}

#[test]
fn colour_follows_no_color_clicolor_force_and_the_flag_for_clap_too() {
    let sandbox = sandbox();
    let env = vars(&sandbox, "/fault/error");
    let colour = |extra: &[(&str, &str)], flags: &[&str]| {
        let mut command = heartbeat();
        command.arg("check").args(["--attempts", "1"]).args(flags);
        command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .envs(extra.iter().copied());
        String::from_utf8_lossy(&command.output().unwrap().stderr).contains('\u{1b}')
    };
    assert!(
        colour(&[("CLICOLOR_FORCE", "1")], &[]),
        "CLICOLOR_FORCE=1 forces colour into a pipe"
    );
    assert!(!colour(&[("CLICOLOR_FORCE", "0")], &[]));
    assert!(!colour(
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &["--color", "never"]
    ));
    let (_, _, always) = output(&["chek", "--color", "always"], &[]);
    let (_, _, never) = output(&["chek", "--color=never"], &[("CLICOLOR_FORCE", "1")]);
    assert!(
        always.contains('\u{1b}') && !never.contains('\u{1b}'),
        "{always:?} / {never:?}"
    );
}

#[test]
fn the_exit_code_table_in_help_and_the_readme_agree() {
    let (_, help, _) = output(&["--help"], &[]);
    let codes = |lines: Vec<&str>| -> Vec<String> {
        let mut found: Vec<String> = lines
            .iter()
            .flat_map(|line| {
                line.split(',')
                    .map(str::trim)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|code| !code.is_empty() && code.chars().all(|c| c.is_ascii_digit()))
            .collect();
        found.sort();
        found
    };
    let help_table = help
        .split("Exit codes:")
        .nth(1)
        .expect("an exit-code table in --help");
    let from_help = codes(
        help_table
            .lines()
            .filter_map(|l| l.trim().split("  ").next())
            .collect(),
    );
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("### Exit codes")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .find(|b| b.contains("| code |"))
        .unwrap();
    let from_readme = codes(
        section
            .lines()
            .filter_map(|l| l.split('|').nth(1))
            .collect(),
    );
    assert_eq!(from_help, from_readme);
    assert!(
        from_help.contains(&"130".to_string()) && from_help.contains(&"5".to_string()),
        "{from_help:?}"
    );
}
