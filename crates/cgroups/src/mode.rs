//! Which cgroup layout the host uses, found with one or two `statfs` calls.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where the cgroup filesystems are mounted.
pub(crate) const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// Where systemd mounts the cgroup2 hierarchy on hybrid hosts.
pub(crate) const HYBRID_UNIFIED: &str = "/sys/fs/cgroup/unified";

const CGROUP2_SUPER_MAGIC: u64 = 0x6367_7270;
const TMPFS_MAGIC: u64 = 0x0102_1994;

/// The cgroup layout of the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupMode {
    /// cgroup v1 only: one hierarchy per controller (or group of controllers) under a tmpfs.
    Legacy,
    /// v1 controllers plus a cgroup2 hierarchy at `/sys/fs/cgroup/unified` (systemd "hybrid").
    Hybrid,
    /// cgroup v2 only: a single cgroup2 hierarchy at `/sys/fs/cgroup`.
    Unified,
}

impl fmt::Display for CgroupMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CgroupMode::Legacy => "legacy (v1)",
            CgroupMode::Hybrid => "hybrid (v1 + v2)",
            CgroupMode::Unified => "unified (v2)",
        })
    }
}

fn fs_magic(path: &Path) -> std::io::Result<u64> {
    let st = rustix::fs::statfs(path)?;
    // f_type is a signed word on some targets; the magic numbers are all positive u32s.
    #[allow(clippy::unnecessary_cast)]
    Ok(st.f_type as u64)
}

/// Detect the host's cgroup layout: `statfs("/sys/fs/cgroup")`, and on a tmpfs also
/// `statfs("/sys/fs/cgroup/unified")`.
pub fn mode() -> Result<CgroupMode> {
    let root = Path::new(CGROUP_ROOT);
    let magic = fs_magic(root).map_err(|source| Error::DetectMode {
        path: root.to_path_buf(),
        source,
    })?;
    match magic {
        CGROUP2_SUPER_MAGIC => Ok(CgroupMode::Unified),
        TMPFS_MAGIC => match fs_magic(Path::new(HYBRID_UNIFIED)) {
            Ok(CGROUP2_SUPER_MAGIC) => Ok(CgroupMode::Hybrid),
            _ => Ok(CgroupMode::Legacy),
        },
        magic => Err(Error::UnknownCgroupFs {
            path: root.to_path_buf(),
            magic,
        }),
    }
}
