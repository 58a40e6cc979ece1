//! cgroup v2 cpuset controller: `cpuset.cpus`, `cpuset.mems`.

use std::path::Path;

use oci_spec::runtime::LinuxCpu;

use crate::error::Result;
use crate::knob;

pub(crate) fn apply(dir: &Path, c: &LinuxCpu) -> Result<()> {
    if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
        knob::set(dir, "cpuset.cpus", cpus, "linux.resources.cpu.cpus")?;
    }
    if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
        knob::set(dir, "cpuset.mems", mems, "linux.resources.cpu.mems")?;
    }
    Ok(())
}
