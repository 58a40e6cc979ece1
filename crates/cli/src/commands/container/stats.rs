//! `berth stats`: `GET /containers/{id}/stats` for each container (the
//! running ones, or all with `-a`, when none is named), computed as
//! docker computes its columns — CPU % from the CPU and system deltas
//! times the online CPUs, memory without the page cache, network and
//! block I/O sums, PIDs. With `--no-stream` one sample each; otherwise
//! the table is redrawn every sample.

use serde_json::Value as Json;

use crate::app::{App, print};
use crate::cli::{StatsArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::image::row;
use crate::error::CliError;
use crate::format::template::Value;
use crate::format::{self, units};

const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// Column titles.
pub const HEADER: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Container", "CONTAINER"),
    ("Name", "NAME"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];

/// One sample, computed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// As named on the command line (or the ID).
    pub container: String,
    /// The container's name.
    pub name: String,
    /// Its ID.
    pub id: String,
    /// CPU %.
    pub cpu: f64,
    /// Memory used (bytes).
    pub mem: f64,
    /// Memory limit.
    pub mem_limit: f64,
    /// Memory %.
    pub mem_pct: f64,
    /// Network received.
    pub net_rx: f64,
    /// Network sent.
    pub net_tx: f64,
    /// Block read.
    pub blk_read: f64,
    /// Block written.
    pub blk_write: f64,
    /// PIDs.
    pub pids: u64,
    /// No sample (the container is not running).
    pub invalid: bool,
}

fn f(v: &Json) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// docker's computation of a stats JSON.
pub fn compute(container: &str, s: &Json) -> Entry {
    let cpu = &s["cpu_stats"];
    let pre = &s["precpu_stats"];
    let cpu_delta = f(&cpu["cpu_usage"]["total_usage"]) - f(&pre["cpu_usage"]["total_usage"]);
    let sys_delta = f(&cpu["system_cpu_usage"]) - f(&pre["system_cpu_usage"]);
    let mut online = f(&cpu["online_cpus"]);
    if online == 0.0 {
        online = cpu["cpu_usage"]["percpu_usage"]
            .as_array()
            .map_or(0, Vec::len) as f64;
    }
    let cpu_pct = if sys_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / sys_delta * online * 100.0
    } else {
        0.0
    };
    let m = &s["memory_stats"];
    let usage = f(&m["usage"]);
    let st = &m["stats"];
    let cache = if let Some(v) = st.get("total_inactive_file").and_then(Json::as_f64) {
        if v < usage { v } else { 0.0 }
    } else if let Some(v) = st.get("inactive_file").and_then(Json::as_f64) {
        if v < usage { v } else { 0.0 }
    } else {
        0.0
    };
    let mem = usage - cache;
    let limit = f(&m["limit"]);
    let mem_pct = if limit != 0.0 {
        mem / limit * 100.0
    } else {
        0.0
    };
    let (mut rx, mut tx) = (0.0, 0.0);
    if let Some(nets) = s["networks"].as_object() {
        for n in nets.values() {
            rx += f(&n["rx_bytes"]);
            tx += f(&n["tx_bytes"]);
        }
    }
    let (mut br, mut bw) = (0.0, 0.0);
    if let Some(ios) = s["blkio_stats"]["io_service_bytes_recursive"].as_array() {
        for e in ios {
            let op = e["op"].as_str().unwrap_or("");
            match op.chars().next() {
                Some('R' | 'r') => br += f(&e["value"]),
                Some('W' | 'w') => bw += f(&e["value"]),
                _ => {}
            }
        }
    }
    Entry {
        container: container.to_string(),
        name: s["name"]
            .as_str()
            .unwrap_or("")
            .trim_start_matches('/')
            .to_string(),
        id: s["id"].as_str().unwrap_or("").to_string(),
        cpu: cpu_pct,
        mem,
        mem_limit: limit,
        mem_pct,
        net_rx: rx,
        net_tx: tx,
        blk_read: br,
        blk_write: bw,
        pids: s["pids_stats"]["current"].as_u64().unwrap_or(0),
        invalid: false,
    }
}

fn row_value(e: &Entry, trunc: bool) -> Value {
    let id = if trunc {
        format::truncate_id(&e.id)
    } else {
        e.id.clone()
    };
    let dash = |s: String| if e.invalid { "--".to_string() } else { s };
    let name = if e.invalid && e.name.is_empty() {
        "--".to_string()
    } else {
        e.name.clone()
    };
    row("*formatter.statsContext")
        .field(
            "BlockIO",
            dash(format!(
                "{} / {}",
                units::human_size_with_precision(e.blk_read, 3),
                units::human_size_with_precision(e.blk_write, 3)
            )),
        )
        .field("CPUPerc", dash(format!("{:.2}%", e.cpu)))
        .field("Container", e.container.clone())
        .field("ID", id)
        .field("MemPerc", dash(format!("{:.2}%", e.mem_pct)))
        .field(
            "MemUsage",
            if e.invalid {
                "-- / --".to_string()
            } else {
                format!(
                    "{} / {}",
                    units::bytes_size(e.mem),
                    units::bytes_size(e.mem_limit)
                )
            },
        )
        .field("Name", name)
        .field(
            "NetIO",
            dash(format!(
                "{} / {}",
                units::human_size_with_precision(e.net_rx, 3),
                units::human_size_with_precision(e.net_tx, 3)
            )),
        )
        .field("PIDs", dash(e.pids.to_string()))
        .into()
}

fn sample(app: &App, name: &str) -> Result<Entry, CliError> {
    let client = app.client()?;
    let s: Json = client
        .send(
            Request::new(
                Method::Get,
                format!("/containers/{}/stats", path_escape(name)),
            )
            .query("stream", "0"),
        )?
        .json()?;
    let mut e = compute(name, &s);
    if s["read"].as_str().is_some_and(|r| r.starts_with("0001-")) {
        e.invalid = true;
    }
    Ok(e)
}

/// Run `stats`.
pub fn run(app: &App, a: &StatsArgs, _u: Usage) -> Result<(), CliError> {
    let client = app.client()?;
    let names: Vec<String> = if a.args.is_empty() {
        let list: Vec<super::list::Summary> = client
            .send(Request::new(Method::Get, "/containers/json").query_if(a.all, "all", "1"))?
            .json()?;
        list.iter().map(|c| c.id.clone()).collect()
    } else {
        a.args.clone()
    };
    let fmt = match &a.format {
        Some(f) if !f.is_empty() && f != format::TABLE => f.clone(),
        _ => DEFAULT_TABLE.to_string(),
    };
    loop {
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for n in &names {
            match sample(app, n) {
                Ok(e) => rows.push(row_value(&e, !a.no_trunc)),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(CliError::Status {
                message: errors.join("\n"),
                code: 1,
            });
        }
        let text = format::write_rows(&fmt, HEADER, &rows)?;
        if a.no_stream {
            return print(&text);
        }
        if crate::app::stdout_is_terminal() {
            print(&format!("\x1b[2J\x1b[H{text}"))?;
        } else {
            print(&text)?;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_like_docker() {
        let s: Json = serde_json::json!({
            "id": "0123456789abcdef", "name": "/web",
            "read": "2026-01-01T00:00:00Z",
            "cpu_stats": {"cpu_usage": {"total_usage": 2_000_000}, "system_cpu_usage": 110_000_000, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000}, "system_cpu_usage": 100_000_000},
            "memory_stats": {"usage": 10_485_760, "limit": 104_857_600, "stats": {"inactive_file": 2_097_152}},
            "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 2000}},
            "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 4096}, {"op": "write", "value": 8192}]},
            "pids_stats": {"current": 3}
        });
        let e = compute("web", &s);
        let out = format::write_rows(DEFAULT_TABLE, HEADER, &[row_value(&e, true)]).unwrap();
        assert_eq!(
            out,
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O     BLOCK I/O        PIDS\n\
             0123456789ab   web       20.00%    8MiB / 100MiB       8.00%     1kB / 2kB   4.1kB / 8.19kB   3\n"
        );
    }
}
