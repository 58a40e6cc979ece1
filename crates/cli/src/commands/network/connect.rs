//! `berth network connect` and `disconnect`: `POST
//! /networks/{id}/connect|disconnect` with the container and, for connect,
//! its endpoint settings (addresses, aliases, links, driver options).

use serde_json::json;

use crate::app::App;
use crate::cli::{NetworkConnectArgs, NetworkDisconnectArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::container::opts::env::to_map;
use crate::commands::exact_args;
use crate::error::CliError;

/// Run `network connect`.
pub fn run(app: &App, a: &NetworkConnectArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 2)?;
    let body = json!({
        "Container": a.args[1],
        "EndpointConfig": {
            "IPAMConfig": {
                "IPv4Address": a.ip.clone().unwrap_or_default(),
                "IPv6Address": a.ip6.clone().unwrap_or_default(),
                "LinkLocalIPs": a.link_local_ip,
            },
            "Links": a.link,
            "Aliases": a.alias,
            "DriverOpts": to_map(&a.driver_opt),
        },
    });
    app.client()?
        .send(
            Request::new(
                Method::Post,
                format!("/networks/{}/connect", path_escape(&a.args[0])),
            )
            .json(&body),
        )?
        .bytes()?;
    Ok(())
}

/// Run `network disconnect`.
pub fn disconnect(app: &App, a: &NetworkDisconnectArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 2)?;
    let body = json!({ "Container": a.args[1], "Force": a.force });
    app.client()?
        .send(
            Request::new(
                Method::Post,
                format!("/networks/{}/disconnect", path_escape(&a.args[0])),
            )
            .json(&body),
        )?
        .bytes()?;
    Ok(())
}
