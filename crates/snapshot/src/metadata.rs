//! The on-disk state shared by both snapshotters: one JSON file of records, replaced
//! atomically, plus one directory per snapshot named by a short number.
//!
//! ```text
//! <root>/
//!   lock                 flock(LOCK_EX) held while a snapshotter has the store open
//!   metadata.json        {"version":1,"next_id":N,"snapshots":{"<key>":{id,kind,parent,…}}}
//!   metadata.json.tmp    a write in progress (ignored and removed at open)
//!   snapshots/           0700: nobody else may reach setuid files of a layer
//!     <id>/fs            the snapshot's directory (overlay: layer or upper; native: full tree)
//!     <id>/work          overlay workdir (active overlay snapshots only)
//!     new-<id>/          a snapshot being created (not in the metadata yet)
//!     rm-<id>/           a snapshot being removed (no longer in the metadata)
//! ```
//!
//! Why a JSON file and not SQLite: the state is a few hundred small records, every change is a
//! whole-file replace (write temp, fsync, rename, fsync the directory), and readers need no
//! locking. A `kill -9` at any point leaves either the old or the new file.
//!
//! Crash safety comes from the order of steps:
//! - create: build `new-<id>`, rename it to `<id>`, *then* write the record. A crash before
//!   the record leaves a directory no record names;
//! - remove: write the metadata without the record, *then* rename `<id>` to `rm-<id>` and
//!   delete it;
//! - commit: only the metadata changes (same id, same directory).
//!
//! At open every directory under `snapshots/` that no record names is deleted, so no crash
//! leaks data or leaves a record without its directory.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustix::fs::FlockOperation;

use crate::remove_tree::remove_all;
use crate::snapshotter::{Info, Kind, SnapshotError};

const FILE: &str = "metadata.json";
const TMP: &str = "metadata.json.tmp";

/// One snapshot.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// The number naming its directory.
    pub id: u64,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub created: SystemTime,
    pub updated: SystemTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inodes: Option<u64>,
}

/// Everything in `metadata.json`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct State {
    pub version: u32,
    pub next_id: u64,
    pub snapshots: BTreeMap<String, Record>,
}

impl State {
    /// The record of `key`.
    pub fn get(&self, key: &str) -> Result<&Record, SnapshotError> {
        self.snapshots
            .get(key)
            .ok_or_else(|| SnapshotError::NotFound {
                key: key.to_string(),
            })
    }

    /// Ids of the parent chain of `rec`, closest first.
    pub fn parent_ids(&self, rec: &Record) -> Vec<u64> {
        let mut out = Vec::new();
        let mut next = rec.parent.as_deref();
        while let Some(p) = next {
            let Some(r) = self.snapshots.get(p) else {
                break;
            };
            out.push(r.id);
            next = r.parent.as_deref();
            if out.len() > self.snapshots.len() {
                break; // a cycle could only come from a hand-edited file
            }
        }
        out
    }

    /// Names of the snapshots whose parent is `key`.
    pub fn children(&self, key: &str) -> Vec<String> {
        self.snapshots
            .iter()
            .filter(|(_, r)| r.parent.as_deref() == Some(key))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The public view of a record.
    pub fn info(name: &str, r: &Record) -> Info {
        Info {
            name: name.to_string(),
            kind: r.kind,
            parent: r.parent.clone(),
            created: r.created,
            updated: r.updated,
            size: r.size,
        }
    }
}

/// The store: the lock, the current state and the paths.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    _lock: File,
    pub state: State,
}

/// Check a key or name.
pub fn check_key(key: &str) -> Result<(), SnapshotError> {
    let reason = if key.is_empty() {
        "it is empty"
    } else if key.contains('\0') {
        "it contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(SnapshotError::InvalidKey {
        key: key.to_string(),
        reason,
    })
}

impl Store {
    /// Open (creating if needed) the store at `root`, take its lock, load the state and delete
    /// leftovers of interrupted operations.
    pub fn open(root: &Path) -> Result<Store, SnapshotError> {
        let open_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SnapshotError::Open { path, source }
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(root)
            .map_err(open_err(root))?;
        let snaps = root.join("snapshots");
        match fs::DirBuilder::new().mode(0o700).create(&snaps) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(open_err(&snaps)(e)),
        }
        let lock_path = root.join("lock");
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&lock_path)
            .map_err(open_err(&lock_path))?;
        match rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(SnapshotError::Locked {
                    root: root.to_path_buf(),
                });
            }
            Err(e) => return Err(open_err(&lock_path)(e.into())),
        }
        let file = root.join(FILE);
        let mut state = match fs::read(&file) {
            Ok(bytes) => serde_json::from_slice::<State>(&bytes).map_err(|source| {
                SnapshotError::ParseMetadata {
                    path: file.clone(),
                    source,
                }
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => State {
                version: 1,
                next_id: 1,
                snapshots: BTreeMap::new(),
            },
            Err(source) => return Err(SnapshotError::ReadMetadata { path: file, source }),
        };
        let _ = fs::remove_file(root.join(TMP));
        // Never hand out an id that a record already uses.
        let max = state.snapshots.values().map(|r| r.id).max().unwrap_or(0);
        state.next_id = state.next_id.max(max + 1);
        let store = Store {
            root: root.to_path_buf(),
            _lock: lock,
            state,
        };
        store.cleanup()?;
        Ok(store)
    }

    /// The root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/snapshots`.
    pub fn snapshots_dir(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    /// `<root>/snapshots/<id>`.
    pub fn dir(&self, id: u64) -> PathBuf {
        self.snapshots_dir().join(id.to_string())
    }

    /// `<root>/snapshots/<id>/fs`.
    pub fn fs_dir(&self, id: u64) -> PathBuf {
        self.dir(id).join("fs")
    }

    /// Delete every directory under `snapshots/` that no record names.
    fn cleanup(&self) -> Result<(), SnapshotError> {
        let dir = self.snapshots_dir();
        let known: std::collections::HashSet<String> = self
            .state
            .snapshots
            .values()
            .map(|r| r.id.to_string())
            .collect();
        let entries = fs::read_dir(&dir).map_err(|source| SnapshotError::Open {
            path: dir.clone(),
            source,
        })?;
        for e in entries {
            let e = e.map_err(|source| SnapshotError::Open {
                path: dir.clone(),
                source,
            })?;
            let name = e.file_name();
            if known.contains(name.to_string_lossy().as_ref()) {
                continue;
            }
            let path = e.path();
            remove_all(&path).map_err(|source| SnapshotError::RemoveDir { path, source })?;
        }
        Ok(())
    }

    /// Replace the state with `next`: temp file, fsync, rename, fsync of the root. On error the
    /// old state stays in force (on disk and in memory).
    pub fn save(&mut self, next: State) -> Result<(), SnapshotError> {
        let file = self.root.join(FILE);
        let tmp = self.root.join(TMP);
        let err = |source| SnapshotError::WriteMetadata {
            path: file.clone(),
            source,
        };
        let bytes = serde_json::to_vec(&next).map_err(|e| err(io::Error::other(e)))?;
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(err)?;
        f.write_all(&bytes).map_err(err)?;
        f.sync_all().map_err(err)?;
        drop(f);
        fs::rename(&tmp, &file).map_err(err)?;
        sync_dir(&self.root).map_err(err)?;
        self.state = next;
        Ok(())
    }

    /// A fresh, empty `snapshots/new-<id>` for building a snapshot.
    pub fn new_tmp_dir(&self, id: u64) -> Result<PathBuf, SnapshotError> {
        let tmp = self.snapshots_dir().join(format!("new-{id}"));
        let err = |source| SnapshotError::CreateDir {
            path: tmp.clone(),
            source,
        };
        remove_all(&tmp).map_err(err)?;
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .map_err(err)?;
        Ok(tmp)
    }

    /// Move a built `new-<id>` into place as `<id>` (made durable before the record is).
    pub fn install_dir(&self, tmp: &Path, id: u64) -> Result<(), SnapshotError> {
        let dest = self.dir(id);
        let err = |source| SnapshotError::CreateDir {
            path: dest.clone(),
            source,
        };
        fs::rename(tmp, &dest).map_err(err)?;
        sync_dir(&self.snapshots_dir()).map_err(err)
    }

    /// Delete the directory of a snapshot whose record is gone.
    pub fn delete_dir(&self, id: u64) -> Result<(), SnapshotError> {
        let dir = self.dir(id);
        let doomed = self.snapshots_dir().join(format!("rm-{id}"));
        let target = match fs::rename(&dir, &doomed) {
            Ok(()) => doomed,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(_) => dir,
        };
        remove_all(&target)
            .map(|_| ())
            .map_err(|source| SnapshotError::RemoveDir {
                path: target,
                source,
            })
    }

    /// A record for a new snapshot.
    pub fn new_record(id: u64, kind: Kind, parent: Option<&str>) -> Record {
        let now = SystemTime::now();
        Record {
            id,
            kind,
            parent: parent.map(str::to_string),
            created: now,
            updated: now,
            size: None,
            inodes: None,
        }
    }

    /// The checks every create does: a valid, unused key and a committed parent.
    pub fn check_create(&self, key: &str, parent: Option<&str>) -> Result<(), SnapshotError> {
        check_key(key)?;
        if self.state.snapshots.contains_key(key) {
            return Err(SnapshotError::AlreadyExists {
                key: key.to_string(),
            });
        }
        if let Some(p) = parent {
            let r = self.state.get(p)?;
            if r.kind != Kind::Committed {
                return Err(SnapshotError::ParentNotCommitted {
                    parent: p.to_string(),
                    kind: r.kind,
                });
            }
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
