//! `berth network prune`: confirmation (unless `-f`), `POST
//! /networks/prune`, the deleted networks.

use crate::app::{App, print};
use crate::cli::{NetworkPruneArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::{Filters, confirm, no_args};
use crate::error::CliError;

const WARNING: &str = "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Report {
    networks_deleted: Option<Vec<String>>,
}

/// Run `network prune`.
pub fn run(app: &App, a: &NetworkPruneArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let filters = Filters::parse(u, "--filter", &a.filter)?;
    if !a.force && !confirm(WARNING)? {
        return Err(CliError::Status {
            message: String::new(),
            code: 0,
        });
    }
    let r: Report = app
        .client()?
        .send(Request::new(Method::Post, "/networks/prune").query("filters", filters.to_query()))?
        .json()?;
    let deleted = r.networks_deleted.unwrap_or_default();
    if deleted.is_empty() {
        return Ok(());
    }
    let mut text = String::from("Deleted Networks:\n");
    for d in &deleted {
        text.push_str(d);
        text.push('\n');
    }
    print(&text)
}
