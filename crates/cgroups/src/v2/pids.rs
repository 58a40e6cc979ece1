//! The pids controller (`pids.max`, `pids.current`); the files are the same in v1 and v2.

use std::path::Path;

use oci_spec::runtime::LinuxPids;

use crate::cgroup_file;
use crate::error::Result;
use crate::knob;
use crate::stats::PidsStats;

/// `limit` > 0 is the maximum; 0 or negative means unlimited (`max`).
pub(crate) fn apply(dir: &Path, p: &LinuxPids) -> Result<()> {
    let v = if p.limit() > 0 {
        p.limit().to_string()
    } else {
        "max".to_owned()
    };
    knob::set(dir, "pids.max", &v, "linux.resources.pids.limit")
}

pub(crate) fn stats(dir: &Path, out: &mut PidsStats) -> Result<()> {
    let Some(current) = cgroup_file::read_u64_if_exists(dir, "pids.current")? else {
        return Ok(());
    };
    out.current = current;
    let limit = cgroup_file::read_u64(dir, "pids.max")?;
    // "max" reads as u64::MAX; runc reports unlimited as 0.
    out.limit = if limit == u64::MAX { 0 } else { limit };
    Ok(())
}
