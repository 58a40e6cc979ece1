//! `berth network rm`: `DELETE /networks/{id}` per argument, printing each
//! name; `-f` passes over networks that do not exist. Each failure is
//! printed as it comes, then the status is 1 (docker says "exit status 1").

use crate::app::{App, print};
use crate::cli::{NetworkRmArgs, Usage};
use crate::client::{Category, Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

/// Run `network rm`.
pub fn run(app: &App, a: &NetworkRmArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    let mut failed = false;
    for n in &a.args {
        let answer = client
            .send(Request::new(
                Method::Delete,
                format!("/networks/{}", path_escape(n)),
            ))
            .and_then(|r| r.bytes());
        match answer {
            Ok(_) => print(&format!("{n}\n"))?,
            Err(e) if a.force && e.category() == Category::NotFound => {}
            Err(e) => {
                eprintln!("{}", CliError::from(e));
                failed = true;
            }
        }
    }
    if failed {
        return Err(CliError::Status {
            message: "exit status 1".into(),
            code: 1,
        });
    }
    Ok(())
}
