//! `berth`: Docker's command line for the Berth engine. It speaks the
//! Docker Engine API, so it drives berthd and dockerd alike; command
//! names, flags, output formats, messages and exit codes are docker 28's.
//!
//! # Layout
//!
//! - [`cli`]: the clap structs (what the user types), no behaviour.
//! - [`commands`]: one module per command group (`image/`, `container/`,
//!   `volume/`, `system/`, `auth/`), one file per command, turning
//!   arguments into API calls and output; `container/opts/` resolves
//!   `run`/`create` flags into the create request. Networks add a group.
//! - [`client`]: the API transport (unix socket, TCP, TLS; hyper on a
//!   current-thread tokio runtime behind a blocking interface), version
//!   negotiation, docker's error texts.
//! - [`format`]: docker's formatter — a Go `text/template` engine, the
//!   table writer, go-units, Go time formats, JSON as Go writes it.
//! - [`inspect`]: `inspect` output (raw JSON, or templates on typed values
//!   with a raw fallback).
//! - [`progress`]: the JSON message streams of pull/push/load/import.
//! - [`term`]: raw terminal mode and window size for TTY sessions.
//! - [`config`]: the client config file and credential helpers.
//! - [`reference`]: image reference normalisation.
//! - [`autostart`]: starting berthd when it is not running.
//!
//! # Choices (where docker's behaviour had to be adapted)
//!
//! - Daemon address: `-H` (once), else `BERTH_HOST`, else
//!   `unix:///run/berth/berth.sock`. `DOCKER_HOST` is deliberately not
//!   read, so a shell set up for the docker CLI does not silently point
//!   berth at dockerd.
//! - TLS: `--tls` (no verification), `--tlsverify` or `BERTH_TLS_VERIFY`
//!   (verify against the CA); files default to `ca.pem`, `cert.pem`,
//!   `key.pem` in `BERTH_CERT_PATH` or `~/.berth`.
//! - Client config: `--config`, else `BERTH_CONFIG`, else `DOCKER_CONFIG`,
//!   else `~/.docker`: `berth login` and `docker login` share credentials
//!   and credential helpers.
//! - Auto-start: when the address is the default socket, nothing answers
//!   there and the user is root, `berth` starts `berthd` (next to itself,
//!   else on `PATH`), says so on stderr, waits up to 5 s for `/_ping`, and
//!   continues. `BERTH_NO_AUTOSTART=1` turns this off.
//! - Unreachable daemon: `Cannot connect to the Berth daemon at
//!   unix:///run/berth/berth.sock. Is the berth daemon running?`, exit 1.
//! - Exit codes: 125 for flag errors, 64 for inspect/version templates that
//!   do not parse, 1 for every other error, as docker 28.
//! - Where docker's output order depends on Go map iteration (tags of one
//!   image in `images`, runtimes in `info`), berth uses a stable order.
//! - `BERTH_API_VERSION` fixes the API version (no negotiation).

pub mod app;
pub mod autostart;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod error;
pub mod format;
pub mod inspect;
pub mod progress;
pub mod reference;
pub mod term;

use clap::Parser;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::error::CliError;

/// The (sub)command `args` name, following subcommand names past the
/// global flags and their values.
fn resolve_command(args: &[std::ffi::OsString]) -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = cli::Cli::command();
    let takes_value = [
        "-H",
        "--host",
        "--config",
        "-l",
        "--log-level",
        "--tlscacert",
        "--tlscert",
        "--tlskey",
    ];
    // `run -h` is --hostname; clap's help flag is turned off there
    let mut it = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    let mut at_root = true;
    while let Some(a) = it.next() {
        if a.starts_with('-') {
            if at_root && takes_value.contains(&a.as_str()) {
                it.next();
            }
            continue;
        }
        let found = cmd
            .get_subcommands()
            .find(|c| c.get_name() == a || c.get_all_aliases().any(|al| al == a))
            .cloned();
        match found {
            Some(sub) => {
                cmd = sub;
                at_root = false;
            }
            None => break,
        }
    }
    cmd
}

/// The usage line of a command (`berth images [OPTIONS] ...`).
fn usage_line(cmd: &clap::Command) -> String {
    let text = cmd.clone().render_usage().to_string();
    text.trim().trim_start_matches("Usage:").trim().to_string()
}

/// The command path of a usage line (`berth image ls`).
fn path_of(usage: &str) -> String {
    usage
        .split_whitespace()
        .take_while(|w| !w.starts_with('[') && !w.chars().next().is_some_and(char::is_uppercase))
        .collect::<Vec<_>>()
        .join(" ")
}

fn context_str(e: &clap::Error, kind: ContextKind) -> String {
    match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(" "),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// `-H, --human` for the flag clap names `--human[=<HUMAN>]` or `-H`.
fn flag_names(cmd: &clap::Command, arg: &str) -> String {
    let name = arg.split(['[', '=', ' ']).next().unwrap_or(arg);
    let found = cmd.get_arguments().find(|a| {
        a.get_long().is_some_and(|l| format!("--{l}") == name)
            || a.get_short().is_some_and(|c| format!("-{c}") == name)
    });
    match found {
        Some(a) => match (a.get_short(), a.get_long()) {
            (Some(s), Some(l)) => format!("-{s}, --{l}"),
            (None, Some(l)) => format!("--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, None) => name.to_string(),
        },
        None => name.to_string(),
    }
}

/// A clap error in docker's words: `unknown flag: --x`, `unknown
/// shorthand flag: 'x' in -x`, `flag needs an argument: --format`, with the
/// usage line (exit 125); unknown commands exit 1.
fn clap_error(e: &clap::Error, args: &[std::ffi::OsString]) -> Option<CliError> {
    let cmd = resolve_command(args);
    let usage = usage_line(&cmd);
    let path = path_of(&usage);
    let with_usage = |msg: String| {
        CliError::Flags(format!(
            "{msg}\n\nUsage:  {usage}\n\nRun '{path} --help' for more information"
        ))
    };
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => None,
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => None,
        ErrorKind::UnknownArgument => {
            let arg = context_str(e, ContextKind::InvalidArg);
            let flag = arg.split('=').next().unwrap_or(&arg).to_string();
            if flag.starts_with("--") {
                Some(with_usage(format!("unknown flag: {flag}")))
            } else if let Some(c) = flag.strip_prefix('-').and_then(|f| f.chars().next()) {
                Some(with_usage(format!(
                    "unknown shorthand flag: '{c}' in {flag}"
                )))
            } else {
                // a stray argument where none is accepted
                Some(CliError::Usage(format!(
                    "berth: '{path}' accepts no arguments\n\nUsage:  {usage}\n\nRun '{path} --help' for more information"
                )))
            }
        }
        ErrorKind::InvalidSubcommand => {
            let sub = context_str(e, ContextKind::InvalidSubcommand);
            if path == "berth" {
                Some(CliError::Usage(format!(
                    "berth: unknown command: berth {sub}\n\nRun 'berth --help' for more information"
                )))
            } else {
                Some(CliError::Usage(format!(
                    "berth: unknown command: {path} {sub}\n\nUsage:  {path}\n\nRun '{path} --help' for more information"
                )))
            }
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::ValueValidation => {
            let arg = context_str(e, ContextKind::InvalidArg);
            let value = context_str(e, ContextKind::InvalidValue);
            let names = flag_names(&cmd, &arg);
            if value.is_empty() {
                let long = names.rsplit(", ").next().unwrap_or(&names).to_string();
                Some(with_usage(format!("flag needs an argument: {long}")))
            } else {
                let reason = if arg.contains("--human") {
                    format!("strconv.ParseBool: parsing {value:?}: invalid syntax")
                } else if let Some(src) = std::error::Error::source(e) {
                    src.to_string()
                } else {
                    e.kind().to_string()
                };
                Some(with_usage(format!(
                    "invalid argument {value:?} for {names:?} flag: {reason}"
                )))
            }
        }
        _ => Some(with_usage(
            e.render()
                .to_string()
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string(),
        )),
    }
}

/// Run `berth` with `args` (the program name first); the exit code.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    let parsed = match cli::Cli::try_parse_from(&args) {
        Ok(p) => p,
        Err(e) => match clap_error(&e, &args) {
            None => {
                let _ = e.print();
                return 0;
            }
            Some(err) => return report(err),
        },
    };
    if parsed.global.version {
        println!("Berth version {}", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    let Some(command) = parsed.command else {
        use clap::CommandFactory;
        let _ = cli::Cli::command().print_help();
        return 0;
    };
    let settings = match app::Settings::resolve(&parsed.global) {
        Ok(s) => s,
        Err(e) => return report(e),
    };
    let app = app::App::new(settings);
    match commands::run(&app, command) {
        Ok(()) => 0,
        Err(e) => report(e),
    }
}

/// Print an error as docker does and return its exit code.
fn report(e: CliError) -> i32 {
    let text = e.to_string();
    if !text.is_empty() {
        eprintln!("{text}");
    }
    e.exit_code()
}

/// The `berth` binary's entry point.
pub fn main() -> i32 {
    run(std::env::args_os().collect())
}
