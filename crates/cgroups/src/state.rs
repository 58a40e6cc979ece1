//! [`CgroupState`]: the plain, serializable description of a container's cgroup that the runtime
//! keeps in its `state.json` so that a later process can re-open the cgroup with
//! [`Manager::from_state`](crate::Manager::from_state).
//!
//! Shape (hybrid host, cgroupsPath `/docker/abc`, after `create`):
//!
//! ```json
//! {
//!   "mode": "hybrid",
//!   "hierarchies": [
//!     { "version": "v1", "controllers": ["memory"],
//!       "mountpoint": "/sys/fs/cgroup/memory",
//!       "path": "/sys/fs/cgroup/memory/docker/abc",
//!       "created": ["/sys/fs/cgroup/memory/docker", "/sys/fs/cgroup/memory/docker/abc"] },
//!     { "version": "v2", "controllers": [],
//!       "mountpoint": "/sys/fs/cgroup/unified",
//!       "path": "/sys/fs/cgroup/unified/docker/abc",
//!       "created": ["/sys/fs/cgroup/unified/docker/abc"] }
//!   ]
//! }
//! ```
//!
//! `created` lists, shallowest first, the directories this manager made; `destroy` removes exactly
//! those (deepest first) and never a directory it did not make. `from_state` checks that every
//! path is normalised, under its mount point, and that created directories are the cgroup
//! directory or its ancestors, so a tampered state file cannot make `destroy` remove anything else.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::CgroupMode;
use crate::error::{Error, Result};

/// Which cgroup version a hierarchy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupVersion {
    V1,
    V2,
}

/// The container's cgroup in one hierarchy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HierarchyState {
    /// v1 or v2 (cgroup2).
    pub version: CgroupVersion,
    /// v1: the controllers bound to the hierarchy (`["cpu","cpuacct"]`, `["name=systemd"]`);
    /// v2: empty (available controllers are read from the kernel when needed).
    #[serde(default)]
    pub controllers: Vec<String>,
    /// Where the hierarchy is mounted.
    pub mountpoint: PathBuf,
    /// Absolute path of the container's cgroup directory.
    pub path: PathBuf,
    /// Directories created by this manager, shallowest first.
    #[serde(default)]
    pub created: Vec<PathBuf>,
}

impl HierarchyState {
    /// A short name for messages: `memory`, `cpu,cpuacct`, `name=systemd`, `cgroup2`.
    pub fn name(&self) -> String {
        match self.version {
            CgroupVersion::V2 => "cgroup2".to_owned(),
            CgroupVersion::V1 => self.controllers.join(","),
        }
    }

    /// Whether this v1 hierarchy carries `controller`.
    pub(crate) fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

/// Everything needed to re-open a container's cgroup in another process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupState {
    /// The host layout the cgroup was made for.
    pub mode: CgroupMode,
    /// One entry per hierarchy the container's cgroup lives in.
    pub hierarchies: Vec<HierarchyState>,
}

fn is_normal_absolute(p: &Path) -> bool {
    p.is_absolute()
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

impl CgroupState {
    /// Check internal consistency (see the module doc).
    pub(crate) fn check(&self) -> Result<()> {
        let bad = |path: &Path, reason| {
            Err(Error::InvalidState {
                path: path.to_path_buf(),
                reason,
            })
        };
        let v2_count = self
            .hierarchies
            .iter()
            .filter(|h| h.version == CgroupVersion::V2)
            .count();
        let v1_count = self.hierarchies.len() - v2_count;
        let shape_ok = match self.mode {
            CgroupMode::Unified => v2_count == 1 && v1_count == 0,
            CgroupMode::Hybrid => v2_count <= 1 && v1_count > 0,
            CgroupMode::Legacy => v2_count == 0 && v1_count > 0,
        };
        if !shape_ok {
            return bad(
                Path::new(""),
                "hierarchy versions do not match the cgroup mode",
            );
        }
        for h in &self.hierarchies {
            if h.version == CgroupVersion::V1 && h.controllers.is_empty() {
                return bad(&h.mountpoint, "v1 hierarchy without controllers");
            }
            if !is_normal_absolute(&h.mountpoint) {
                return bad(
                    &h.mountpoint,
                    "mount point is not a normalised absolute path",
                );
            }
            if !is_normal_absolute(&h.path) {
                return bad(&h.path, "cgroup path is not a normalised absolute path");
            }
            if !h.path.starts_with(&h.mountpoint) || h.path == h.mountpoint {
                return bad(&h.path, "cgroup path is not below its mount point");
            }
            for c in &h.created {
                let ok = is_normal_absolute(c)
                    && c.starts_with(&h.mountpoint)
                    && c != &h.mountpoint
                    && h.path.starts_with(c);
                if !ok {
                    return bad(
                        c,
                        "created directory is not the cgroup or one of its ancestors below the mount point",
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(
        version: CgroupVersion,
        ctrl: &[&str],
        mnt: &str,
        path: &str,
        created: &[&str],
    ) -> HierarchyState {
        HierarchyState {
            version,
            controllers: ctrl.iter().map(|s| s.to_string()).collect(),
            mountpoint: mnt.into(),
            path: path.into(),
            created: created.iter().map(PathBuf::from).collect(),
        }
    }

    #[test]
    fn json_round_trip() {
        let s = CgroupState {
            mode: CgroupMode::Hybrid,
            hierarchies: vec![
                h(
                    CgroupVersion::V1,
                    &["memory"],
                    "/m",
                    "/m/berth/a",
                    &["/m/berth", "/m/berth/a"],
                ),
                h(CgroupVersion::V2, &[], "/u", "/u/berth/a", &["/u/berth/a"]),
            ],
        };
        s.check().unwrap();
        let j = serde_json::to_string(&s).unwrap();
        assert!(
            j.contains("\"mode\":\"hybrid\"") && j.contains("\"version\":\"v2\""),
            "{j}"
        );
        let back: CgroupState = serde_json::from_str(&j).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn tampered_states_are_rejected() {
        let ok = h(CgroupVersion::V1, &["memory"], "/m", "/m/a/b", &["/m/a/b"]);
        let cases = [
            h(CgroupVersion::V1, &["memory"], "/m", "/m/a/b", &["/m/x"]),
            h(CgroupVersion::V1, &["memory"], "/m", "/m/a/b", &["/m"]),
            h(CgroupVersion::V1, &["memory"], "/m", "/m/a/../../etc", &[]),
            h(CgroupVersion::V1, &["memory"], "/m", "/etc", &[]),
            h(CgroupVersion::V1, &[], "/m", "/m/a", &[]),
            h(
                CgroupVersion::V1,
                &["memory"],
                "/m",
                "/m/a/b",
                &["/m/a/b/c"],
            ),
        ];
        for bad in cases {
            let s = CgroupState {
                mode: CgroupMode::Legacy,
                hierarchies: vec![ok.clone(), bad.clone()],
            };
            assert!(
                matches!(s.check(), Err(Error::InvalidState { .. })),
                "{bad:?}"
            );
        }
        let wrong_mode = CgroupState {
            mode: CgroupMode::Unified,
            hierarchies: vec![ok],
        };
        assert!(wrong_mode.check().is_err());
    }
}
