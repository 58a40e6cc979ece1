//! How much more memory a process may use before its memory cgroup (or one above it) reaches
//! its limit: what a daemon checks before it stages data in memory (a tmpfs is charged to the
//! cgroup of the process that writes it).

use std::path::{Path, PathBuf};

use crate::cgroup_file;
use crate::mountinfo::{self, MountKind};
use crate::own_cgroup;

/// The smallest `limit - usage` over the memory cgroup of `pid` and its ancestors, in bytes;
/// `None` when none of them has a limit (or the memory controller is not mounted). v2 reads
/// `memory.max`/`memory.current`, v1 `memory.limit_in_bytes`/`memory.usage_in_bytes`.
pub fn memory_headroom(pid: u32) -> Option<u64> {
    let memberships = own_cgroup::read_path(Path::new(&format!("/proc/{pid}/cgroup"))).ok()?;
    let mounts = mountinfo::cgroup_mounts().ok()?;
    let v1 = mounts
        .iter()
        .find(|m| m.kind == MountKind::V1 && m.controllers.iter().any(|c| c == "memory"));
    let (mount, files) = match v1 {
        Some(m) => (m, ("memory.limit_in_bytes", "memory.usage_in_bytes")),
        None => (
            mounts.iter().find(|m| m.kind == MountKind::V2)?,
            ("memory.max", "memory.current"),
        ),
    };
    let rel = own_cgroup::relative_to_mount(&memberships, &mount.controllers, &mount.root).ok()?;
    let mut dir: PathBuf = mount.mountpoint.join(rel);
    let mut least: Option<u64> = None;
    loop {
        // "max" (v2) and v1's page-rounded i64::MAX do not parse or exceed any real usage.
        if let (Ok(limit), Ok(usage)) = (
            cgroup_file::read_u64(&dir, files.0),
            cgroup_file::read_u64(&dir, files.1),
        ) && limit < i64::MAX as u64 / 2
        {
            let room = limit.saturating_sub(usage);
            least = Some(least.map_or(room, |l| l.min(room)));
        }
        if dir == mount.mountpoint || !dir.pop() {
            return least;
        }
    }
}
