//! `berth image inspect`: `GET /images/{name}/json` for each argument,
//! printed by [`crate::inspect`] with docker's image type.

use crate::app::App;
use crate::cli::{ImageInspectArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;
use crate::inspect::{self, Element};

/// Fetch one image's inspect JSON.
pub fn get(app: &App, name: &str, platform: Option<&str>) -> Result<Element, CliError> {
    let client = app.client()?;
    let mut req = Request::new(Method::Get, format!("/images/{}/json", path_escape(name)));
    if let Some(p) = platform {
        req = req.query("platform", super::platform_json(p));
    }
    let raw = client.send(req)?.bytes()?;
    Ok(Element {
        raw,
        shape: Some(&super::shape::IMAGE_INSPECT),
    })
}

/// Run `image inspect`.
pub fn run(app: &App, a: &ImageInspectArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    inspect::run(&a.args, a.format.as_deref(), &mut |r| {
        get(app, r, a.platform.as_deref())
    })
}
