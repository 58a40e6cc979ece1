//! cgroup v2 cpu controller: `cpu.weight` (from shares), `cpu.max` (quota and period),
//! `cpu.max.burst`, `cpu.idle`, and `cpu.stat`.

use std::path::Path;

use oci_spec::runtime::LinuxCpu;

use crate::cgroup_file;
use crate::error::Result;
use crate::knob;
use crate::stats::CpuStats;

/// cgroup v1 `cpu.shares` (2..=262144) to cgroup v2 `cpu.weight` (1..=10000), linearly:
/// `1 + ((shares - 2) * 9999) / 262142`.
pub fn shares_to_weight(shares: u64) -> u64 {
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

pub(crate) fn apply(dir: &Path, c: &LinuxCpu) -> Result<()> {
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        knob::set(
            dir,
            "cpu.weight",
            &shares_to_weight(s).to_string(),
            "linux.resources.cpu.shares",
        )?;
    }
    let quota = c.quota().filter(|q| *q != 0);
    let period = c.period().filter(|p| *p != 0);
    let quota_str = |q: i64| {
        if q > 0 {
            q.to_string()
        } else {
            "max".to_owned()
        }
    };
    let max = match (quota, period) {
        (None, None) => None,
        (Some(q), None) => Some(quota_str(q)),
        (Some(q), Some(p)) => Some(format!("{} {p}", quota_str(q))),
        // Period alone: keep the current quota (writing "max <period>" would drop it).
        (None, Some(p)) => {
            let cur = cgroup_file::read(dir, "cpu.max")
                .map_err(knob::apply_err("linux.resources.cpu.period"))?;
            let q = cur.split_whitespace().next().unwrap_or("max").to_owned();
            Some(format!("{q} {p}"))
        }
    };
    if let Some(max) = max {
        let field = if quota.is_some() {
            "linux.resources.cpu.quota"
        } else {
            "linux.resources.cpu.period"
        };
        knob::set(dir, "cpu.max", &max, field)?;
    }
    if let Some(b) = c.burst() {
        knob::set_required(
            dir,
            "cpu.max.burst",
            &b.to_string(),
            "linux.resources.cpu.burst",
        )?;
    }
    if let Some(i) = c.idle() {
        knob::set_required(dir, "cpu.idle", &i.to_string(), "linux.resources.cpu.idle")?;
    }
    Ok(())
}

/// `cpu.stat` (present even without the cpu controller enabled).
pub(crate) fn stats(dir: &Path, out: &mut CpuStats) -> Result<()> {
    let path = dir.join("cpu.stat");
    let Some(text) = cgroup_file::read_if_exists(dir, "cpu.stat")? else {
        return Ok(());
    };
    for kv in cgroup_file::parse_flat_keyed(&path, &text) {
        let (k, v) = kv?;
        match k {
            "usage_usec" => out.usage.total = v.saturating_mul(1000),
            "user_usec" => out.usage.user = v.saturating_mul(1000),
            "system_usec" => out.usage.kernel = v.saturating_mul(1000),
            "nr_periods" => out.throttling.periods = v,
            "nr_throttled" => out.throttling.throttled_periods = v,
            "throttled_usec" => out.throttling.throttled_time = v.saturating_mul(1000),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::shares_to_weight;

    #[test]
    fn shares_conversion_matches_the_documented_formula() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1), 1);
        assert_eq!(shares_to_weight(1_000_000), 10_000);
    }
}
