//! `berth logout`: erase the stored credentials of a registry (Docker Hub
//! by default) from wherever the client config keeps them, under every
//! key docker may have used for it.

use crate::app::{App, print};
use crate::cli::{LogoutArgs, Usage};
use crate::commands::max_args;
use crate::config::convert_to_hostname;
use crate::config::credentials::{self, INDEX_SERVER};
use crate::error::CliError;

/// Run `logout`.
pub fn run(app: &App, a: &LogoutArgs, u: Usage) -> Result<(), CliError> {
    max_args(u, &a.args, 1)?;
    let (server, is_default) = match a.args.first().filter(|s| !s.is_empty()) {
        Some(s) => (s.clone(), false),
        None => (INDEX_SERVER.to_string(), true),
    };
    let mut regs = vec![server.clone()];
    let mut hostname = server.clone();
    if !is_default {
        hostname = convert_to_hostname(&server);
        regs.extend([
            hostname.clone(),
            format!("http://{hostname}"),
            format!("https://{hostname}"),
        ]);
    }
    print(&format!("Removing login credentials for {hostname}\n"))?;
    let mut errors = Vec::new();
    for r in &regs {
        let mut cfg = app.config()?;
        if let Err(e) = credentials::erase(&mut cfg, r) {
            errors.push((r.clone(), e.to_string()));
        }
    }
    if errors.len() == regs.len() {
        eprintln!("WARNING: could not erase credentials:");
        for (r, e) in errors {
            eprintln!("{r}: {e}");
        }
    }
    Ok(())
}
