//! `berth rename`: `POST /containers/{id}/rename?name=`.

use crate::app::App;
use crate::cli::{ContainerArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::exact_args;
use crate::error::CliError;

/// Run `rename`.
pub fn run(app: &App, a: &ContainerArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 2)?;
    let old = a.args[0].trim();
    let new = a.args[1].trim();
    if old.is_empty() || new.is_empty() {
        return Err(CliError::Usage(
            "Error: Neither old nor new names may be empty".into(),
        ));
    }
    let client = app.client()?;
    match client
        .send(
            Request::new(
                Method::Post,
                format!("/containers/{}/rename", path_escape(old)),
            )
            .query("name", new),
        )
        .and_then(|r| r.bytes())
    {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::Usage(format!(
            "{e}\nError: failed to rename container named {old}"
        ))),
    }
}
