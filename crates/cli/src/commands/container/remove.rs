//! `berth rm`: `DELETE /containers/{id}?v=&link=&force=` for each
//! container, printing each name; with `-f` a missing container is not an
//! error (its message is still printed).

use crate::app::App;
use crate::cli::{RmArgs, Usage};
use crate::client::{Category, Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

/// Run `rm`.
pub fn run(app: &App, a: &RmArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    let mut errors = Vec::new();
    let mut fatal = false;
    for n in &a.args {
        let name = n.trim_matches('/');
        if name.is_empty() {
            errors.push("Container name cannot be empty".to_string());
            fatal = true;
            continue;
        }
        let req = Request::new(Method::Delete, format!("/containers/{}", path_escape(name)))
            .query_if(a.volumes, "v", "1")
            .query_if(a.link, "link", "1")
            .query_if(a.force, "force", "1");
        match client.send(req).and_then(|r| r.bytes()) {
            Ok(_) => crate::app::print(&format!("{n}\n"))?,
            Err(e) => {
                if !(a.force && e.category() == Category::NotFound) {
                    fatal = true;
                }
                errors.push(e.to_string());
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let msg = errors.join("\n");
    if fatal {
        return Err(CliError::Status {
            message: msg,
            code: 1,
        });
    }
    eprintln!("{msg}");
    Ok(())
}
