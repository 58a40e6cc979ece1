//! `berth tag SOURCE TARGET`: `POST /images/{source}/tag?repo=&tag=`,
//! with docker's client-side reference checks.

use crate::app::App;
use crate::cli::{TagArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::exact_args;
use crate::error::CliError;
use crate::reference::{Reference, is_valid_any};

/// Run `tag`.
pub fn run(app: &App, a: &TagArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 2)?;
    let (source, target) = (&a.args[0], &a.args[1]);
    if !is_valid_any(source) {
        let e = Reference::parse_normalized(source)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "invalid reference format".into());
        return Err(CliError::Usage(format!(
            "Error parsing reference: {source:?} is not a valid repository/tag: {e}"
        )));
    }
    let r = Reference::parse_normalized(target).map_err(|e| {
        CliError::Usage(format!(
            "Error parsing reference: {target:?} is not a valid repository/tag: {e}"
        ))
    })?;
    if r.digest.is_some() {
        return Err(CliError::Usage(
            "refusing to create a tag with a digest reference".into(),
        ));
    }
    let r = r.with_default_tag();
    let client = app.client()?;
    client.send(
        Request::new(Method::Post, format!("/images/{}/tag", path_escape(source)))
            .query("repo", r.name())
            .query("tag", r.tag.clone().unwrap_or_default()),
    )?;
    Ok(())
}
