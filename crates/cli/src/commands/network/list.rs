//! `berth network ls`: `GET /networks` with filters, sorted by name,
//! docker's network formatter (NETWORK ID, NAME, DRIVER, SCOPE; `-q`;
//! `--no-trunc`; `--format`).

use crate::app::{App, print};
use crate::cli::{NetworkLsArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::image::row;
use crate::commands::{Filters, list_template, no_args};
use crate::error::CliError;
use crate::format::template::Value;
use crate::format::{self, truncate_id};

const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";

/// Column titles.
pub const HEADER: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Network {
    name: String,
    id: String,
    created: String,
    scope: String,
    driver: String,
    #[serde(rename = "EnableIPv6")]
    enable_ipv6: bool,
    internal: bool,
    labels: Option<std::collections::BTreeMap<String, String>>,
}

fn row_value(n: &Network, no_trunc: bool) -> Value {
    let labels: Vec<String> = n
        .labels
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let id = if no_trunc {
        n.id.clone()
    } else {
        truncate_id(&n.id)
    };
    row("*formatter.networkContext")
        .field("ID", id)
        .field("Name", n.name.clone())
        .field("Driver", n.driver.clone())
        .field("Scope", n.scope.clone())
        .field("IPv6", n.enable_ipv6.to_string())
        .field("Internal", n.internal.to_string())
        .field("Labels", labels.join(","))
        .field("CreatedAt", n.created.clone())
        .into()
}

/// Run `network ls`.
pub fn run(app: &App, a: &NetworkLsArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let filters = Filters::parse(u, "-f, --filter", &a.filter)?;
    let mut networks: Vec<Network> = app
        .client()?
        .send(Request::new(Method::Get, "/networks").query_if(
            !filters.is_empty(),
            "filters",
            filters.to_query(),
        ))?
        .json()?;
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    let fmt = list_template(
        app,
        a.format.as_deref(),
        "networksFormat",
        a.quiet,
        "{{.ID}}",
        DEFAULT_TABLE,
    );
    let rows: Vec<Value> = networks.iter().map(|n| row_value(n, a.no_trunc)).collect();
    print(&format::write_rows(&fmt, HEADER, &rows)?)
}
