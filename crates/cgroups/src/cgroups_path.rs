//! Resolution of an OCI `linux.cgroupsPath` into a directory inside each hierarchy, without
//! touching the filesystem.
//!
//! - absolute (`/a/b`): `a/b` under the root of every hierarchy;
//! - relative (`a/b`): `a/b` under the calling process's own cgroup in every hierarchy (what
//!   runc's cgroupfs driver does);
//! - unset or empty: `/berth-<container id>` (one top-level directory per
//!   container: no parent shared between containers, so nothing is left
//!   behind when the last one goes);
//! - the systemd form `slice:prefix:name` is refused with [`Error::SystemdUnsupported`].
//!
//! `.` components are dropped and `..` components are applied lexically; a path whose `..`
//! climbs above a hierarchy root, or that resolves to the root itself, is refused.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The prefix of the directory of containers whose config sets no cgroupsPath.
pub const DEFAULT_PREFIX: &str = "berth-";

/// A parsed cgroupsPath.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CgroupsPath {
    /// Relative to each hierarchy's root.
    Absolute(PathBuf),
    /// Relative to the caller's own cgroup in each hierarchy.
    Relative(PathBuf),
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn check_id(id: &str) -> Result<()> {
    let reason = if id.is_empty() {
        "it is empty"
    } else if id == "." || id == ".." {
        "it is a special directory name"
    } else if id.contains('/') {
        "it contains '/'"
    } else if id.contains('\0') {
        "it contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(Error::InvalidId {
        id: id.to_owned(),
        reason,
    })
}

/// Parse `linux.cgroupsPath` (see the module doc).
pub(crate) fn parse(cgroups_path: Option<&Path>, id: &str) -> Result<CgroupsPath> {
    let path = match cgroups_path {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => {
            check_id(id)?;
            return Ok(CgroupsPath::Absolute(PathBuf::from(format!(
                "{DEFAULT_PREFIX}{id}"
            ))));
        }
    };
    if let Some(s) = path.to_str() {
        if !s.starts_with('/') && !s.contains('/') && s.split(':').count() == 3 {
            return Err(Error::SystemdUnsupported { path: s.to_owned() });
        }
        if s.contains('\0') {
            return Err(Error::InvalidCgroupsPath {
                path: display(path),
                reason: "contains a NUL byte",
            });
        }
    }
    // Normalise early for absolute paths so "/a/../.." is refused before any hierarchy is known.
    if path.is_absolute() {
        let rel = normalize(Path::new(""), path, path, "any")?;
        Ok(CgroupsPath::Absolute(rel))
    } else {
        Ok(CgroupsPath::Relative(path.to_path_buf()))
    }
}

/// Join `base` (relative to a hierarchy root) and `inner`, applying `.` and `..` lexically.
/// The result is relative to the hierarchy root and never empty.
pub(crate) fn normalize(
    base: &Path,
    inner: &Path,
    original: &Path,
    hierarchy: &str,
) -> Result<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in base.components().chain(inner.components()) {
        match c {
            Component::Normal(n) => parts.push(n),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(Error::PathEscapesRoot {
                        path: display(original),
                        hierarchy: hierarchy.to_owned(),
                    });
                }
            }
        }
    }
    if parts.is_empty() {
        return Err(Error::InvalidCgroupsPath {
            path: display(original),
            reason: "resolves to the root of a cgroup hierarchy",
        });
    }
    Ok(parts.iter().collect())
}

impl CgroupsPath {
    /// The directory for this path in one hierarchy, relative to the hierarchy's mount point.
    /// `own` is the caller's cgroup relative to the mounted root (only used for relative paths).
    pub(crate) fn resolve(&self, own: Option<&Path>, hierarchy: &str) -> Result<PathBuf> {
        match self {
            CgroupsPath::Absolute(rel) => Ok(rel.clone()),
            CgroupsPath::Relative(rel) => {
                normalize(own.unwrap_or(Path::new("")), rel, rel, hierarchy)
            }
        }
    }

    pub(crate) fn is_relative(&self) -> bool {
        matches!(self, CgroupsPath::Relative(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_empty_path_is_berth_slash_id() {
        for p in [None, Some(Path::new(""))] {
            let cp = parse(p, "abc").unwrap();
            assert_eq!(cp, CgroupsPath::Absolute(PathBuf::from("berth-abc")));
        }
        assert!(matches!(parse(None, "a/b"), Err(Error::InvalidId { .. })));
        assert!(matches!(parse(None, ".."), Err(Error::InvalidId { .. })));
        assert!(matches!(parse(None, ""), Err(Error::InvalidId { .. })));
    }

    #[test]
    fn absolute_paths_are_normalised_and_cannot_escape() {
        let cp = parse(Some(Path::new("/a/./b/../c")), "x").unwrap();
        assert_eq!(cp, CgroupsPath::Absolute(PathBuf::from("a/c")));
        let e = parse(Some(Path::new("/a/../../etc")), "x").unwrap_err();
        assert!(matches!(e, Error::PathEscapesRoot { .. }), "{e}");
        let e = parse(Some(Path::new("/")), "x").unwrap_err();
        assert!(matches!(e, Error::InvalidCgroupsPath { .. }), "{e}");
    }

    #[test]
    fn relative_paths_resolve_under_own_cgroup() {
        let cp = parse(Some(Path::new("c/d")), "x").unwrap();
        assert!(cp.is_relative());
        assert_eq!(
            cp.resolve(Some(Path::new("a/b")), "memory").unwrap(),
            Path::new("a/b/c/d")
        );
        let up = parse(Some(Path::new("../sib")), "x").unwrap();
        assert_eq!(
            up.resolve(Some(Path::new("a/b")), "memory").unwrap(),
            Path::new("a/sib")
        );
        // own cgroup is the hierarchy root: ".." escapes.
        let e = up.resolve(Some(Path::new("")), "pids").unwrap_err();
        assert!(e.to_string().contains("pids"), "{e}");
        let e = parse(Some(Path::new("x/..")), "x")
            .unwrap()
            .resolve(None, "pids")
            .unwrap_err();
        assert!(matches!(e, Error::InvalidCgroupsPath { .. }), "{e}");
    }

    #[test]
    fn systemd_form_is_refused_with_a_clear_message() {
        let e = parse(Some(Path::new("system.slice:docker:abc")), "x").unwrap_err();
        assert!(matches!(e, Error::SystemdUnsupported { .. }));
        assert!(e.to_string().contains("systemd"), "{e}");
        // A plain relative name with one colon is a directory name, not the systemd form.
        assert!(parse(Some(Path::new("a:b")), "x").is_ok());
    }
}
