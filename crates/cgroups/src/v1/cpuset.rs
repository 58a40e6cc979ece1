//! cgroup v1 cpuset controller. A new v1 cpuset cgroup starts with empty `cpuset.cpus` and
//! `cpuset.mems`, and no task can join it until both are set; each directory this manager
//! creates gets the nearest non-empty ancestor's values. Then `cpus`/`mems` of the resources,
//! and the stats.

use std::path::Path;

use oci_spec::runtime::LinuxCpu;

use crate::cgroup_file;
use crate::cpu_list;
use crate::error::{Error, Result};
use crate::knob;
use crate::state::HierarchyState;
use crate::stats::CpusetStats;

/// The value of `file` in the nearest ancestor of `start` (inclusive) that has one.
fn inherited(h: &HierarchyState, start: &Path, file: &str) -> Result<String> {
    for dir in start
        .ancestors()
        .take_while(|d| d.starts_with(&h.mountpoint))
    {
        let v = cgroup_file::read(dir, file).map_err(|source| Error::InitCpuset {
            path: dir.to_path_buf(),
            source,
        })?;
        let v = v.trim();
        if !v.is_empty() {
            return Ok(v.to_owned());
        }
    }
    Ok(String::new())
}

/// Give each created directory its parent's cpus and mems (shallowest first).
pub(crate) fn init_created(h: &HierarchyState) -> Result<()> {
    let Some(first) = h.created.first() else {
        return Ok(());
    };
    let Some(parent) = first.parent() else {
        return Ok(());
    };
    let cpus = inherited(h, parent, "cpuset.cpus")?;
    let mems = inherited(h, parent, "cpuset.mems")?;
    for dir in &h.created {
        for (file, value) in [("cpuset.cpus", &cpus), ("cpuset.mems", &mems)] {
            cgroup_file::write(dir, file, value).map_err(|source| Error::InitCpuset {
                path: dir.clone(),
                source,
            })?;
        }
    }
    Ok(())
}

pub(crate) fn apply(dir: &Path, c: &LinuxCpu) -> Result<()> {
    if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
        knob::set(dir, "cpuset.cpus", cpus, "linux.resources.cpu.cpus")?;
    }
    if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
        knob::set(dir, "cpuset.mems", mems, "linux.resources.cpu.mems")?;
    }
    Ok(())
}

pub(crate) fn stats(dir: &Path, out: &mut CpusetStats) -> Result<()> {
    let list = |file: &str| -> Result<Vec<u16>> {
        let path = dir.join(file);
        let text = cgroup_file::read_path(&path)?;
        cpu_list::parse(&text).map_err(|_| {
            cgroup_file::FileError::Parse {
                path,
                content: text.clone(),
            }
            .into()
        })
    };
    out.cpus = list("cpuset.cpus")?;
    out.mems = list("cpuset.mems")?;
    let num =
        |file: &str| cgroup_file::read_u64_if_exists(dir, file).map(Option::unwrap_or_default);
    out.cpu_exclusive = num("cpuset.cpu_exclusive")?;
    out.mem_hardwall = num("cpuset.mem_hardwall")?;
    out.mem_exclusive = num("cpuset.mem_exclusive")?;
    out.memory_migrate = num("cpuset.memory_migrate")?;
    out.memory_spread_page = num("cpuset.memory_spread_page")?;
    out.memory_spread_slab = num("cpuset.memory_spread_slab")?;
    out.memory_pressure = num("cpuset.memory_pressure")?;
    out.sched_load_balance = num("cpuset.sched_load_balance")?;
    if let Some(t) = cgroup_file::read_if_exists(dir, "cpuset.sched_relax_domain_level")? {
        out.sched_relax_domain_level =
            t.trim()
                .parse()
                .map_err(|_| cgroup_file::FileError::Parse {
                    path: dir.join("cpuset.sched_relax_domain_level"),
                    content: t.clone(),
                })?;
    }
    Ok(())
}
