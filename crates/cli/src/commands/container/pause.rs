//! `berth pause` and `berth unpause`: `POST /containers/{id}/pause` (or
//! `unpause`) for each container, printing each name.

use crate::app::App;
use crate::cli::{ContainerArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

/// Run `pause` (`unpause` when `verb` is "unpause").
pub fn run(app: &App, a: &ContainerArgs, u: Usage, verb: &str) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    super::for_each(&a.args, &mut |n| {
        client
            .send(Request::new(
                Method::Post,
                format!("/containers/{}/{verb}", path_escape(n)),
            ))?
            .bytes()?;
        Ok(Some(n.to_string()))
    })
}
