//! cgroup v1 memory controller: limits (`memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`,
//! soft limit, kernel and TCP kernel memory), swappiness, OOM killer, hierarchy, and stats.
//!
//! memory+swap must stay >= memory at every step, so when both change the order matters: the
//! limit is written first (right when both shrink, or on create where memsw is unlimited); if
//! the kernel refuses it (EINVAL: the new limit is above the current memsw), memsw goes first.

use std::path::Path;

use oci_spec::runtime::LinuxMemory;

use crate::cgroup_file;
use crate::error::{Error, Result};
use crate::knob;
use crate::stats::{MemoryEntry, MemoryStats};

const LIMIT: &str = "memory.limit_in_bytes";
const MEMSW: &str = "memory.memsw.limit_in_bytes";

fn set_limit(dir: &Path, v: i64) -> Result<()> {
    let field = "linux.resources.memory.limit";
    match cgroup_file::write(dir, LIMIT, &v.to_string()) {
        Ok(()) => Ok(()),
        // EBUSY: the kernel could not reclaim down to the new limit.
        Err(e) if e.errno() == Some(libc::EBUSY) => {
            let usage = cgroup_file::read_u64(dir, "memory.usage_in_bytes")
                .map_err(knob::apply_err(field))?;
            Err(Error::MemoryBelowUsage {
                field,
                limit: v,
                usage,
            })
        }
        Err(e) => Err(knob::apply_err(field)(e)),
    }
}

fn set_swap(dir: &Path, v: i64) -> Result<()> {
    knob::set_required(dir, MEMSW, &v.to_string(), "linux.resources.memory.swap")
}

/// Write the optional kernel memory knobs: absent files are ignored (removed from new kernels),
/// and so are the "not supported any more" errors of deprecated ones.
fn set_kernel_knob(dir: &Path, file: &str, v: i64, field: &str) -> Result<()> {
    match cgroup_file::write(dir, file, &v.to_string()) {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        // EOPNOTSUPP, and the kernel-internal ENOTSUPP (524) that leaks from some versions.
        Err(e) if matches!(e.errno(), Some(libc::EOPNOTSUPP) | Some(524)) => Ok(()),
        Err(e) => Err(knob::apply_err(field)(e)),
    }
}

pub(crate) fn apply(dir: &Path, m: &LinuxMemory) -> Result<()> {
    // 0 means "not set" (runc, docker).
    let limit = m.limit().filter(|v| *v != 0);
    let mut swap = m.swap().filter(|v| *v != 0);
    if limit == Some(-1) && swap.is_none() && dir.join(MEMSW).exists() {
        // Unlimited memory and swap not given: unlimited memory+swap too, or memsw keeps the
        // old, lower value and caps memory anyway.
        swap = Some(-1);
    }

    if m.check_before_update() == Some(true)
        && let Some(l) = limit.filter(|l| *l > 0)
        && let Ok(usage) = cgroup_file::read_u64(dir, "memory.usage_in_bytes")
        && u64::try_from(l).unwrap_or(0) <= usage
    {
        return Err(Error::MemoryBelowUsage {
            field: "linux.resources.memory.limit",
            limit: l,
            usage,
        });
    }

    match (limit, swap) {
        (Some(l), Some(s)) => match set_limit(dir, l) {
            Ok(()) => set_swap(dir, s)?,
            Err(e) if knob::is_errno(&e, libc::EINVAL) => {
                set_swap(dir, s)?;
                set_limit(dir, l)?;
            }
            Err(e) => return Err(e),
        },
        (Some(l), None) => set_limit(dir, l)?,
        (None, Some(s)) => set_swap(dir, s)?,
        (None, None) => {}
    }
    if let Some(r) = m.reservation().filter(|v| *v != 0) {
        knob::set(
            dir,
            "memory.soft_limit_in_bytes",
            &r.to_string(),
            "linux.resources.memory.reservation",
        )?;
    }
    if let Some(k) = m.kernel().filter(|v| *v != 0) {
        set_kernel_knob(
            dir,
            "memory.kmem.limit_in_bytes",
            k,
            "linux.resources.memory.kernel",
        )?;
    }
    if let Some(k) = m.kernel_tcp().filter(|v| *v != 0) {
        set_kernel_knob(
            dir,
            "memory.kmem.tcp.limit_in_bytes",
            k,
            "linux.resources.memory.kernelTCP",
        )?;
    }
    if let Some(s) = m.swappiness().filter(|s| *s != u64::MAX) {
        knob::set(
            dir,
            "memory.swappiness",
            &s.to_string(),
            "linux.resources.memory.swappiness",
        )?;
    }
    if let Some(d) = m.disable_oom_killer() {
        knob::set(
            dir,
            "memory.oom_control",
            if d { "1" } else { "0" },
            "linux.resources.memory.disableOOMKiller",
        )?;
    }
    if let Some(h) = m.use_hierarchy() {
        let field = "linux.resources.memory.useHierarchy";
        match knob::set(
            dir,
            "memory.use_hierarchy",
            if h { "1" } else { "0" },
            field,
        ) {
            Err(e) if !h && knob::is_errno(&e, libc::EINVAL) => {
                return Err(Error::InvalidResource {
                    field: field.to_owned(),
                    reason: "this kernel always uses a memory hierarchy (memory.use_hierarchy cannot be 0)".to_owned(),
                });
            }
            other => other?,
        }
    }
    Ok(())
}

/// usage/max/failcnt/limit of `memory[.<name>]`; `None` when the group does not exist (swap
/// accounting off, kernel memory accounting removed).
fn entry(dir: &Path, name: &str) -> Result<Option<MemoryEntry>> {
    let prefix = if name.is_empty() {
        "memory".to_owned()
    } else {
        format!("memory.{name}")
    };
    let Some(usage) = cgroup_file::read_u64_if_exists(dir, &format!("{prefix}.usage_in_bytes"))?
    else {
        return Ok(None);
    };
    Ok(Some(MemoryEntry {
        usage,
        max: cgroup_file::read_u64(dir, &format!("{prefix}.max_usage_in_bytes"))?,
        failcnt: cgroup_file::read_u64(dir, &format!("{prefix}.failcnt"))?,
        // kmem.limit_in_bytes is gone on new kernels while its usage files remain.
        limit: cgroup_file::read_u64_if_exists(dir, &format!("{prefix}.limit_in_bytes"))?
            .unwrap_or(0),
    }))
}

pub(crate) fn stats(dir: &Path, out: &mut MemoryStats) -> Result<()> {
    let path = dir.join("memory.stat");
    let text = cgroup_file::read_path(&path)?;
    for kv in cgroup_file::parse_flat_keyed(&path, &text) {
        let (k, v) = kv?;
        out.raw.insert(k.to_owned(), v);
    }
    out.cache = out.raw.get("cache").copied().unwrap_or(0);
    out.usage = entry(dir, "")?.unwrap_or_default();
    out.swap = entry(dir, "memsw")?.unwrap_or_default();
    out.kernel = entry(dir, "kmem")?.unwrap_or_default();
    out.kernel_tcp = entry(dir, "kmem.tcp")?.unwrap_or_default();
    Ok(())
}
