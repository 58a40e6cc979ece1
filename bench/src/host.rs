//! What the figures were measured on: CPUs, kernel, cgroup layout, the
//! filesystems the runtime state lives on, and the load average, so that a
//! table is never read without its machine.

use std::fmt;
use std::path::Path;

/// The cgroup layout of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupLayout {
    /// cgroup v2 only, mounted at /sys/fs/cgroup.
    Unified,
    /// v1 controllers plus cgroup2 at /sys/fs/cgroup/unified, with the
    /// controllers enabled there.
    Hybrid {
        /// Controllers in /sys/fs/cgroup/unified/cgroup.controllers.
        unified_controllers: String,
    },
    /// v1 only.
    Legacy,
}

impl CgroupLayout {
    /// Look at /sys/fs/cgroup.
    pub fn detect() -> CgroupLayout {
        if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            return CgroupLayout::Unified;
        }
        match std::fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers") {
            Ok(c) => CgroupLayout::Hybrid {
                unified_controllers: c.trim().to_string(),
            },
            Err(_) => CgroupLayout::Legacy,
        }
    }
}

impl fmt::Display for CgroupLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CgroupLayout::Unified => write!(f, "cgroup v2 (unified)"),
            CgroupLayout::Hybrid {
                unified_controllers,
            } => {
                let c = if unified_controllers.is_empty() {
                    "none"
                } else {
                    unified_controllers
                };
                write!(
                    f,
                    "hybrid: v1 controllers, cgroup2 at /sys/fs/cgroup/unified with controllers: {c}"
                )
            }
            CgroupLayout::Legacy => write!(f, "cgroup v1 (legacy)"),
        }
    }
}

/// The machine.
#[derive(Debug, Clone)]
pub struct Host {
    /// Online CPUs.
    pub cpus: usize,
    /// CPU model name.
    pub cpu_model: String,
    /// `uname -r`.
    pub kernel: String,
    /// The cgroup layout.
    pub cgroups: CgroupLayout,
}

impl Host {
    /// Describe this machine.
    pub fn describe() -> Host {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let kernel = rustix::system::uname()
            .release()
            .to_string_lossy()
            .into_owned();
        Host {
            cpus,
            cpu_model,
            kernel,
            cgroups: CgroupLayout::detect(),
        }
    }
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The type of the filesystem holding `path` ("ext4", "tmpfs", …), and
/// whether `path` is itself a mount point or lives on its parent's.
pub fn filesystem_of(path: &Path) -> String {
    let kind = match rustix::fs::statfs(path) {
        Ok(s) => match s.f_type as u64 {
            0xEF53 => "ext4".to_string(),
            0x0102_1994 => "tmpfs".to_string(),
            0x9123_683E => "btrfs".to_string(),
            0x5846_5342 => "xfs".to_string(),
            0x794C_7630 => "overlayfs".to_string(),
            other => format!("filesystem magic {other:#x}"),
        },
        Err(e) => format!("unknown ({e})"),
    };
    let mount_point = mount_point_of(path).unwrap_or_else(|| "?".to_string());
    format!("{kind} (mounted at {mount_point})")
}

/// The mount point holding `path`: the longest mount point in
/// /proc/self/mountinfo that is a prefix of it.
fn mount_point_of(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| path.starts_with(m))
        .max_by_key(|m| m.len())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_described() {
        let h = Host::describe();
        assert!(h.cpus >= 1);
        assert!(!h.kernel.is_empty());
        assert_eq!(load_average().split(' ').count(), 3);
    }

    #[test]
    fn proc_is_on_its_own_mount() {
        let fs = filesystem_of(Path::new("/proc/self"));
        assert!(fs.ends_with("(mounted at /proc)"), "{fs}");
        let root = filesystem_of(Path::new("/"));
        assert!(root.ends_with("(mounted at /)"), "{root}");
    }
}
