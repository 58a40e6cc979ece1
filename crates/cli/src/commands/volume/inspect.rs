//! `berth volume inspect`: `GET /volumes/{name}` per argument.

use crate::app::App;
use crate::cli::{Usage, VolumeInspectArgs};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;
use crate::inspect::{self, Element};

/// Run `volume inspect`.
pub fn run(app: &App, a: &VolumeInspectArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    inspect::run(&a.args, a.format.as_deref(), &mut |n| {
        let raw = app
            .client()?
            .send(Request::new(
                Method::Get,
                format!("/volumes/{}", path_escape(n)),
            ))?
            .bytes()?;
        Ok(Element { raw, shape: None })
    })
}
