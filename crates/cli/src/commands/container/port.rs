//! `berth port`: the container's published ports from its inspect
//! (`NetworkSettings.Ports`), all of them (`80/tcp -> 0.0.0.0:8080`) or
//! those of one private port (`0.0.0.0:8080`).

use crate::app::{App, print};
use crate::cli::{ContainerArgs, Usage};
use crate::commands::range_args;
use crate::error::CliError;

/// `net.JoinHostPort`.
fn join_host_port(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// Run `port`.
pub fn run(app: &App, a: &ContainerArgs, u: Usage) -> Result<(), CliError> {
    range_args(u, &a.args, 1, 2)?;
    let info = super::inspect_json(app, &a.args[0])?;
    let ports = info["NetworkSettings"]["Ports"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    if let Some(want) = a.args.get(1) {
        let (port, proto) = want.split_once('/').unwrap_or((want.as_str(), "tcp"));
        if port.parse::<u16>().is_err() {
            return Err(CliError::Usage(format!(
                "Error: invalid port ({port}): strconv.ParseUint: parsing {port:?}: invalid syntax"
            )));
        }
        let key = format!("{port}/{proto}");
        match ports.get(&key).and_then(|v| v.as_array()) {
            Some(bs) if !bs.is_empty() => {
                for b in bs {
                    out.push(join_host_port(
                        b["HostIp"].as_str().unwrap_or(""),
                        b["HostPort"].as_str().unwrap_or(""),
                    ));
                }
            }
            _ => {
                return Err(CliError::Usage(format!(
                    "Error: No public port '{key}' published for {}",
                    a.args[0]
                )));
            }
        }
    } else {
        let mut keys: Vec<&String> = ports.keys().collect();
        keys.sort_by_key(|k| {
            let (p, proto) = k.split_once('/').unwrap_or((k.as_str(), ""));
            (p.parse::<u32>().unwrap_or(0), proto.to_string())
        });
        for k in keys {
            for b in ports[k].as_array().cloned().unwrap_or_default() {
                out.push(format!(
                    "{k} -> {}",
                    join_host_port(
                        b["HostIp"].as_str().unwrap_or(""),
                        b["HostPort"].as_str().unwrap_or("")
                    )
                ));
            }
        }
    }
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    print(&text)
}
