//! Completions and the man page, generated from the clap definitions (and the one exit-code table) so they
//! never drift from the flags.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_mangen::roff::{Roff, bold, roman};

use super::args::Cli;
use crate::error::EXIT_CODES_HELP;

/// The environment variables heartbeat reads, for the man page.
pub const ENVIRONMENT: [(&str, &str); 9] = [
    ("SERVICE_URL", "the URL to check (check)"),
    ("API_KEY", "sent in the x-api-key header (check)"),
    (
        "MTLS_CERT",
        "client certificate: base64 of a PEM file, PEM, or a file path",
    ),
    (
        "MTLS_KEY",
        "client private key: base64 of a PEM file, PEM, or a file path",
    ),
    (
        "SERVICE_CA_CERT",
        "optional private CA for the server, added to the built-in public roots",
    ),
    (
        "HTTPS_PROXY, ALL_PROXY",
        "proxy for https URLs (also lower case), as curl reads them",
    ),
    (
        "NO_PROXY",
        "hosts reached directly: names, domains (.example) or *",
    ),
    (
        "NO_COLOR",
        "when set and not empty, no colour (no-color.org)",
    ),
    (
        "CLICOLOR_FORCE",
        "when set and not 0, colour even when not a terminal",
    ),
];

/// Writes a completion script for a shell.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "heartbeat", out);
}

/// Writes the man page: clap's sections, then the environment and the exit codes.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    let page = clap_mangen::Man::new(Cli::command());
    // The title line first, as man pages (and `man -l`) expect; clap_mangen puts its quote macros before it.
    let mut title = Vec::new();
    page.render_title(&mut title)?;
    let title = String::from_utf8_lossy(&title);
    let (th, rest): (Vec<&str>, Vec<&str>) = title.lines().partition(|l| l.starts_with(".TH"));
    for line in th.into_iter().chain(rest) {
        writeln!(out, "{line}")?;
    }
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    // One page with every command and its options: clap_mangen's own subcommand list points at
    // heartbeat-check(1) and others, pages nobody ships.
    commands(out, &Cli::command(), "heartbeat")?;
    let mut roff = Roff::new();
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, what) in ENVIRONMENT {
        roff.control("TP", [])
            .text([bold(name)])
            .text([roman(what)]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for line in EXIT_CODES_HELP.lines().skip(1) {
        let (codes, what) = line.trim().split_once("  ").unwrap_or((line.trim(), ""));
        roff.control("TP", [])
            .text([bold(codes.trim())])
            .text([roman(what.trim())]);
    }
    roff.to_writer(out)?;
    page.render_version_section(out)
}

/// Writes a section per command (nested ones too, like `cert inspect`): its usage, what it does, its options.
fn commands(out: &mut dyn Write, parent: &clap::Command, path: &str) -> io::Result<()> {
    for command in parent.get_subcommands().filter(|c| !c.is_hide_set()) {
        let path = format!("{path} {}", command.get_name());
        let mut roff = Roff::new();
        roff.control("SH", [path.to_uppercase().as_str()]);
        if let Some(about) = command.get_long_about().or(command.get_about()) {
            roff.text([roman(about.to_string())]);
        }
        roff.control("PP", [])
            .text([bold("Usage: "), roman(format!("{path} {}", usage(command)))]);
        roff.to_writer(out)?;
        let mut options = Vec::new();
        clap_mangen::Man::new(command.clone()).render_options_section(&mut options)?;
        let options = String::from_utf8_lossy(&options);
        out.write_all(options.replacen(".SH OPTIONS", ".SS Options", 1).as_bytes())?;
        commands(out, command, &path)?;
    }
    Ok(())
}

/// The command's arguments as clap writes them after its name (`[OPTIONS] <FILE>`).
fn usage(command: &clap::Command) -> String {
    let rendered = command.clone().render_usage().to_string();
    let line = rendered.trim_start_matches("Usage: ");
    line.split_once(' ')
        .map_or("", |(_, args)| args)
        .to_string()
}
