//! cgroup v2 memory controller: `memory.max`, `memory.low`, `memory.swap.max`, and its stats.
//!
//! OCI `swap` is memory+swap (a cgroup v1 notion); v2 limits swap alone, so `memory.swap.max`
//! gets `swap - limit` (runc's conversion). When `update` sets swap without a limit, the current
//! `memory.max` is used as the limit. `kernel`, `kernelTCP`, `swappiness`, `disableOOMKiller`
//! and `useHierarchy` have no v2 knob and are ignored, as runc does.

use std::path::Path;

use oci_spec::runtime::LinuxMemory;

use crate::cgroup_file;
use crate::error::{Error, Result};
use crate::knob;
use crate::stats::{MemoryEntry, MemoryStats};

fn limit_str(v: i64) -> String {
    if v < 0 {
        "max".to_owned()
    } else {
        v.to_string()
    }
}

/// The value for `memory.swap.max`, or `None` to leave it alone.
fn swap_value(dir: &Path, limit: Option<i64>, swap: Option<i64>) -> Result<Option<String>> {
    let field = "linux.resources.memory.swap";
    match (limit, swap) {
        // Unlimited memory and swap not given: unlimited swap too (v1 compatibility).
        (Some(-1), None) => Ok(Some("max".to_owned())),
        (_, None) => Ok(None),
        (_, Some(s)) if s < 0 => Ok(Some("max".to_owned())),
        (Some(-1), Some(s)) => Ok(Some(s.to_string())),
        (Some(l), Some(s)) => Ok(Some(
            s.checked_sub(l)
                .filter(|d| *d >= 0)
                .ok_or_else(|| Error::InvalidResource {
                    field: field.to_owned(),
                    reason: format!("memory+swap limit {s} is below the memory limit {l}"),
                })?
                .to_string(),
        )),
        (None, Some(s)) => {
            let cur = cgroup_file::read_u64(dir, "memory.max").map_err(knob::apply_err(field))?;
            if cur == u64::MAX {
                return Ok(Some(s.to_string()));
            }
            let cur = i64::try_from(cur).unwrap_or(i64::MAX);
            if s < cur {
                return Err(Error::InvalidResource {
                    field: field.to_owned(),
                    reason: format!(
                        "memory+swap limit {s} is below the current memory limit {cur}"
                    ),
                });
            }
            Ok(Some((s - cur).to_string()))
        }
    }
}

pub(crate) fn apply(dir: &Path, m: &LinuxMemory) -> Result<()> {
    // 0 means "not set" for these values (runc, docker).
    let limit = m.limit().filter(|v| *v != 0);
    let swap = m.swap().filter(|v| *v != 0);
    let reservation = m.reservation().filter(|v| *v != 0);

    if m.check_before_update() == Some(true)
        && let Some(l) = limit.filter(|l| *l > 0)
    {
        // Best effort, like runc: skip the check if usage cannot be read.
        if let Ok(usage) = cgroup_file::read_u64(dir, "memory.current")
            && u64::try_from(l).unwrap_or(0) <= usage
        {
            return Err(Error::MemoryBelowUsage {
                field: "linux.resources.memory.limit",
                limit: l,
                usage,
            });
        }
    }

    if let Some(value) = swap_value(dir, limit, swap)? {
        let field = "linux.resources.memory.swap";
        match cgroup_file::write(dir, "memory.swap.max", &value) {
            Ok(()) => {}
            // No swap accounting: "unlimited" and "none" are what the cgroup has anyway.
            Err(e) if e.is_not_found() && (value == "max" || value == "0") => {}
            Err(e) if e.is_not_found() => {
                return Err(Error::KnobUnavailable {
                    field: field.to_owned(),
                    file: dir.join("memory.swap.max"),
                });
            }
            Err(e) => return Err(knob::apply_err(field)(e)),
        }
    }
    if let Some(l) = limit {
        knob::set(
            dir,
            "memory.max",
            &limit_str(l),
            "linux.resources.memory.limit",
        )?;
    }
    if let Some(r) = reservation {
        knob::set(
            dir,
            "memory.low",
            &limit_str(r),
            "linux.resources.memory.reservation",
        )?;
    }
    Ok(())
}

fn entry(dir: &Path, prefix: &str) -> Result<Option<MemoryEntry>> {
    let Some(usage) = cgroup_file::read_u64_if_exists(dir, &format!("{prefix}.current"))? else {
        return Ok(None);
    };
    Ok(Some(MemoryEntry {
        usage,
        limit: cgroup_file::read_u64(dir, &format!("{prefix}.max"))?,
        // memory.peak since 5.19, memory.swap.peak since 6.5.
        max: cgroup_file::read_u64_if_exists(dir, &format!("{prefix}.peak"))?.unwrap_or(0),
        failcnt: 0,
    }))
}

/// Fill memory stats the way runc's cgroup v2 driver does.
pub(crate) fn stats(dir: &Path, out: &mut MemoryStats) -> Result<()> {
    let path = dir.join("memory.stat");
    let Some(text) = cgroup_file::read_if_exists(dir, "memory.stat")? else {
        return Ok(());
    };
    for kv in cgroup_file::parse_flat_keyed(&path, &text) {
        let (k, v) = kv?;
        out.raw.insert(k.to_owned(), v);
    }
    out.cache = out.raw.get("file").copied().unwrap_or(0);
    let usage = entry(dir, "memory")?.unwrap_or_default();
    out.usage = usage;
    // v1 reports memory+swap; report the same sum here.
    if let Some(mut swap) = entry(dir, "memory.swap")? {
        swap.usage = swap.usage.saturating_add(usage.usage);
        if swap.limit != u64::MAX {
            swap.limit = swap.limit.saturating_add(usage.limit);
        }
        swap.max = 0;
        out.swap = swap;
    }
    Ok(())
}

/// The `oom_kill` counter of `memory.events`.
pub(crate) fn oom_kill_count(dir: &Path) -> std::result::Result<u64, cgroup_file::FileError> {
    let path = dir.join("memory.events");
    let text = cgroup_file::read_path(&path)?;
    cgroup_file::flat_keyed_value(&path, &text, "oom_kill")
}
