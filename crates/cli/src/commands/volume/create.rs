//! `berth volume create`: `POST /volumes/create`, printing the name.

use serde_json::json;

use crate::app::{App, print};
use crate::cli::{Usage, VolumeCreateArgs};
use crate::client::{Method, Request};
use crate::commands::container::opts::env::to_map;
use crate::commands::max_args;
use crate::error::CliError;

/// Run `volume create`.
pub fn run(app: &App, a: &VolumeCreateArgs, u: Usage) -> Result<(), CliError> {
    max_args(u, &a.args, 1)?;
    let mut name = a.name.clone().unwrap_or_default();
    if let Some(n) = a.args.first() {
        if !name.is_empty() && &name != n {
            return Err(CliError::Usage(
                "conflicting options: cannot specify a volume-name through both --name and as a positional arg".into(),
            ));
        }
        name = n.clone();
    }
    let body = json!({
        "Name": name,
        "Driver": a.driver,
        "DriverOpts": to_map(&a.opt),
        "Labels": to_map(&a.label),
    });
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Vol {
        name: String,
    }
    let v: Vol = app
        .client()?
        .send(Request::new(Method::Post, "/volumes/create").json(&body))?
        .json()?;
    print(&format!("{}\n", v.name))
}
