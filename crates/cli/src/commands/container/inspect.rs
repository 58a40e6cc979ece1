//! `berth container inspect`: `GET /containers/{id}/json?size=` for each
//! argument, printed by [`crate::inspect`].

use crate::app::App;
use crate::cli::{ContainerInspectArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;
use crate::inspect::{self, Element};

/// One container's inspect JSON.
pub fn get(app: &App, name: &str, size: bool) -> Result<Element, CliError> {
    let client = app.client()?;
    let req = Request::new(
        Method::Get,
        format!("/containers/{}/json", path_escape(name)),
    )
    .query_if(size, "size", "1");
    let raw = client.send(req)?.bytes()?;
    Ok(Element { raw, shape: None })
}

/// Run `container inspect`.
pub fn run(app: &App, a: &ContainerInspectArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    inspect::run(&a.args, a.format.as_deref(), &mut |r| get(app, r, a.size))
}
