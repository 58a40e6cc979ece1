//! `berth top`: `GET /containers/{id}/top?ps_args=`, the daemon's titles
//! and rows through docker's table writer.

use crate::app::{App, print};
use crate::cli::{TopArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Top {
    titles: Vec<String>,
    processes: Option<Vec<Vec<String>>>,
}

/// Run `top`.
pub fn run(app: &App, a: &TopArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let client = app.client()?;
    let req = Request::new(
        Method::Get,
        format!("/containers/{}/top", path_escape(&a.args[0])),
    )
    .query_if(a.args.len() > 1, "ps_args", a.args[1..].join(" "));
    let top: Top = client.send(req)?.json()?;
    let mut text = top.titles.join("\t");
    text.push('\n');
    for p in top.processes.unwrap_or_default() {
        text.push_str(&p.join("\t"));
        text.push('\n');
    }
    print(&crate::format::table::TabWriter::new(20, 3).format(&text))
}
