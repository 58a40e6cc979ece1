//! `berth update`: `POST /containers/{id}/update` with the resource
//! flags given and `--restart`, printing each name.

use serde_json::{Map, Value, json};

use crate::app::App;
use crate::cli::{UpdateArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::min_args;
use crate::error::CliError;

/// Run `update`.
pub fn run(app: &App, a: &UpdateArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.args, 1)?;
    let mut body = Map::new();
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            body.insert(k.to_string(), v);
        }
    };
    set("BlkioWeight", a.blkio_weight.map(|v| json!(v)));
    set("CpuPeriod", a.cpu_period.map(|v| json!(v)));
    set("CpuQuota", a.cpu_quota.map(|v| json!(v)));
    set("CpuRealtimePeriod", a.cpu_rt_period.map(|v| json!(v)));
    set("CpuRealtimeRuntime", a.cpu_rt_runtime.map(|v| json!(v)));
    set("CpuShares", a.cpu_shares.map(|v| json!(v)));
    set("NanoCpus", a.cpus.map(|v| json!(v)));
    set("CpusetCpus", a.cpuset_cpus.clone().map(|v| json!(v)));
    set("CpusetMems", a.cpuset_mems.clone().map(|v| json!(v)));
    set("Memory", a.memory.map(|v| json!(v)));
    set("MemoryReservation", a.memory_reservation.map(|v| json!(v)));
    set("MemorySwap", a.memory_swap.map(|v| json!(v)));
    set("PidsLimit", a.pids_limit.map(|v| json!(v)));
    if let Some(r) = &a.restart {
        let p = super::opts::restart_policy(r).map_err(|e| CliError::Usage(e.to_string()))?;
        set("RestartPolicy", Some(p));
    }
    if body.is_empty() {
        return Err(CliError::Usage(
            "you must provide one or more flags when using this command".into(),
        ));
    }
    let body = Value::Object(body);
    let client = app.client()?;
    super::for_each(&a.args, &mut |n| {
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "PascalCase", default)]
        struct Updated {
            warnings: Option<Vec<String>>,
        }
        let r: Updated = client
            .send(
                Request::new(
                    Method::Post,
                    format!("/containers/{}/update", path_escape(n)),
                )
                .json(&body),
            )?
            .json()?;
        for w in r.warnings.unwrap_or_default() {
            eprintln!("{w}");
        }
        Ok(Some(n.to_string()))
    })
}
