//! `berth kill`: `POST /containers/{id}/kill?signal=` for each
//! container, printing each name.

use crate::app::App;
use crate::cli::{KillArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

/// Run `kill`.
pub fn run(app: &App, a: &KillArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    super::for_each(&a.args, &mut |n| {
        let req = Request::new(Method::Post, format!("/containers/{}/kill", path_escape(n)))
            .query_if(
                a.signal.as_deref().is_some_and(|s| !s.is_empty()),
                "signal",
                a.signal.clone().unwrap_or_default(),
            );
        client.send(req)?.bytes()?;
        Ok(Some(n.to_string()))
    })
}
