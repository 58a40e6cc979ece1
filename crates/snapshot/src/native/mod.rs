//! The copying snapshotter, for filesystems where overlayfs is not available: every active
//! snapshot is a full copy of its parent's tree (reflinked where the filesystem can, copied in
//! the kernel otherwise), a committed snapshot keeps that tree, and a view is a read-only bind
//! mount of its parent (no copy).
//!
//! Layout: `<data-root>/snapshots/native/snapshots/<id>/fs` is the whole root filesystem (the
//! store files `lock` and `metadata.json` are described in `src/metadata.rs`). Layers are applied into it in
//! [`ApplyMode::Rootfs`](crate::ApplyMode) (whiteouts delete), and
//! [`DiffSource::Trees`](crate::DiffSource) compares two of them.

mod copy_tree;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::Mount;
use crate::lifecycle::{Backend, Lifecycle, forward_snapshotter};
use crate::metadata::{Record, Store};
use crate::snapshotter::{Kind, SnapshotError};

/// Snapshots as full copies.
#[derive(Debug)]
pub struct NativeSnapshotter {
    inner: Lifecycle<NativeBackend>,
}

#[derive(Debug)]
struct NativeBackend;

forward_snapshotter!(NativeSnapshotter);

impl NativeSnapshotter {
    /// Open (or create) the store at `root` (conventionally `<data-root>/snapshots/native`).
    pub fn open(root: &Path) -> Result<NativeSnapshotter, SnapshotError> {
        let root = std::path::absolute(root).map_err(|e| SnapshotError::InvalidRoot {
            root: root.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(NativeSnapshotter {
            inner: Lifecycle::open(&root, NativeBackend)?,
        })
    }

    /// The store's root directory.
    pub fn root(&self) -> PathBuf {
        self.inner.root()
    }
}

impl Backend for NativeBackend {
    fn build(&self, tmp: &Path, kind: Kind, parents: &[&Path]) -> Result<(), SnapshotError> {
        let fs_dir = tmp.join("fs");
        fs::DirBuilder::new()
            .mode(0o755)
            .create(&fs_dir)
            .map_err(|source| SnapshotError::CreateDir {
                path: fs_dir.clone(),
                source,
            })?;
        if let (Kind::Active, Some(parent)) = (kind, parents.first()) {
            copy_tree::copy_tree(parent, &fs_dir).map_err(|f| {
                let rel = Path::new(std::ffi::OsStr::from_bytes(&f.rel));
                SnapshotError::Copy {
                    from: parent.join(rel),
                    to: fs_dir.join(rel),
                    source: f.source,
                }
            })?;
        }
        Ok(())
    }

    fn mounts(&self, store: &Store, rec: &Record, parents: &[u64]) -> Vec<Mount> {
        let (source, ro) = match (rec.kind, parents.first()) {
            (Kind::View, Some(&parent)) => (store.fs_dir(parent), "ro"),
            (Kind::View, None) => (store.fs_dir(rec.id), "ro"),
            _ => (store.fs_dir(rec.id), "rw"),
        };
        vec![Mount {
            kind: "bind".into(),
            source: source.display().to_string(),
            target: None,
            options: vec![ro.into(), "rbind".into()],
        }]
    }
}
