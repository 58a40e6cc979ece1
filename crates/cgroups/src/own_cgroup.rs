//! The calling process's own cgroups, from `/proc/self/cgroup`. Read only when a relative
//! `linux.cgroupsPath` has to be resolved.

use std::path::{Path, PathBuf};

use crate::cgroup_file::{self, FileError};

const PROC_SELF_CGROUP: &str = "/proc/self/cgroup";

/// A failure to find the caller's own cgroup in a hierarchy.
#[derive(Debug, thiserror::Error)]
pub enum OwnCgroupError {
    /// Reading `/proc/self/cgroup` failed.
    #[error("read own cgroup membership")]
    Read(#[source] FileError),
    /// A line is not `id:controllers:path`.
    #[error("{PROC_SELF_CGROUP}: malformed line {line:?}")]
    Malformed { line: String },
    /// The process is not listed in a mounted hierarchy.
    #[error("{PROC_SELF_CGROUP} has no entry for the {hierarchy} hierarchy")]
    NotListed { hierarchy: String },
    /// The process's cgroup is outside the part of the hierarchy that is mounted.
    #[error("own cgroup {path} in the {hierarchy} hierarchy is not under its mounted root {root}")]
    NotVisible {
        hierarchy: String,
        path: PathBuf,
        root: PathBuf,
    },
}

/// One line of `/proc/self/cgroup`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Membership {
    /// v1: the controllers of the hierarchy; v2 (`0::/path`): empty.
    pub controllers: Vec<String>,
    pub path: PathBuf,
}

pub(crate) fn parse(text: &str) -> Result<Vec<Membership>, OwnCgroupError> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut parts = line.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(_id), Some(ctrls), Some(path)) => Ok(Membership {
                    controllers: ctrls
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    path: PathBuf::from(path),
                }),
                _ => Err(OwnCgroupError::Malformed {
                    line: line.to_owned(),
                }),
            }
        })
        .collect()
}

pub(crate) fn read() -> Result<Vec<Membership>, OwnCgroupError> {
    read_path(Path::new(PROC_SELF_CGROUP))
}

/// The memberships listed in `path` (`/proc/<pid>/cgroup`).
pub(crate) fn read_path(path: &Path) -> Result<Vec<Membership>, OwnCgroupError> {
    let text = cgroup_file::read_path(path).map_err(OwnCgroupError::Read)?;
    parse(&text)
}

/// The caller's cgroup in the hierarchy with `controllers` (empty for v2), made relative to the
/// hierarchy's mounted `root`.
pub(crate) fn relative_to_mount(
    memberships: &[Membership],
    controllers: &[String],
    root: &Path,
) -> Result<PathBuf, OwnCgroupError> {
    let name = if controllers.is_empty() {
        "cgroup2".to_owned()
    } else {
        controllers.join(",")
    };
    let m = memberships
        .iter()
        .find(|m| {
            m.controllers.len() == controllers.len()
                && controllers.iter().all(|c| m.controllers.contains(c))
        })
        .ok_or_else(|| OwnCgroupError::NotListed {
            hierarchy: name.clone(),
        })?;
    let rel = m
        .path
        .strip_prefix(root)
        .map_err(|_| OwnCgroupError::NotVisible {
            hierarchy: name,
            path: m.path.clone(),
            root: root.to_path_buf(),
        })?;
    Ok(rel.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpuacct,cpu:/x\n0::/u\n";

    #[test]
    fn finds_v1_hierarchies_by_controller_set_and_v2() {
        let m = parse(TEXT).unwrap();
        let rel = |c: &[&str]| {
            let c: Vec<String> = c.iter().map(|s| s.to_string()).collect();
            relative_to_mount(&m, &c, Path::new("/")).unwrap()
        };
        assert_eq!(rel(&["memory"]), Path::new("process_api/abc"));
        assert_eq!(rel(&["cpu", "cpuacct"]), Path::new("x"));
        assert_eq!(rel(&["name=systemd"]), Path::new(""));
        assert_eq!(rel(&[]), Path::new("u"));
    }

    #[test]
    fn mount_root_is_stripped_and_outside_paths_rejected() {
        let m = parse("4:memory:/docker/abc/inner\n").unwrap();
        let c = vec!["memory".to_owned()];
        assert_eq!(
            relative_to_mount(&m, &c, Path::new("/docker/abc")).unwrap(),
            Path::new("inner")
        );
        assert!(matches!(
            relative_to_mount(&m, &c, Path::new("/other")),
            Err(OwnCgroupError::NotVisible { .. })
        ));
        assert!(matches!(
            relative_to_mount(&m, &["pids".to_owned()], Path::new("/")),
            Err(OwnCgroupError::NotListed { .. })
        ));
    }

    #[test]
    fn malformed_line() {
        assert!(parse("garbage\n").is_err());
    }
}
