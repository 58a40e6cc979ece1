//! The change list of an overlay upper directory (`docker diff`), as Docker's overlay driver
//! computes it (moby `archive.OverlayChanges`): walking the upper directory depth first, each
//! directory's entries in byte order,
//!
//! - an overlay whiteout (a 0:0 character device) is a deletion of its path;
//! - an opaque directory that exists in a lower layer is a deletion (its old content is gone);
//! - anything else is an addition, or a modification when a lower layer has the path — except
//!   a directory whose size, mode and modification time equal the lower one's (it is only there
//!   as the parent of a change);
//! - the parent of an addition or deletion is reported modified before it, once.

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::DiffError;

/// What happened to a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Docker's `0`.
    Modified,
    /// Docker's `1`.
    Added,
    /// Docker's `2`.
    Deleted,
}

/// One change: an absolute path in the container and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `/dir/file`.
    pub path: String,
    /// What happened to it.
    pub kind: ChangeKind,
}

/// The changes in the overlay upper directory `upper` over the layer directories `lowers`
/// (uppermost first; what a path "exists in a lower layer" is checked against).
pub fn overlay_changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>, DiffError> {
    let mut out = Changes {
        lowers,
        list: Vec::new(),
        changed_dirs: HashSet::new(),
    };
    out.dir(upper, "")?;
    Ok(out.list)
}

struct Changes<'a> {
    lowers: &'a [PathBuf],
    list: Vec<Change>,
    changed_dirs: HashSet<String>,
}

impl Changes<'_> {
    /// The lower layers' entry for `rel` (`a/b`), following links as Docker's `os.Stat` does.
    fn in_lower(&self, rel: &str) -> Option<std::fs::Metadata> {
        self.lowers
            .iter()
            .find_map(|l| std::fs::metadata(l.join(rel)).ok())
    }

    fn dir(&mut self, dir: &Path, rel_dir: &str) -> Result<(), DiffError> {
        let err = |source| DiffError::ReadDir {
            path: dir.to_path_buf(),
            source,
        };
        let mut names = Vec::new();
        for e in std::fs::read_dir(dir).map_err(err)? {
            names.push(e.map_err(err)?.file_name());
        }
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let full = dir.join(&name);
            let rel = if rel_dir.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{rel_dir}/{}", name.to_string_lossy())
            };
            let md = std::fs::symlink_metadata(&full).map_err(|source| DiffError::Stat {
                path: full.clone(),
                source,
            })?;
            let path = format!("/{rel}");
            let whiteout = md.file_type().is_char_device() && md.rdev() == 0;
            let opaque = md.is_dir()
                && ["trusted.overlay.opaque", "user.overlay.opaque"]
                    .iter()
                    .any(|x| {
                        crate::xattr::get_path(&full, x.as_bytes())
                            .ok()
                            .flatten()
                            .is_some_and(|v| v == b"y")
                    });
            let lower = self.in_lower(&rel);
            let kind = if whiteout || (opaque && lower.is_some()) {
                Some(ChangeKind::Deleted)
            } else {
                match &lower {
                    None => Some(ChangeKind::Added),
                    Some(l)
                        if l.is_dir()
                            && md.is_dir()
                            && l.size() == md.size()
                            && l.mode() == md.mode()
                            && l.mtime() == md.mtime()
                            && l.mtime_nsec() == md.mtime_nsec() =>
                    {
                        None
                    }
                    Some(_) => Some(ChangeKind::Modified),
                }
            };
            if md.is_dir() {
                self.changed_dirs.insert(path.clone());
            }
            if let Some(kind) = kind {
                if matches!(kind, ChangeKind::Added | ChangeKind::Deleted) && !rel_dir.is_empty() {
                    let parent = format!("/{rel_dir}");
                    if self.changed_dirs.insert(parent.clone()) {
                        self.list.push(Change {
                            path: parent,
                            kind: ChangeKind::Modified,
                        });
                    }
                }
                self.list.push(Change { path, kind });
            }
            if md.is_dir() && !whiteout {
                self.dir(&full, &rel)?;
            }
        }
        Ok(())
    }
}
