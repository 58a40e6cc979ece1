//! `berth volume rm`: `DELETE /volumes/{name}?force=` per argument,
//! printing each name.

use crate::app::App;
use crate::cli::{Usage, VolumeRmArgs};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

/// Run `volume rm`.
pub fn run(app: &App, a: &VolumeRmArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    crate::commands::container::for_each(&a.args, &mut |n| {
        client
            .send(
                Request::new(Method::Delete, format!("/volumes/{}", path_escape(n)))
                    .query_if(a.force, "force", "1"),
            )?
            .bytes()?;
        Ok(Some(n.to_string()))
    })
}
