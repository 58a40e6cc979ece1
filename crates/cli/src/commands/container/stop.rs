//! `berth stop`: `POST /containers/{id}/stop?t=&signal=` for each
//! container, printing each name; failures joined (exit 1).

use crate::app::App;
use crate::cli::{StopArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

/// The request `stop` or `restart` sends for `name`.
pub fn request(verb: &str, name: &str, a: &StopArgs) -> Request {
    Request::new(
        Method::Post,
        format!("/containers/{}/{verb}", path_escape(name)),
    )
    .query_if(
        a.signal.is_some(),
        "signal",
        a.signal.clone().unwrap_or_default(),
    )
    .query_if(
        a.timeout.is_some(),
        "t",
        a.timeout.unwrap_or_default().to_string(),
    )
}

/// Run `stop`.
pub fn run(app: &App, a: &StopArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    super::for_each(&a.args, &mut |n| {
        client.send(request("stop", n, a))?.bytes()?;
        Ok(Some(n.to_string()))
    })
}
