//! cgroup v1 cpu controller: shares, CFS quota/period/burst, real-time runtime/period, idle,
//! and `cpu.stat` throttling.
//!
//! Interdependent values are written in the order the kernel accepts: when it refuses a
//! period (EINVAL, the old quota does not fit the new period) the quota goes first and the
//! period is retried. Real-time runtime needs budget in every ancestor: ancestors this manager
//! created get at least the container's runtime (ancestors made by others are left alone).

use std::path::Path;

use oci_spec::runtime::LinuxCpu;

use crate::cgroup_file;
use crate::error::Result;
use crate::knob;
use crate::state::HierarchyState;
use crate::stats::CpuStats;

fn set_pair(
    dir: &Path,
    first: (&str, String, &str),
    second: Option<(&str, String, &str)>,
) -> Result<()> {
    let (file, value, field) = first;
    match knob::set(dir, file, &value, field) {
        Ok(()) => {
            if let Some((f2, v2, fd2)) = second {
                knob::set(dir, f2, &v2, fd2)?;
            }
            Ok(())
        }
        Err(e) if second.is_some() && knob::is_errno(&e, libc::EINVAL) => {
            if let Some((f2, v2, fd2)) = second {
                knob::set(dir, f2, &v2, fd2)?;
            }
            knob::set(dir, file, &value, field)
        }
        Err(e) => Err(e),
    }
}

fn raise_rt_in_created_ancestors(h: &HierarchyState, runtime: i64) -> Result<()> {
    for dir in h.created.iter().filter(|d| **d != h.path) {
        let cur = cgroup_file::read(dir, "cpu.rt_runtime_us")
            .map_err(knob::apply_err("linux.resources.cpu.realtimeRuntime"))?;
        let cur: i64 = cur.trim().parse().unwrap_or(0);
        if cur != -1 && cur < runtime {
            knob::set(
                dir,
                "cpu.rt_runtime_us",
                &runtime.to_string(),
                "linux.resources.cpu.realtimeRuntime",
            )?;
        }
    }
    Ok(())
}

pub(crate) fn apply(h: &HierarchyState, c: &LinuxCpu) -> Result<()> {
    let dir = h.path.as_path();
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        knob::set(
            dir,
            "cpu.shares",
            &s.to_string(),
            "linux.resources.cpu.shares",
        )?;
    }
    // Period before quota, retried the other way round on EINVAL.
    let period = c.period().filter(|p| *p != 0).map(|p| {
        (
            "cpu.cfs_period_us",
            p.to_string(),
            "linux.resources.cpu.period",
        )
    });
    let quota = c.quota().filter(|q| *q != 0).map(|q| {
        (
            "cpu.cfs_quota_us",
            q.to_string(),
            "linux.resources.cpu.quota",
        )
    });
    match (period, quota) {
        (Some(p), q) => set_pair(dir, p, q)?,
        (None, Some(q)) => set_pair(dir, q, None)?,
        (None, None) => {}
    }
    if let Some(b) = c.burst() {
        knob::set_required(
            dir,
            "cpu.cfs_burst_us",
            &b.to_string(),
            "linux.resources.cpu.burst",
        )?;
    }
    let rt_period = c.realtime_period().filter(|p| *p != 0).map(|p| {
        (
            "cpu.rt_period_us",
            p.to_string(),
            "linux.resources.cpu.realtimePeriod",
        )
    });
    let rt_runtime = c.realtime_runtime().filter(|r| *r != 0);
    if let Some(r) = rt_runtime.filter(|r| *r > 0) {
        raise_rt_in_created_ancestors(h, r)?;
    }
    let rt_runtime = rt_runtime.map(|r| {
        (
            "cpu.rt_runtime_us",
            r.to_string(),
            "linux.resources.cpu.realtimeRuntime",
        )
    });
    match (rt_period, rt_runtime) {
        (Some(p), r) => set_pair(dir, p, r)?,
        (None, Some(r)) => set_pair(dir, r, None)?,
        (None, None) => {}
    }
    if let Some(i) = c.idle() {
        knob::set_required(dir, "cpu.idle", &i.to_string(), "linux.resources.cpu.idle")?;
    }
    Ok(())
}

/// Throttling from `cpu.stat` (v1 reports `throttled_time` in nanoseconds).
pub(crate) fn stats(dir: &Path, out: &mut CpuStats) -> Result<()> {
    let path = dir.join("cpu.stat");
    let Some(text) = cgroup_file::read_if_exists(dir, "cpu.stat")? else {
        return Ok(());
    };
    for kv in cgroup_file::parse_flat_keyed(&path, &text) {
        let (k, v) = kv?;
        match k {
            "nr_periods" => out.throttling.periods = v,
            "nr_throttled" => out.throttling.throttled_periods = v,
            "throttled_time" => out.throttling.throttled_time = v,
            _ => {}
        }
    }
    Ok(())
}
