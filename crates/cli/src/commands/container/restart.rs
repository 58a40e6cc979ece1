//! `berth restart`: `POST /containers/{id}/restart?t=&signal=` for each
//! container, printing each name.

use crate::app::App;
use crate::cli::{StopArgs, Usage};
use crate::commands::min_args;
use crate::error::CliError;

/// Run `restart`.
pub fn run(app: &App, a: &StopArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    super::for_each(&a.args, &mut |n| {
        client
            .send(super::stop::request("restart", n, a))?
            .bytes()?;
        Ok(Some(n.to_string()))
    })
}
