//! `berth volume ls`: `GET /volumes` with filters, sorted by name,
//! docker's volume formatter (DRIVER, VOLUME NAME; `-q`; `--format`).

use crate::app::{App, print};
use crate::cli::{Usage, VolumeLsArgs};
use crate::client::{Method, Request};
use crate::commands::image::row;
use crate::commands::{Filters, list_template, no_args};
use crate::error::CliError;
use crate::format::template::Value;
use crate::format::{self, units};

const DEFAULT_TABLE: &str = "table {{.Driver}}\t{{.Name}}";

/// Column titles.
pub const HEADER: &[(&str, &str)] = &[
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
    ("Group", "GROUP"),
    ("Availability", "AVAILABILITY"),
    ("Status", "STATUS"),
];

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Volume {
    name: String,
    driver: String,
    mountpoint: String,
    scope: String,
    labels: Option<std::collections::BTreeMap<String, String>>,
    usage_data: Option<UsageData>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct UsageData {
    ref_count: i64,
    size: i64,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct List {
    volumes: Option<Vec<Volume>>,
}

fn row_value(v: &Volume) -> Value {
    let labels: Vec<String> = v
        .labels
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let (links, size) = match &v.usage_data {
        Some(u) if u.size >= 0 => (u.ref_count.to_string(), units::human_size(u.size as f64)),
        _ => ("N/A".to_string(), "N/A".to_string()),
    };
    row("*formatter.volumeContext")
        .field("Availability", "N/A")
        .field("Driver", v.driver.clone())
        .field("Group", "N/A")
        .field("Labels", labels.join(","))
        .field("Links", links)
        .field("Mountpoint", v.mountpoint.clone())
        .field("Name", v.name.clone())
        .field("Scope", v.scope.clone())
        .field("Size", size)
        .field("Status", "N/A")
        .into()
}

/// Run `volume ls`.
pub fn run(app: &App, a: &VolumeLsArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let filters = Filters::parse(u, "-f, --filter", &a.filter)?;
    let list: List = app
        .client()?
        .send(Request::new(Method::Get, "/volumes").query_if(
            !filters.is_empty(),
            "filters",
            filters.to_query(),
        ))?
        .json()?;
    let mut vols = list.volumes.unwrap_or_default();
    vols.sort_by(|a, b| a.name.cmp(&b.name));
    let fmt = list_template(
        app,
        a.format.as_deref(),
        "volumesFormat",
        a.quiet,
        "{{.Name}}",
        DEFAULT_TABLE,
    );
    let rows: Vec<Value> = vols.iter().map(row_value).collect();
    print(&format::write_rows(&fmt, HEADER, &rows)?)
}
