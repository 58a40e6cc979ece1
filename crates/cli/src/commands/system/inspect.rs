//! `berth inspect`: any object by name or ID — container, image, network,
//! volume, plugin in that order (docker's order, swarm objects aside),
//! the first that exists; `--type` restricts the search.

use crate::app::App;
use crate::cli::{InspectArgs, Usage};
use crate::client::{Category, Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;
use crate::inspect::{self, Element};

const TYPES: &[&str] = &[
    "config",
    "container",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "task",
    "volume",
];

/// The request that inspects `kind` named `r`.
fn request(kind: &str, r: &str, size: bool) -> Option<Request> {
    let n = path_escape(r);
    Some(match kind {
        "container" => {
            Request::new(Method::Get, format!("/containers/{n}/json")).query_if(size, "size", "1")
        }
        "image" => Request::new(Method::Get, format!("/images/{n}/json")),
        "network" => Request::new(Method::Get, format!("/networks/{n}")),
        "volume" => Request::new(Method::Get, format!("/volumes/{n}")),
        "plugin" => Request::new(Method::Get, format!("/plugins/{n}/json")),
        "node" => Request::new(Method::Get, format!("/nodes/{n}")),
        "service" => {
            Request::new(Method::Get, format!("/services/{n}")).query("insertDefaults", "true")
        }
        "task" => Request::new(Method::Get, format!("/tasks/{n}")),
        "secret" => Request::new(Method::Get, format!("/secrets/{n}")),
        "config" => Request::new(Method::Get, format!("/configs/{n}")),
        _ => return None,
    })
}

/// Run `inspect`.
pub fn run(app: &App, a: &InspectArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let constraint = a.object_type.as_deref().unwrap_or("");
    if !constraint.is_empty() && !TYPES.contains(&constraint) {
        return Err(CliError::Usage(format!(
            "unknown type: {constraint:?}: must be one of \"{}\"",
            TYPES.join("\", \"")
        )));
    }
    let order: Vec<&str> = if constraint.is_empty() {
        vec!["container", "image", "network", "volume", "plugin"]
    } else {
        vec![constraint]
    };
    let mut get = |r: &str| -> Result<Element, CliError> {
        let client = app.client()?;
        for kind in &order {
            let Some(req) = request(kind, r, a.size) else {
                continue;
            };
            match client.send(req).and_then(|resp| resp.bytes()) {
                Ok(raw) => {
                    if a.size && *kind != "container" {
                        eprintln!("WARNING: --size ignored for {kind}");
                    }
                    let shape =
                        (*kind == "image").then_some(&crate::commands::image::shape::IMAGE_INSPECT);
                    return Ok(Element { raw, shape });
                }
                Err(e) => {
                    let msg = e.to_string();
                    let skippable = e.category() == Category::NotFound
                        || msg.contains("not supported")
                        || msg.contains("invalid reference format");
                    if constraint.is_empty() && skippable {
                        continue;
                    }
                    return Err(e.into());
                }
            }
        }
        Err(CliError::Usage(format!("Error: No such object: {r}")))
    };
    inspect::run(&a.args, a.format.as_deref(), &mut get)
}
