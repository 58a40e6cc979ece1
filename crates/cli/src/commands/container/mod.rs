//! `berth container ...` and its top-level forms (`run`, `create`,
//! `start`, `stop`, `ps`, `exec`, `logs`, ...), one file per command as
//! docker/cli's `cli/command/container/*.go`; `run`/`create` options are
//! resolved in [`opts`].
//!
//! Shared here: the stream session of `run`, `start -a` and `attach`
//! ([`session`]), docker's exit codes for start failures
//! ([`status_error`]), and the loop of commands that act on several
//! containers and report each failure ([`for_each`]).

pub mod attach;
pub mod commit;
pub mod cp;
pub mod create;
pub mod diff;
pub mod exec;
pub mod export;
pub mod inspect;
pub mod kill;
pub mod list;
pub mod logs;
pub mod opts;
pub mod pause;
pub mod port;
pub mod prune;
pub mod remove;
pub mod rename;
pub mod restart;
pub mod run;
pub mod session;
pub mod start;
pub mod stats;
pub mod stop;
pub mod top;
pub mod update;
pub mod wait;

use crate::app::{App, print};
use crate::client::ClientError;
use crate::error::CliError;

/// docker's `toStatusError`: a start (or create) failure as
/// `berth: <error>` with the `--help` hint, exit 127 when the command was
/// not found, 126 when it cannot be executed, 125 otherwise.
pub fn status_error(e: &dyn std::fmt::Display, command: &str) -> CliError {
    let msg = e.to_string();
    let code = if msg.contains("executable file not found")
        || msg.contains("no such file or directory")
        || msg.contains("system cannot find the file specified")
    {
        127
    } else if msg.contains("permission denied") || msg.contains("is a directory") {
        126
    } else {
        125
    };
    with_help(&msg, command, code)
}

/// `berth: <msg>\n\nRun 'berth <command> --help' for more information`.
pub fn with_help(msg: &str, command: &str, code: i32) -> CliError {
    CliError::Status {
        message: format!("berth: {msg}\n\nRun 'berth {command} --help' for more information"),
        code,
    }
}

/// Run `op` on each container in order; print what it returns (a line,
/// usually the name given) and collect the failures, joined as docker
/// joins them (exit 1).
pub fn for_each(
    names: &[String],
    op: &mut dyn FnMut(&str) -> Result<Option<String>, CliError>,
) -> Result<(), CliError> {
    let mut errors = Vec::new();
    for n in names {
        match op(n) {
            Ok(Some(line)) => print(&format!("{line}\n"))?,
            Ok(None) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::Status {
            message: errors.join("\n"),
            code: 1,
        })
    }
}

/// `GET /containers/{id}/json` as JSON.
pub fn inspect_json(app: &App, id: &str) -> Result<serde_json::Value, CliError> {
    let client = app.client()?;
    let path = format!("/containers/{}/json", crate::client::path_escape(id));
    Ok(client.get_json(&path)?)
}

/// The daemon's error, if `e` is one (for messages built around it).
pub fn daemon_error(e: &CliError) -> Option<&ClientError> {
    match e {
        CliError::Client(c) => Some(c),
        _ => None,
    }
}

/// Signal names and numbers as docker's `signal.ParseSignal` accepts
/// them (`KILL`, `SIGKILL`, `9`); the number.
pub fn signal_number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (n > 0).then_some(n);
    }
    let name = s.to_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    let n = match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "TRAP" => 5,
        "ABRT" | "IOT" => 6,
        "BUS" => 7,
        "FPE" => 8,
        "KILL" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        "STKFLT" => 16,
        "CHLD" => 17,
        "CONT" => 18,
        "STOP" => 19,
        "TSTP" => 20,
        "TTIN" => 21,
        "TTOU" => 22,
        "URG" => 23,
        "XCPU" => 24,
        "XFSZ" => 25,
        "VTALRM" => 26,
        "PROF" => 27,
        "WINCH" => 28,
        "IO" | "POLL" => 29,
        "PWR" => 30,
        "SYS" => 31,
        _ => return None,
    };
    Some(n)
}
