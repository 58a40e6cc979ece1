//! `berth network inspect`: `GET /networks/{id}` per argument.

use crate::app::App;
use crate::cli::{NetworkInspectArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;
use crate::inspect::{self, Element};

/// Run `network inspect`.
pub fn run(app: &App, a: &NetworkInspectArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    inspect::run(&a.args, a.format.as_deref(), &mut |n| {
        let raw = app
            .client()?
            .send(
                Request::new(Method::Get, format!("/networks/{}", path_escape(n)))
                    .query_if(a.verbose, "verbose", "true"),
            )?
            .bytes()?;
        Ok(Element { raw, shape: None })
    })
}
