//! The snapshot lifecycle both snapshotters share — keys, kinds, parents, the metadata
//! transactions, removal — over a small [`Backend`] that knows how to fill a new snapshot's
//! directory and how to present a snapshot as mounts.
//!
//! Creating a snapshot may take long for the copying snapshotter, so the store lock is not held
//! while the directory is filled: the key and the parent are reserved in memory (a concurrent
//! `prepare` of the same key gets `AlreadyExists`, a concurrent `remove` of the parent gets
//! `HasChildren`), the directory is built as `new-<id>`, and the record is written at the end.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use crate::Mount;
use crate::metadata::{Record, State, Store, check_key};
use crate::snapshotter::{Info, Kind, SnapshotError, Usage};
use crate::usage::disk_usage;

/// What differs between snapshotters.
pub trait Backend: Send + Sync {
    /// Fill `tmp` (an empty `0700` directory that becomes `<root>/snapshots/<id>`) for a new
    /// snapshot of `kind` whose parent's directory is `parent` (closest first: the whole chain).
    fn build(&self, tmp: &Path, kind: Kind, parents: &[&Path]) -> Result<(), SnapshotError>;

    /// The mounts of an active snapshot or view: `dir` is its `fs` directory, `parents` the
    /// `fs` directories of its parent chain, closest first.
    fn mounts(&self, store: &Store, rec: &Record, parents: &[u64]) -> Vec<Mount>;

    /// Make the `fs` directories of these committed snapshots readable (mount their layer
    /// images); called before they are used as parents or lowers.
    fn ready(&self, _store: &Store, _ids: &[u64]) -> Result<(), SnapshotError> {
        Ok(())
    }

    /// Undo [`Backend::ready`] for a snapshot about to be deleted.
    fn release(&self, _store: &Store, _id: u64) -> Result<(), SnapshotError> {
        Ok(())
    }

    /// What a committed snapshot's disk usage is measured on: its `fs` directory, or the
    /// file that holds it.
    fn usage_path(&self, store: &Store, id: u64) -> std::path::PathBuf {
        store.fs_dir(id)
    }

    /// Undo every [`Backend::ready`].
    fn close(&self, _store: &Store) {}

    /// Does this backend take layers as EROFS images (`<id>/layer.erofs`)?
    fn takes_images(&self) -> bool {
        false
    }
}

/// The file a layer image of snapshot directory `dir` is kept in.
pub(crate) fn image_file(dir: &Path) -> std::path::PathBuf {
    dir.join("layer.erofs")
}

struct Inner {
    store: Store,
    /// Keys being created, with their parent.
    creating: HashMap<String, Option<String>>,
}

/// A snapshotter made of the shared lifecycle and a backend.
pub struct Lifecycle<B> {
    inner: Mutex<Inner>,
    backend: B,
}

impl<B> std::fmt::Debug for Lifecycle<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle").finish_non_exhaustive()
    }
}

impl<B: Backend> Lifecycle<B> {
    /// Open the store at `root` with `backend`.
    pub fn open(root: &Path, backend: B) -> Result<Lifecycle<B>, SnapshotError> {
        Ok(Lifecycle {
            inner: Mutex::new(Inner {
                store: Store::open(root)?,
                creating: HashMap::new(),
            }),
            backend,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the state half-changed: every change is
        // one `Store::save`, which swaps the state only after the file is in place.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The root directory of the store.
    pub fn root(&self) -> std::path::PathBuf {
        self.lock().store.root().to_path_buf()
    }

    fn create(
        &self,
        kind: Kind,
        key: &str,
        parent: Option<&str>,
    ) -> Result<Vec<Mount>, SnapshotError> {
        // Reserve the key and an id, and find the parent chain.
        let (id, tmp, parent_dirs) = {
            let mut g = self.lock();
            if g.creating.contains_key(key) {
                return Err(SnapshotError::AlreadyExists {
                    key: key.to_string(),
                });
            }
            g.store.check_create(key, parent)?;
            let mut chain = Vec::new();
            if let Some(p) = parent {
                let r = g.store.state.get(p)?;
                chain.push(r.id);
                chain.extend(g.store.state.parent_ids(r));
            }
            self.backend.ready(&g.store, &chain)?;
            let id = g.store.state.next_id;
            g.store.state.next_id += 1;
            let tmp = g.store.new_tmp_dir(id)?;
            let dirs: Vec<_> = chain.iter().map(|&i| g.store.fs_dir(i)).collect();
            g.creating
                .insert(key.to_string(), parent.map(str::to_string));
            (id, tmp, dirs)
        };
        let parent_refs: Vec<&Path> = parent_dirs.iter().map(|p| p.as_path()).collect();
        let built = self.backend.build(&tmp, kind, &parent_refs);

        let mut g = self.lock();
        g.creating.remove(key);
        let result = built.and_then(|()| {
            // Check again: nothing held the lock while the directory was built.
            g.store.check_create(key, parent)?;
            g.store.install_dir(&tmp, id)?;
            let mut next = g.store.state.clone();
            let rec = Store::new_record(id, kind, parent);
            next.snapshots.insert(key.to_string(), rec.clone());
            if let Err(e) = g.store.save(next) {
                let _ = g.store.delete_dir(id);
                return Err(e);
            }
            let parents = g.store.state.parent_ids(&rec);
            Ok(self.backend.mounts(&g.store, &rec, &parents))
        });
        if result.is_err() {
            let _ = crate::remove_tree::remove_all(&tmp);
        }
        result
    }

    /// [`Snapshotter::prepare`](crate::Snapshotter::prepare).
    pub fn prepare(&self, key: &str, parent: Option<&str>) -> Result<Vec<Mount>, SnapshotError> {
        self.create(Kind::Active, key, parent)
    }

    /// [`Snapshotter::view`](crate::Snapshotter::view).
    pub fn view(&self, key: &str, parent: Option<&str>) -> Result<Vec<Mount>, SnapshotError> {
        self.create(Kind::View, key, parent)
    }

    /// [`Snapshotter::stat`](crate::Snapshotter::stat).
    pub fn stat(&self, key: &str) -> Result<Info, SnapshotError> {
        let g = self.lock();
        Ok(State::info(key, g.store.state.get(key)?))
    }

    /// [`Snapshotter::mounts`](crate::Snapshotter::mounts).
    pub fn mounts(&self, key: &str) -> Result<Vec<Mount>, SnapshotError> {
        let g = self.lock();
        let rec = g.store.state.get(key)?;
        if rec.kind == Kind::Committed {
            return Err(SnapshotError::WrongKind {
                key: key.to_string(),
                kind: rec.kind,
                operation: "mounts",
                needs: "an active snapshot or a view",
            });
        }
        let parents = g.store.state.parent_ids(rec);
        self.backend.ready(&g.store, &parents)?;
        Ok(self.backend.mounts(&g.store, rec, &parents))
    }

    /// [`Snapshotter::layer_image`](crate::Snapshotter::layer_image).
    pub fn layer_image(&self, key: &str) -> Result<Option<std::path::PathBuf>, SnapshotError> {
        let g = self.lock();
        let rec = g.store.state.get(key)?;
        if !self.backend.takes_images() {
            return Ok(None);
        }
        if rec.kind != Kind::Active {
            return Err(SnapshotError::WrongKind {
                key: key.to_string(),
                kind: rec.kind,
                operation: "layer_image",
                needs: "an active snapshot",
            });
        }
        Ok(Some(image_file(&g.store.dir(rec.id))))
    }

    /// [`Snapshotter::close`](crate::Snapshotter::close).
    pub fn close(&self) {
        let g = self.lock();
        self.backend.close(&g.store);
    }

    /// [`Snapshotter::commit`](crate::Snapshotter::commit).
    pub fn commit(&self, name: &str, key: &str) -> Result<(), SnapshotError> {
        check_key(name)?;
        let mut g = self.lock();
        let rec = g.store.state.get(key)?.clone();
        if rec.kind != Kind::Active {
            return Err(SnapshotError::WrongKind {
                key: key.to_string(),
                kind: rec.kind,
                operation: "commit",
                needs: "an active snapshot",
            });
        }
        if g.store.state.snapshots.contains_key(name) || g.creating.contains_key(name) {
            return Err(SnapshotError::AlreadyExists {
                key: name.to_string(),
            });
        }
        let dir = self.backend.usage_path(&g.store, rec.id);
        let usage =
            disk_usage(&dir).map_err(|source| SnapshotError::Usage { path: dir, source })?;
        let mut next = g.store.state.clone();
        next.snapshots.remove(key);
        next.snapshots.insert(
            name.to_string(),
            Record {
                kind: Kind::Committed,
                updated: SystemTime::now(),
                size: Some(usage.size),
                inodes: Some(usage.inodes),
                ..rec
            },
        );
        g.store.save(next)
    }

    /// [`Snapshotter::remove`](crate::Snapshotter::remove).
    pub fn remove(&self, key: &str) -> Result<(), SnapshotError> {
        let mut g = self.lock();
        let rec = g.store.state.get(key)?.clone();
        let mut children = g.store.state.children(key);
        children.extend(
            g.creating
                .iter()
                .filter(|(_, p)| p.as_deref() == Some(key))
                .map(|(k, _)| k.clone()),
        );
        if !children.is_empty() {
            return Err(SnapshotError::HasChildren {
                key: key.to_string(),
                children,
            });
        }
        self.backend.release(&g.store, rec.id)?;
        let mut next = g.store.state.clone();
        next.snapshots.remove(key);
        g.store.save(next)?;
        g.store.delete_dir(rec.id)
    }

    /// [`Snapshotter::walk`](crate::Snapshotter::walk).
    pub fn walk(&self) -> Result<Vec<Info>, SnapshotError> {
        let g = self.lock();
        Ok(g.store
            .state
            .snapshots
            .iter()
            .map(|(k, r)| State::info(k, r))
            .collect())
    }

    /// [`Snapshotter::usage`](crate::Snapshotter::usage).
    pub fn usage(&self, key: &str) -> Result<Usage, SnapshotError> {
        let dir = {
            let g = self.lock();
            let rec = g.store.state.get(key)?;
            if let (Some(size), Some(inodes)) = (rec.size, rec.inodes) {
                return Ok(Usage { size, inodes });
            }
            self.backend.usage_path(&g.store, rec.id)
        };
        disk_usage(&dir).map_err(|source| SnapshotError::Usage { path: dir, source })
    }
}

/// Forward the [`Snapshotter`](crate::Snapshotter) methods of a newtype to its `Lifecycle`.
macro_rules! forward_snapshotter {
    ($ty:ty) => {
        impl $crate::Snapshotter for $ty {
            fn stat(&self, key: &str) -> Result<$crate::Info, $crate::SnapshotError> {
                self.inner.stat(key)
            }
            fn usage(&self, key: &str) -> Result<$crate::Usage, $crate::SnapshotError> {
                self.inner.usage(key)
            }
            fn mounts(&self, key: &str) -> Result<Vec<$crate::Mount>, $crate::SnapshotError> {
                self.inner.mounts(key)
            }
            fn prepare(
                &self,
                key: &str,
                parent: Option<&str>,
            ) -> Result<Vec<$crate::Mount>, $crate::SnapshotError> {
                self.inner.prepare(key, parent)
            }
            fn view(
                &self,
                key: &str,
                parent: Option<&str>,
            ) -> Result<Vec<$crate::Mount>, $crate::SnapshotError> {
                self.inner.view(key, parent)
            }
            fn commit(&self, name: &str, key: &str) -> Result<(), $crate::SnapshotError> {
                self.inner.commit(name, key)
            }
            fn remove(&self, key: &str) -> Result<(), $crate::SnapshotError> {
                self.inner.remove(key)
            }
            fn walk(&self) -> Result<Vec<$crate::Info>, $crate::SnapshotError> {
                self.inner.walk()
            }
            fn layer_image(
                &self,
                key: &str,
            ) -> Result<Option<std::path::PathBuf>, $crate::SnapshotError> {
                self.inner.layer_image(key)
            }
            fn close(&self) {
                self.inner.close()
            }
        }
    };
}
pub(crate) use forward_snapshotter;
