//! `berth run`: docker's `runContainer` — create (pulling a missing
//! image), attach (hijacked), wait (`next-exit`, or `removed` with
//! `--rm`), start, pump the streams, exit with the container's code.
//! `-d` prints the ID instead; start failures exit 125/126/127 as docker.

use crate::app::{App, print};
use crate::cli::{RunArgs, Usage};
use crate::client::hijack::End;
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

use super::session::{self, Streams, Target};

/// Run `run`.
pub fn run(app: &App, a: &RunArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.opts.args, 1)?;
    super::create::check_pull(&a.opts.pull, "run")?;
    let mut c =
        super::opts::build(&a.opts).map_err(|e| super::with_help(&e.to_string(), "run", 125))?;
    if !a.detach {
        if c.attach_stdin && c.tty && !crate::app::stdin_is_terminal() {
            return Err(CliError::Usage("the input device is not a TTY".into()));
        }
    } else {
        if c.attach_given {
            return Err(CliError::Usage(
                "conflicting options: cannot specify both --attach and --detach".into(),
            ));
        }
        c.detach();
    }
    let detach_keys = match &a.detach_keys {
        Some(k) => Some(k.clone()),
        None => app
            .config()
            .ok()
            .and_then(|cfg| cfg.string("detachKeys").map(str::to_string)),
    };
    if let Some(k) = &detach_keys
        && let Err(e) = crate::client::hijack::detach_keys(k)
    {
        return Err(CliError::Usage(format!(
            "Invalid detach keys ({k}) provided: {e}"
        )));
    }
    let id = super::create::create_container(
        app,
        &c,
        &a.opts.pull,
        a.opts.quiet,
        a.opts.cidfile.as_deref(),
    )
    .map_err(|e| match e {
        CliError::Client(ce) => super::status_error(&ce, "run"),
        other => other,
    })?;
    let client = app.client()?;
    let attach = c.attach_stdin || c.attach_stdout || c.attach_stderr;
    if a.sig_proxy && !c.tty && attach {
        session::helper(client, Target::Container(id.clone()), false, true);
    }
    let streams = Streams {
        stdin: c.attach_stdin,
        stdout: c.attach_stdout,
        stderr: c.attach_stderr,
        tty: c.tty,
        detach_keys,
    };
    let hijacked = if attach {
        Some(session::attach(client, &id, &streams)?)
    } else {
        None
    };
    let condition = if c.auto_remove {
        "removed"
    } else {
        "next-exit"
    };
    let waiter = session::wait_request(client, &id, condition)?;
    let started = client
        .send(Request::new(
            Method::Post,
            format!("/containers/{}/start", path_escape(&id)),
        ))
        .and_then(|r| r.bytes());
    if let Err(e) = started {
        if c.auto_remove {
            let _ = session::wait_status(waiter);
        }
        return Err(super::status_error(&e, "run"));
    }
    let Some(h) = hijacked else {
        return print(&format!("{id}\n"));
    };
    if c.tty {
        session::helper(client, Target::Container(id.clone()), true, false);
    }
    if session::pump(h, &streams)? == End::Detached {
        return Ok(());
    }
    let status = session::wait_status(waiter);
    if status != 0 {
        return Err(CliError::Status {
            message: String::new(),
            code: status,
        });
    }
    Ok(())
}
