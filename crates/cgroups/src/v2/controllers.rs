//! Enabling controllers for a cgroup v2 directory: a controller is usable in a cgroup only if it
//! is enabled in the `cgroup.subtree_control` of every ancestor. Per ancestor this reads
//! `cgroup.controllers` and `cgroup.subtree_control` and writes only what is missing.

use std::path::{Path, PathBuf};

use crate::cgroup_file;
use crate::error::{Error, Result};
use crate::state::HierarchyState;

/// Which controllers to enable.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wanted<'a> {
    /// Everything the ancestor offers (what `create` does on a v2 host, like runc), best effort:
    /// a controller the kernel refuses (e.g. `cpu` with real-time tasks around) is skipped.
    AllAvailable,
    /// These controllers, all required: failure is an error.
    These(&'a [&'a str]),
}

/// The controllers available in `dir` (`cgroup.controllers`).
pub(crate) fn available(dir: &Path) -> Result<Vec<String>> {
    let text = cgroup_file::read(dir, "cgroup.controllers")?;
    Ok(text.split_whitespace().map(str::to_owned).collect())
}

/// The ancestors of `h.path` from the mount point down to its parent.
fn ancestors(h: &HierarchyState) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = h
        .path
        .ancestors()
        .skip(1)
        .take_while(|p| p.starts_with(&h.mountpoint))
        .map(Path::to_path_buf)
        .collect();
    v.reverse();
    v
}

/// Enable `wanted` controllers along the path to `h.path`.
pub(crate) fn enable(h: &HierarchyState, wanted: Wanted<'_>) -> Result<()> {
    for dir in ancestors(h) {
        let avail = available(&dir)?;
        let enabled = cgroup_file::read(&dir, "cgroup.subtree_control")?;
        let enabled: Vec<&str> = enabled.split_whitespace().collect();
        let missing: Vec<&str> = match wanted {
            Wanted::AllAvailable => avail
                .iter()
                .map(String::as_str)
                .filter(|c| !enabled.contains(c))
                .collect(),
            Wanted::These(list) => {
                if let Some(c) = list.iter().find(|c| !avail.iter().any(|a| a == *c)) {
                    return Err(Error::ControllerNotOffered {
                        path: dir.clone(),
                        controller: (*c).to_owned(),
                    });
                }
                list.iter()
                    .copied()
                    .filter(|c| !enabled.contains(c))
                    .collect()
            }
        };
        if missing.is_empty() {
            continue;
        }
        let value = missing
            .iter()
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(" ");
        if let Err(source) = cgroup_file::write(&dir, "cgroup.subtree_control", &value) {
            match wanted {
                Wanted::These(_) => {
                    return Err(Error::EnableControllers {
                        path: dir,
                        controllers: value,
                        source,
                    });
                }
                Wanted::AllAvailable => {
                    // One at a time, so one refusal does not lose the others.
                    for c in &missing {
                        let _ =
                            cgroup_file::write(&dir, "cgroup.subtree_control", &format!("+{c}"));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::CgroupVersion;

    #[test]
    fn ancestors_run_from_the_mount_point_to_the_parent() {
        let h = HierarchyState {
            version: CgroupVersion::V2,
            controllers: vec![],
            mountpoint: "/sys/fs/cgroup".into(),
            path: "/sys/fs/cgroup/berth/abc".into(),
            created: vec![],
        };
        assert_eq!(
            ancestors(&h),
            vec![
                PathBuf::from("/sys/fs/cgroup"),
                PathBuf::from("/sys/fs/cgroup/berth")
            ]
        );
    }
}
