//! `berth rmi` / `berth image rm`: `DELETE /images/{name}` per argument,
//! printing `Untagged:` and `Deleted:` lines; errors are collected, and
//! with `-f` only errors other than "not found" fail the command.

use serde::Deserialize;

use crate::app::{App, print};
use crate::cli::{RmiArgs, Usage};
use crate::client::{Category, Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DeleteResponse {
    untagged: String,
    deleted: String,
}

/// Run `rmi`.
pub fn run(app: &App, a: &RmiArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    let mut fatal = false;
    let mut errors = Vec::new();
    for img in &a.args {
        let mut req = Request::new(Method::Delete, format!("/images/{}", path_escape(img)))
            .query_if(a.force, "force", "1")
            .query_if(a.no_prune, "noprune", "1");
        for p in &a.platform {
            super::require_api(client, "1.50", "platform")?;
            req = req.query("platforms", super::platform_json(p));
        }
        match client
            .send(req)
            .and_then(|r| r.json::<Vec<DeleteResponse>>())
        {
            Ok(dels) => {
                let mut text = String::new();
                for d in dels {
                    if !d.deleted.is_empty() {
                        text.push_str(&format!("Deleted: {}\n", d.deleted));
                    } else {
                        text.push_str(&format!("Untagged: {}\n", d.untagged));
                    }
                }
                print(&text)?;
            }
            Err(e) => {
                if e.category() != Category::NotFound {
                    fatal = true;
                }
                errors.push(e.to_string());
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let joined = errors.join("\n");
    if !a.force || fatal {
        return Err(CliError::Status {
            message: joined,
            code: 1,
        });
    }
    eprintln!("{joined}");
    Ok(())
}
