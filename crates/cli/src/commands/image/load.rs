//! `berth load`: `POST /images/load` with the archive from `-i FILE` or
//! stdin (refused when stdin is a terminal), the answer rendered as a
//! message stream (quiet unless stdout is a terminal, as docker asks).

use std::io::Read;

use crate::app::{App, stdin_is_terminal, stdout_is_terminal};
use crate::cli::{LoadArgs, Usage};
use crate::client::{Body, Method, Request};
use crate::commands::no_args;
use crate::error::CliError;

/// Run `load`.
pub fn run(app: &App, a: &LoadArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let input: Box<dyn Read + Send> = match a.input.as_ref().filter(|p| !p.as_os_str().is_empty()) {
        None => {
            if stdin_is_terminal() {
                return Err(CliError::Usage(
                    "requested load from stdin, but stdin is empty".into(),
                ));
            }
            Box::new(std::io::stdin())
        }
        Some(p) => Box::new(
            std::fs::File::open(p).map_err(|e| CliError::io(format!("open {}", p.display()), e))?,
        ),
    };
    let client = app.client()?;
    let quiet = a.quiet || !stdout_is_terminal();
    let mut req = Request::new(Method::Post, "/images/load")
        .query("quiet", if quiet { "1" } else { "0" })
        .body(Body::Reader(input, "application/x-tar".into()));
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        super::require_api(client, "1.48", "platform")?;
        req = req.query("platform", super::platform_json(p));
    }
    let mut resp = client.send(req)?;
    if resp.header("content-type") == Some("application/json") {
        return super::display_stream(resp, false, &mut |_| {});
    }
    let mut out = std::io::stdout().lock();
    std::io::copy(&mut resp, &mut out).map_err(|e| CliError::io("write to standard output", e))?;
    Ok(())
}
