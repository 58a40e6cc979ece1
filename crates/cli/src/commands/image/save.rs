//! `berth save`: `GET /images/get?names=…` streamed to `-o FILE` (written
//! to a temporary file and renamed when complete, mode 0600) or to stdout,
//! which must not be a terminal.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;

use crate::app::{App, stdout_is_terminal};
use crate::cli::{SaveArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::min_args;
use crate::error::CliError;

/// Run `save`.
pub fn run(app: &App, a: &SaveArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let output = a.output.as_ref().filter(|p| !p.as_os_str().is_empty());
    if output.is_none() && stdout_is_terminal() {
        return Err(CliError::Usage(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect".into(),
        ));
    }
    let client = app.client()?;
    let mut req = Request::new(Method::Get, "/images/get");
    for n in &a.args {
        req = req.query("names", n.clone());
    }
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        super::require_api(client, "1.48", "platform")?;
        req = req.query("platform", super::platform_json(p));
    }
    let mut resp = client.send(req)?;
    match output {
        None => {
            let mut out = std::io::stdout().lock();
            copy(&mut resp, &mut out)
                .map_err(|e| CliError::io("write the archive to standard output", e))
        }
        Some(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = path.with_file_name(format!(".{name}.berth-save-{}", std::process::id()));
            let result = (|| -> std::io::Result<()> {
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)?;
                copy(&mut resp, &mut f)?;
                f.sync_all()?;
                std::fs::rename(&tmp, path)
            })();
            result.map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                CliError::io(format!("failed to save image to {}", path.display()), e)
            })
        }
    }
}

fn copy(r: &mut dyn Read, w: &mut dyn Write) -> std::io::Result<()> {
    std::io::copy(r, w)?;
    w.flush()
}
