//! `berth container prune`: confirmation (unless `-f`), `POST
//! /containers/prune` with `--filter`, the deleted IDs and the space
//! reclaimed.

use crate::app::{App, print};
use crate::cli::{ContainerPruneArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::{Filters, confirm, no_args};
use crate::error::CliError;
use crate::format::units;

const WARNING: &str =
    "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Report {
    containers_deleted: Option<Vec<String>>,
    space_reclaimed: u64,
}

/// Run `container prune`.
pub fn run(app: &App, a: &ContainerPruneArgs, u: Usage) -> Result<(), CliError> {
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
        .send(Request::new(Method::Post, "/containers/prune").query("filters", filters.to_query()))?
        .json()?;
    let mut text = String::new();
    let deleted = r.containers_deleted.unwrap_or_default();
    if !deleted.is_empty() {
        text.push_str("Deleted Containers:\n");
        for d in &deleted {
            text.push_str(d);
            text.push('\n');
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "Total reclaimed space: {}\n",
        units::human_size(r.space_reclaimed as f64)
    ));
    print(&text)
}
