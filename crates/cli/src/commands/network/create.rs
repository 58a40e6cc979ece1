//! `berth network create`: `POST /networks/create`, printing the id. The
//! i-th `--subnet` takes the i-th `--gateway` and `--ip-range`, as each
//! belongs to one subnet.

use serde_json::{Value, json};

use crate::app::{App, print};
use crate::cli::{NetworkCreateArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::container::opts::env::to_map;
use crate::commands::exact_args;
use crate::error::CliError;

/// Run `network create`.
pub fn run(app: &App, a: &NetworkCreateArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 1)?;
    if a.gateway.len() > a.subnet.len() || a.ip_range.len() > a.subnet.len() {
        return Err(CliError::Usage(
            "every ip-range or gateway must have a corresponding subnet".into(),
        ));
    }
    let config: Vec<Value> = a
        .subnet
        .iter()
        .enumerate()
        .map(|(i, subnet)| {
            let mut c = json!({ "Subnet": subnet });
            if let Some(g) = a.gateway.get(i) {
                c["Gateway"] = json!(g);
            }
            if let Some(r) = a.ip_range.get(i) {
                c["IPRange"] = json!(r);
            }
            c
        })
        .collect();
    let body = json!({
        "Name": a.args[0],
        "CheckDuplicate": true,
        "Driver": a.driver,
        "Internal": a.internal,
        "EnableIPv6": a.ipv6,
        "Attachable": a.attachable,
        "IPAM": {
            "Driver": a.ipam_driver,
            "Config": config,
            "Options": to_map(&a.ipam_opt),
        },
        "Options": to_map(&a.opt),
        "Labels": to_map(&a.label),
    });
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Created {
        id: String,
    }
    let c: Created = app
        .client()?
        .send(Request::new(Method::Post, "/networks/create").json(&body))?
        .json()?;
    print(&format!("{}\n", c.id))
}
