//! `berth volume prune`: confirmation (unless `-f`), `POST
//! /volumes/prune` (with `all=true` for `-a` on API 1.42+), the deleted
//! volumes and the space reclaimed.

use crate::app::{App, print};
use crate::cli::{Usage, VolumePruneArgs};
use crate::client::{Method, Request, version_less};
use crate::commands::{Filters, confirm, no_args};
use crate::error::CliError;
use crate::format::units;

const WARNING: &str = "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?";
const ALL_WARNING: &str = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Report {
    volumes_deleted: Option<Vec<String>>,
    space_reclaimed: u64,
}

/// Run `volume prune`.
pub fn run(app: &App, a: &VolumePruneArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let mut filters = Filters::parse(u, "--filter", &a.filter)?;
    let client = app.client()?;
    if a.all {
        if !filters.get("all").is_empty() {
            return Err(CliError::Usage(
                "conflicting options: cannot specify both --all and --filter all=1".into(),
            ));
        }
        if !version_less(&client.api_version()?, "1.42") {
            filters.add("all", "true");
        }
    }
    let warning = if a.all { ALL_WARNING } else { WARNING };
    if !a.force && !confirm(warning)? {
        return Err(CliError::Status {
            message: String::new(),
            code: 0,
        });
    }
    let r: Report = client
        .send(Request::new(Method::Post, "/volumes/prune").query("filters", filters.to_query()))?
        .json()?;
    let mut text = String::new();
    let deleted = r.volumes_deleted.unwrap_or_default();
    if !deleted.is_empty() {
        text.push_str("Deleted Volumes:\n");
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
