//! `berth exec`: `POST /containers/{id}/exec`, then `POST
//! /exec/{id}/start` — detached (`-d`), or hijacked and pumped like an
//! attach — and the process's exit code from `GET /exec/{id}/json`.

use serde_json::json;

use crate::app::App;
use crate::cli::{ExecArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

use super::opts::env::env_strings;
use super::session::{self, Streams, Target};

/// Run `exec`.
pub fn run(app: &App, a: &ExecArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 2)?;
    let container = &a.args[0];
    let cmd: Vec<String> = a.args[1..].to_vec();
    let env = env_strings(&a.env_file, &a.env).map_err(|e| CliError::Usage(e.to_string()))?;
    let detach_keys = match &a.detach_keys {
        Some(k) => Some(k.clone()),
        None => app
            .config()
            .ok()
            .and_then(|cfg| cfg.string("detachKeys").map(str::to_string)),
    };
    let attach = !a.detach;
    let stdin = a.interactive && attach;
    if !a.detach && a.interactive && a.tty && !crate::app::stdin_is_terminal() {
        return Err(CliError::Usage("the input device is not a TTY".into()));
    }
    let client = app.client()?;
    let mut body = json!({
        "User": a.user.clone().unwrap_or_default(),
        "Privileged": a.privileged,
        "Tty": a.tty,
        "AttachStdin": stdin,
        "AttachStderr": attach,
        "AttachStdout": attach,
        "Detach": a.detach,
        "Env": env,
        "WorkingDir": a.workdir.clone().unwrap_or_default(),
        "Cmd": cmd,
    });
    if let Some(k) = &detach_keys {
        body["DetachKeys"] = json!(k);
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Created {
        id: String,
    }
    let created: Created = client
        .send(
            Request::new(
                Method::Post,
                format!("/containers/{}/exec", path_escape(container)),
            )
            .json(&body),
        )?
        .json()?;
    let exec_id = created.id;
    let start = || {
        Request::new(Method::Post, format!("/exec/{exec_id}/start"))
            .json(&json!({"Detach": a.detach, "Tty": a.tty}))
    };
    if a.detach {
        client.send(start())?.bytes()?;
        return Ok(());
    }
    let streams = Streams {
        stdin,
        stdout: true,
        stderr: true,
        tty: a.tty,
        detach_keys,
    };
    let h = client.hijack(start())?;
    if a.tty {
        session::helper(client, Target::Exec(exec_id.clone()), true, false);
    }
    session::pump(h, &streams)?;
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Inspect {
        exit_code: Option<i64>,
        running: bool,
    }
    let mut code = 0;
    for _ in 0..100 {
        let i: Inspect = client.get_json(&format!("/exec/{exec_id}/json"))?;
        if !i.running {
            code = i.exit_code.unwrap_or(0);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if code != 0 {
        return Err(CliError::Status {
            message: String::new(),
            code: code as i32,
        });
    }
    Ok(())
}
