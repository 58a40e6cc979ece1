//! pause, resume, update.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use berth_runtime::container::Container;
use berth_runtime::oci_spec::runtime::LinuxResources;
use serde_json::{Map, Value, json};

use crate::args::Update;

pub fn pause(root: &Path, id: &str) -> Result<i32> {
    Container::load(root, id)?.pause()?;
    Ok(0)
}

pub fn resume(root: &Path, id: &str) -> Result<i32> {
    Container::load(root, id)?.resume()?;
    Ok(0)
}

/// Bytes with an optional k/m/g/t suffix (1024-based), or -1.
fn bytes(flag: &str, s: &str) -> Result<i64> {
    let s = s.trim();
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let n: i64 = digits
        .parse()
        .with_context(|| format!("--{flag}: {s:?} is not a size"))?;
    let mult: i64 = match unit {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => bail!("--{flag}: unknown unit in {s:?}"),
    };
    n.checked_mul(mult)
        .with_context(|| format!("--{flag}: {s:?} is too large"))
}

pub fn update(root: &Path, u: &Update) -> Result<i32> {
    let c = Container::load(root, &u.id)?;
    let mut res: Value = match &u.resources {
        Some(path) => {
            let mut text = String::new();
            if path.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("read resources from stdin")?;
            } else {
                text = std::fs::read_to_string(path)
                    .with_context(|| format!("read {}", path.display()))?;
            }
            serde_json::from_str(&text).context("parse the resources JSON")?
        }
        None => json!({}),
    };
    let obj = res
        .as_object_mut()
        .context("resources must be a JSON object")?;
    fn section<'a>(obj: &'a mut Map<String, Value>, name: &str) -> &'a mut Map<String, Value> {
        let v = obj.entry(name).or_insert_with(|| json!({}));
        if !v.is_object() {
            *v = json!({});
        }
        v.as_object_mut().expect("made an object above")
    }
    if let Some(v) = u.blkio_weight {
        section(obj, "blockIO").insert("weight".into(), json!(v));
    }
    let cpu_flags: [(&str, Option<Value>); 7] = [
        ("period", u.cpu_period.map(|v| json!(v))),
        ("quota", u.cpu_quota.map(|v| json!(v))),
        ("shares", u.cpu_share.map(|v| json!(v))),
        ("realtimePeriod", u.cpu_rt_period.map(|v| json!(v))),
        ("realtimeRuntime", u.cpu_rt_runtime.map(|v| json!(v))),
        ("cpus", u.cpuset_cpus.clone().map(Value::String)),
        ("mems", u.cpuset_mems.clone().map(Value::String)),
    ];
    for (k, v) in cpu_flags {
        if let Some(v) = v {
            section(obj, "cpu").insert(k.into(), v);
        }
    }
    let mem_flags = [
        ("limit", "memory", &u.memory),
        ("reservation", "memory-reservation", &u.memory_reservation),
        ("swap", "memory-swap", &u.memory_swap),
        ("kernel", "kernel-memory", &u.kernel_memory),
        ("kernelTCP", "kernel-memory-tcp", &u.kernel_memory_tcp),
    ];
    for (k, flag, v) in mem_flags {
        if let Some(v) = v {
            section(obj, "memory").insert(k.into(), json!(bytes(flag, v)?));
        }
    }
    if let Some(v) = u.pids_limit {
        section(obj, "pids").insert("limit".into(), json!(v));
    }
    if u.l3_cache_schema.is_some() || u.mem_bw_schema.is_some() {
        bail!("updating Intel RDT schemata is not supported by berth-runtime");
    }
    let resources: LinuxResources = serde_json::from_value(res).context("invalid resources")?;
    c.update(&resources)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(bytes("memory", "1024").unwrap(), 1024);
        assert_eq!(bytes("memory", "64m").unwrap(), 64 << 20);
        assert_eq!(bytes("memory", "2G").unwrap(), 2 << 30);
        assert_eq!(bytes("memory", "-1").unwrap(), -1);
        assert!(bytes("memory", "12x").is_err());
    }
}
