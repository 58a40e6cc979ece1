//! `berth wait`: `POST /containers/{id}/wait` for each container, printing
//! each exit code.

use crate::app::App;
use crate::cli::{ContainerArgs, Usage};
use crate::commands::min_args;
use crate::error::CliError;

use super::session::{WaitResponse, wait_request};

/// Run `wait`.
pub fn run(app: &App, a: &ContainerArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    super::for_each(&a.args, &mut |n| {
        let w: WaitResponse = wait_request(client, n, "not-running")?.json()?;
        if let Some(e) = w.error.filter(|e| !e.message.is_empty()) {
            return Err(CliError::Usage(e.message));
        }
        Ok(Some(w.status_code.to_string()))
    })
}
