//! cgroup v1 cpuacct controller: CPU usage stats only (it has no settings).

use std::path::Path;

use crate::cgroup_file::{self, FileError};
use crate::error::Result;
use crate::stats::CpuStats;

/// `cpuacct.stat` counts in USER_HZ ticks, which is 100 on every Linux architecture.
const NS_PER_TICK: u64 = 1_000_000_000 / 100;

fn numbers(path: &Path, text: &str) -> Result<Vec<u64>, FileError> {
    text.split_whitespace()
        .map(|v| cgroup_file::parse_u64(path, v))
        .collect()
}

pub(crate) fn stats(dir: &Path, out: &mut CpuStats) -> Result<()> {
    let Some(total) = cgroup_file::read_u64_if_exists(dir, "cpuacct.usage")? else {
        return Ok(());
    };
    out.usage.total = total;
    let path = dir.join("cpuacct.usage_percpu");
    out.usage.percpu = numbers(&path, &cgroup_file::read_path(&path)?)?;

    let path = dir.join("cpuacct.stat");
    let text = cgroup_file::read_path(&path)?;
    for kv in cgroup_file::parse_flat_keyed(&path, &text) {
        let (k, v) = kv?;
        match k {
            "user" => out.usage.user = v.saturating_mul(NS_PER_TICK),
            "system" => out.usage.kernel = v.saturating_mul(NS_PER_TICK),
            _ => {}
        }
    }

    // "cpu user system" per CPU, nanoseconds (4.16+).
    let path = dir.join("cpuacct.usage_all");
    if let Some(text) = cgroup_file::read_if_exists(dir, "cpuacct.usage_all")? {
        for line in text.lines().skip(1) {
            let v = numbers(&path, line)?;
            if let [_, user, system] = v[..] {
                out.usage.percpu_user.push(user);
                out.usage.percpu_kernel.push(system);
            } else {
                return Err(FileError::Parse {
                    path,
                    content: line.to_owned(),
                }
                .into());
            }
        }
    }
    Ok(())
}
