//! `berth diff`: `GET /containers/{id}/changes`, one `C|A|D path` line
//! each (docker's default diff format).

use crate::app::{App, print};
use crate::cli::{ContainerArgs, Usage};
use crate::client::path_escape;
use crate::commands::exact_args;
use crate::error::CliError;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Change {
    kind: u8,
    path: String,
}

/// Run `diff`.
pub fn run(app: &App, a: &ContainerArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 1)?;
    let client = app.client()?;
    let changes: Option<Vec<Change>> =
        client.get_json(&format!("/containers/{}/changes", path_escape(&a.args[0])))?;
    let mut out = String::new();
    for c in changes.unwrap_or_default() {
        let k = match c.kind {
            0 => "C",
            1 => "A",
            2 => "D",
            _ => "?",
        };
        out.push_str(&format!("{k} {}\n", c.path));
    }
    print(&out)
}
