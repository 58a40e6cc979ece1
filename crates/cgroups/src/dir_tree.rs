//! Operations on a container's cgroup directory tree that are the same in every hierarchy and
//! version: making the directories (recording which ones were made), joining a process, listing
//! processes recursively, and removing exactly the directories that were made.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fs::Mode;

use crate::cgroup_file;
use crate::error::{Error, Result};
use crate::state::HierarchyState;

/// `mkdir -p` of `h.path` below `h.mountpoint`, appending each directory actually created to
/// `h.created` (shallowest first). One `mkdir` when the parent already exists.
pub(crate) fn make(h: &mut HierarchyState) -> Result<()> {
    let mut made = Vec::new();
    let res = mkdir_p(&h.mountpoint, &h.path, &mut made);
    h.created.extend(made);
    res
}

fn mkdir_p(mountpoint: &Path, dir: &Path, made: &mut Vec<PathBuf>) -> Result<()> {
    let mkerr = |source: io::Error| Error::Mkdir {
        path: dir.to_path_buf(),
        source,
    };
    match rustix::fs::mkdir(dir, Mode::from_raw_mode(0o755)) {
        Ok(()) => {
            made.push(dir.to_path_buf());
            Ok(())
        }
        Err(rustix::io::Errno::EXIST) => Ok(()),
        Err(rustix::io::Errno::NOENT) => {
            let parent = match dir.parent() {
                Some(p) if p.starts_with(mountpoint) && p != mountpoint => p,
                // The mount point itself is missing: nothing to create under.
                _ => return Err(mkerr(io::Error::from_raw_os_error(libc::ENOENT))),
            };
            mkdir_p(mountpoint, parent, made)?;
            match rustix::fs::mkdir(dir, Mode::from_raw_mode(0o755)) {
                Ok(()) => {
                    made.push(dir.to_path_buf());
                    Ok(())
                }
                Err(rustix::io::Errno::EXIST) => Ok(()),
                Err(e) => Err(mkerr(e.into())),
            }
        }
        Err(e) => Err(mkerr(e.into())),
    }
}

/// Write `pid` into `dir/cgroup.procs`.
pub(crate) fn add_pid(dir: &Path, pid: i32) -> Result<()> {
    cgroup_file::write(dir, "cgroup.procs", &pid.to_string()).map_err(|source| Error::AddTask {
        pid,
        path: dir.to_path_buf(),
        source,
    })
}

/// The sub-cgroup directories of `dir`.
pub(crate) fn children(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|source| Error::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|source| Error::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(e.path());
        }
    }
    Ok(out)
}

/// Every process in `dir` and its sub-cgroups, sorted, without duplicates.
pub(crate) fn pids_recursive(dir: &Path) -> Result<Vec<i32>> {
    let mut pids = Vec::new();
    collect_pids(dir, &mut pids)?;
    pids.sort_unstable();
    pids.dedup();
    Ok(pids)
}

fn collect_pids(dir: &Path, pids: &mut Vec<i32>) -> Result<()> {
    let path = dir.join("cgroup.procs");
    let text = cgroup_file::read_path(&path)?;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let pid = line
            .trim()
            .parse()
            .map_err(|_| cgroup_file::FileError::Parse {
                path: path.clone(),
                content: line.to_owned(),
            })?;
        pids.push(pid);
    }
    for child in children(dir)? {
        match collect_pids(&child, pids) {
            // A sub-cgroup removed while we walk.
            Err(Error::File(e)) if e.is_not_found() => {}
            other => other?,
        }
    }
    Ok(())
}

/// Delays between `rmdir` attempts on EBUSY: a task that was just killed may still be exiting.
const RMDIR_RETRIES: [Duration; 6] = [
    Duration::from_millis(1),
    Duration::from_millis(2),
    Duration::from_millis(5),
    Duration::from_millis(10),
    Duration::from_millis(20),
    Duration::from_millis(50),
];

fn rmdir_retrying(dir: &Path) -> Result<()> {
    let mut delays = RMDIR_RETRIES.iter();
    loop {
        match rustix::fs::rmdir(dir) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => return Ok(()),
            Err(rustix::io::Errno::BUSY) => match delays.next() {
                Some(d) => std::thread::sleep(*d),
                None => {
                    return Err(Error::Rmdir {
                        path: dir.to_path_buf(),
                        source: io::Error::from_raw_os_error(libc::EBUSY),
                    });
                }
            },
            Err(e) => {
                return Err(Error::Rmdir {
                    path: dir.to_path_buf(),
                    source: e.into(),
                });
            }
        }
    }
}

/// Remove `dir` and every sub-cgroup below it, deepest first.
fn remove_subtree(dir: &Path, errors: &mut Vec<Error>) {
    match children(dir) {
        Ok(kids) => {
            for k in kids {
                remove_subtree(&k, errors);
            }
        }
        Err(Error::ReadDir { source, .. }) if source.kind() == io::ErrorKind::NotFound => return,
        Err(e) => errors.push(e),
    }
    if let Err(e) = rmdir_retrying(dir) {
        errors.push(e);
    }
}

/// Remove the directories of `h.created`, deepest first, pushing every failure to `errors` and
/// carrying on. Sub-cgroups the container made inside its own cgroup are removed too when the
/// cgroup directory itself was created by us (the whole subtree is then ours).
/// A parent we created may have gained other containers since (parents
/// are shared, like Docker's `/docker`): a busy parent stays, silently, and
/// whoever empties it last may remove it.
pub(crate) fn remove_created(h: &HierarchyState, errors: &mut Vec<Error>) {
    for dir in h.created.iter().rev() {
        if dir == &h.path {
            remove_subtree(dir, errors);
        } else {
            match rustix::fs::rmdir(dir) {
                Ok(())
                | Err(
                    rustix::io::Errno::BUSY
                    | rustix::io::Errno::NOTEMPTY
                    | rustix::io::Errno::NOENT,
                ) => {}
                Err(e) => errors.push(Error::Rmdir {
                    path: dir.clone(),
                    source: e.into(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::CgroupVersion;

    fn hs(mnt: &Path, path: PathBuf) -> HierarchyState {
        HierarchyState {
            version: CgroupVersion::V1,
            controllers: vec!["x".into()],
            mountpoint: mnt.to_path_buf(),
            path,
            created: vec![],
        }
    }

    #[test]
    fn make_records_only_new_directories_and_remove_deletes_only_them() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("existing")).unwrap();
        let mut h = hs(t.path(), t.path().join("existing/a/b"));
        make(&mut h).unwrap();
        assert_eq!(
            h.created,
            vec![t.path().join("existing/a"), t.path().join("existing/a/b")]
        );
        // Second make: nothing new.
        make(&mut h).unwrap();
        assert_eq!(h.created.len(), 2);
        let mut errors = Vec::new();
        remove_created(&h, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(t.path().join("existing").is_dir());
        assert!(!t.path().join("existing/a").exists());
        // Idempotent.
        remove_created(&h, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn make_fails_when_the_mount_point_is_missing() {
        let t = tempfile::tempdir().unwrap();
        let mnt = t.path().join("nomount");
        let mut h = hs(&mnt, mnt.join("a"));
        let e = make(&mut h).unwrap_err();
        assert!(matches!(e, Error::Mkdir { .. }), "{e}");
        assert!(h.created.is_empty());
    }

    #[test]
    fn remove_reports_the_leaf_and_leaves_a_busy_parent_quietly() {
        let t = tempfile::tempdir().unwrap();
        let mut h = hs(t.path(), t.path().join("a/b"));
        make(&mut h).unwrap();
        // A regular file inside the leaf makes rmdir of a plain directory fail (ENOTEMPTY):
        // reported. The parent we created is then not empty either: another container may
        // live there, so that is not an error, and the parent stays.
        std::fs::write(t.path().join("a/b/file"), "").unwrap();
        let mut errors = Vec::new();
        remove_created(&h, &mut errors);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(t.path().join("a").exists());
        // Once the leaf is gone, the parent goes too.
        std::fs::remove_file(t.path().join("a/b/file")).unwrap();
        let mut errors = Vec::new();
        remove_created(&h, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!t.path().join("a").exists());
    }
}
