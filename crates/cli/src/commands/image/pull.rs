//! `berth pull`: `POST /images/create?fromImage=&tag=` with the registry
//! credentials, the progress stream rendered like docker's, then the full
//! reference.

use crate::app::{App, print};
use crate::cli::{PullArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::auth::registry_auth_header;
use crate::commands::exact_args;
use crate::error::CliError;
use crate::reference::Reference;

/// Run `pull`.
pub fn run(app: &App, a: &PullArgs, u: Usage) -> Result<(), CliError> {
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
    let auth = registry_auth_header(app, &r.domain)?;
    let client = app.client()?;
    let tag = match (&r.digest, &r.tag) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) if !a.all_tags => t.clone(),
        _ => String::new(),
    };
    let req = Request::new(Method::Post, "/images/create")
        .query("fromImage", r.name())
        .query_if(!a.all_tags, "tag", tag)
        .query_if(
            a.platform.as_deref().is_some_and(|p| !p.is_empty()),
            "platform",
            a.platform.clone().unwrap_or_default().to_lowercase(),
        )
        .header("X-Registry-Auth", auth);
    let resp = client.send(req)?;
    super::display_stream(resp, a.quiet, &mut |_| {})?;
    print(&format!("{}\n", r.full()))
}
