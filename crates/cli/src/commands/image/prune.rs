//! `berth image prune`: confirmation (unless `-f`), `POST /images/prune`
//! with `dangling=<!all>` plus `--filter` and the config's `pruneFilters`,
//! then the deleted images and `Total reclaimed space:`.

use serde::Deserialize;

use crate::app::{App, print};
use crate::cli::{PruneArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::{Filters, confirm};
use crate::error::CliError;
use crate::format::units;

const ALL_WARNING: &str = "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?";
const DANGLING_WARNING: &str =
    "WARNING! This will remove all dangling images.\nAre you sure you want to continue?";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Deleted {
    untagged: String,
    deleted: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PruneReport {
    images_deleted: Option<Vec<Deleted>>,
    space_reclaimed: u64,
}

/// Run `image prune`.
pub fn run(app: &App, a: &PruneArgs, u: Usage) -> Result<(), CliError> {
    let mut filters = Filters::parse(u, "--filter", &a.filter)?;
    filters.add("dangling", if a.all { "false" } else { "true" });
    if let Ok(cfg) = app.config() {
        merge_config_filters(&mut filters, &cfg);
    }
    if !a.force {
        let warning = if a.all { ALL_WARNING } else { DANGLING_WARNING };
        if !confirm(warning)? {
            // docker: a cancelled prune exits 0 without a message
            return Err(CliError::Status {
                message: String::new(),
                code: 0,
            });
        }
    }
    let client = app.client()?;
    let report: PruneReport = client
        .send(Request::new(Method::Post, "/images/prune").query("filters", filters.to_query()))?
        .json()?;
    let mut text = String::new();
    let deleted = report.images_deleted.unwrap_or_default();
    let mut reclaimed = 0;
    if !deleted.is_empty() {
        text.push_str("Deleted Images:\n");
        for d in &deleted {
            if !d.untagged.is_empty() {
                text.push_str(&format!("untagged: {}\n", d.untagged));
            } else {
                text.push_str(&format!("deleted: {}\n", d.deleted));
            }
        }
        text.push('\n');
        reclaimed = report.space_reclaimed;
    }
    text.push_str(&format!(
        "Total reclaimed space: {}\n",
        units::human_size(reclaimed as f64)
    ));
    print(&text)
}

/// `pruneFilters` from the client config, as docker merges them.
fn merge_config_filters(filters: &mut Filters, cfg: &crate::config::ConfigFile) {
    for f in cfg.string_list("pruneFilters") {
        let Some((k, v)) = f.split_once('=') else {
            continue;
        };
        match k {
            "label" if filters.get("label!").iter().any(|x| x == v) => {}
            "label!" if filters.get("label").iter().any(|x| x == v) => {}
            _ => filters.add(k, v),
        }
    }
}
