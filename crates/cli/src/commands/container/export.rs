//! `berth export`: `GET /containers/{id}/export` to a file (`-o`) or to
//! standard output, which must not be a terminal.

use std::io::Write;

use crate::app::App;
use crate::cli::{ExportArgs, Usage};
use crate::client::path_escape;
use crate::commands::exact_args;
use crate::error::CliError;

/// Copy a response body to `-o FILE` or standard output.
pub fn write_out(
    resp: crate::client::Response<'_>,
    output: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let mut resp = resp;
    match output {
        Some(p) => {
            let mut f = std::fs::File::create(p).map_err(|e| {
                CliError::io(
                    format!("failed to export container: open {}", p.display()),
                    e,
                )
            })?;
            std::io::copy(&mut resp, &mut f)
                .map_err(|e| CliError::io(format!("write {}", p.display()), e))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            std::io::copy(&mut resp, &mut out)
                .and_then(|_| out.flush())
                .map_err(|e| CliError::io("write to standard output", e))?;
        }
    }
    Ok(())
}

/// Run `export`.
pub fn run(app: &App, a: &ExportArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 1)?;
    if a.output.is_none() && crate::app::stdout_is_terminal() {
        return Err(CliError::Usage(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect".into(),
        ));
    }
    let client = app.client()?;
    let resp = client.send(crate::client::Request::new(
        crate::client::Method::Get,
        format!("/containers/{}/export", path_escape(&a.args[0])),
    ))?;
    write_out(resp, a.output.as_deref())
}
