//! `berth attach`: refuse stopped and paused containers as docker does,
//! attach (stdin unless `--no-stdin` or the container has none), pump,
//! and exit with the container's code when it ends.

use crate::app::App;
use crate::cli::{AttachArgs, Usage};
use crate::client::hijack::End;
use crate::commands::exact_args;
use crate::error::CliError;

use super::session::{self, Streams, Target};

/// Run `attach`.
pub fn run(app: &App, a: &AttachArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 1)?;
    let info = super::inspect_json(app, &a.args[0])?;
    let state = &info["State"];
    if !state["Running"].as_bool().unwrap_or(false) {
        return Err(CliError::Usage(
            "You cannot attach to a stopped container, start it first".into(),
        ));
    }
    if state["Paused"].as_bool().unwrap_or(false) {
        return Err(CliError::Usage(
            "You cannot attach to a paused container, unpause it first".into(),
        ));
    }
    let cfg = &info["Config"];
    let tty = cfg["Tty"].as_bool().unwrap_or(false);
    let id = info["Id"].as_str().unwrap_or(&a.args[0]).to_string();
    let stdin = !a.no_stdin && cfg["OpenStdin"].as_bool().unwrap_or(false);
    if stdin && tty && !crate::app::stdin_is_terminal() {
        return Err(CliError::Usage("the input device is not a TTY".into()));
    }
    let streams = Streams {
        stdin,
        stdout: true,
        stderr: true,
        tty,
        detach_keys: a.detach_keys.clone(),
    };
    let client = app.client()?;
    session::helper(
        client,
        Target::Container(id.clone()),
        tty,
        a.sig_proxy && !tty,
    );
    let h = session::attach(client, &id, &streams)?;
    if session::pump(h, &streams)? == End::Detached {
        return Ok(());
    }
    let status = session::wait_status(session::wait_request(client, &id, "not-running")?);
    if status != 0 {
        return Err(CliError::Status {
            message: String::new(),
            code: status,
        });
    }
    Ok(())
}
