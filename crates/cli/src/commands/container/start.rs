//! `berth start`: `POST /containers/{id}/start` for each container
//! (printing each name), or with `-a`/`-i` for one container: attach,
//! wait, start, pump the streams and exit with its code, as docker's
//! `runStart`.

use crate::app::App;
use crate::cli::{StartArgs, Usage};
use crate::client::hijack::End;
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

use super::session::{self, Streams, Target};

/// Run `start`.
pub fn run(app: &App, a: &StartArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    if a.attach || a.interactive {
        if a.args.len() > 1 {
            return Err(CliError::Usage(
                "you cannot start and attach multiple containers at once".into(),
            ));
        }
        let name = &a.args[0];
        let info = super::inspect_json(app, name)?;
        let cfg = &info["Config"];
        let tty = cfg["Tty"].as_bool().unwrap_or(false);
        let id = info["Id"].as_str().unwrap_or(name).to_string();
        let streams = Streams {
            stdin: a.interactive && cfg["OpenStdin"].as_bool().unwrap_or(false),
            stdout: true,
            stderr: true,
            tty,
            detach_keys: a.detach_keys.clone(),
        };
        if !tty {
            session::helper(client, Target::Container(id.clone()), false, true);
        }
        let h = session::attach(client, &id, &streams)?;
        let auto_remove = info["HostConfig"]["AutoRemove"].as_bool().unwrap_or(false);
        let waiter = session::wait_request(
            client,
            &id,
            if auto_remove { "removed" } else { "next-exit" },
        )?;
        client
            .send(Request::new(
                Method::Post,
                format!("/containers/{}/start", path_escape(&id)),
            ))
            .and_then(|r| r.bytes())
            .map_err(|e| super::status_error(&e, "start"))?;
        if tty {
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
        return Ok(());
    }
    let mut failed = Vec::new();
    let mut errors = Vec::new();
    for n in &a.args {
        let r = client
            .send(Request::new(
                Method::Post,
                format!("/containers/{}/start", path_escape(n)),
            ))
            .and_then(|r| r.bytes());
        match r {
            Ok(_) => crate::app::print(&format!("{n}\n"))?,
            Err(e) => {
                errors.push(e.to_string());
                failed.push(n.clone());
            }
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    errors.push(format!(
        "Error: failed to start containers: {}",
        failed.join(", ")
    ));
    Err(CliError::Status {
        message: errors.join("\n"),
        code: 1,
    })
}
