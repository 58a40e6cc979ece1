//! `berth import`: `POST /images/create?fromSrc=-` with a root filesystem
//! tarball from a file or stdin (`-`), `--change`, `--message`,
//! `--platform`, `REPOSITORY[:TAG]`; prints the new image ID (the
//! daemon's message stream). URLs are passed to the daemon to fetch, as
//! docker does (berth's tests have no internet and do not use them).

use std::io::Read;

use crate::app::App;
use crate::cli::{ImportArgs, Usage};
use crate::client::{Body, Method, Request};
use crate::commands::min_args;
use crate::error::CliError;
use crate::reference::Reference;

/// Run `import`.
pub fn run(app: &App, a: &ImportArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let source = &a.args[0];
    let reference = a.args.get(1).filter(|r| !r.is_empty());
    if let Some(r) = reference {
        Reference::parse_normalized(r)?;
    }
    let (body, src_name): (Option<Box<dyn Read + Send>>, String) = if source == "-" {
        (Some(Box::new(std::io::stdin())), "-".into())
    } else if source.starts_with("http://") || source.starts_with("https://") {
        (None, source.clone())
    } else {
        let f =
            std::fs::File::open(source).map_err(|e| CliError::io(format!("open {source}"), e))?;
        (Some(Box::new(f)), "-".into())
    };
    let client = app.client()?;
    let mut req = Request::new(Method::Post, "/images/create").query("fromSrc", src_name);
    if let Some(r) = reference {
        req = req.query("repo", r.clone());
    }
    if let Some(m) = a.message.as_deref().filter(|m| !m.is_empty()) {
        req = req.query("message", m);
    }
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        req = req.query("platform", p.to_lowercase());
    }
    for c in &a.change {
        req = req.query("changes", c.clone());
    }
    if let Some(b) = body {
        req = req.body(Body::Reader(b, "text/plain".into()));
    }
    let resp = client.send(req)?;
    super::display_stream(resp, false, &mut |_| {})
}
