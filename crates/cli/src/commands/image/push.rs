//! `berth push`: `POST /images/{name}/push?tag=` with the registry
//! credentials and docker's progress rendering.

use crate::app::{App, print};
use crate::cli::{PushArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::auth::registry_auth_header;
use crate::commands::exact_args;
use crate::error::CliError;
use crate::reference::Reference;

/// Run `push`.
pub fn run(app: &App, a: &PushArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 1)?;
    let mut r = Reference::parse_normalized(&a.args[0])?;
    if a.all_tags && !r.is_name_only() {
        return Err(CliError::Usage(
            "tag can't be used with --all-tags/-a".into(),
        ));
    }
    if !a.all_tags && r.is_name_only() {
        r = r.with_default_tag();
        if !a.quiet {
            print("Using default tag: latest\n")?;
        }
    }
    if r.digest.is_some() {
        return Err(CliError::Usage("cannot push a digest reference".into()));
    }
    let auth = registry_auth_header(app, &r.domain)?;
    let client = app.client()?;
    let mut req = Request::new(
        Method::Post,
        format!("/images/{}/push", path_escape(&r.name())),
    )
    .header("X-Registry-Auth", auth);
    if !a.all_tags
        && let Some(t) = &r.tag
    {
        req = req.query("tag", t.clone());
    }
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        super::require_api(client, "1.46", "platform")?;
        req = req.query("platform", super::platform_json(p));
    }
    let resp = client.send(req)?;
    super::display_stream(resp, a.quiet, &mut |_| {})?;
    if a.quiet {
        print(&format!("{}\n", r.full()))?;
    }
    Ok(())
}
