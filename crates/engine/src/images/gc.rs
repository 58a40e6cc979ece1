//! Garbage collection of image data: the layers (committed snapshots) and
//! blobs that no image uses any more, and what a crash left half made.
//!
//! What is alive: every blob an image record lists; every layer on the
//! chain below an image's top layer; and whatever an operation in flight
//! has leased (a pull's blobs and layers before its image is recorded).
//! Collection holds the lease table for its whole run, so an operation can
//! neither take a lease on something being removed nor see it half gone.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{Mutex, MutexGuard};

use berth_image::Digest;
use berth_image::content::Manager;
use berth_snapshot::Kind as SnapshotKind;

use super::ImageError;
use super::store;
use crate::Engine;

/// Prefix of the active snapshots layers are unpacked into before their
/// commit; one left behind is a crash's leftover.
pub const EXTRACT_PREFIX: &str = "extract-";

/// A lease on this name protects every blob: for operations (load,
/// import) that write blobs before they know which.
pub const ALL_BLOBS: &str = "*";

/// Names (blob digests, snapshot keys) that operations in flight need.
#[derive(Debug, Default)]
pub struct Leases {
    held: Mutex<HashMap<String, usize>>,
}

/// Releases its names when dropped.
#[derive(Debug)]
pub struct Lease<'a> {
    leases: &'a Leases,
    names: Vec<String>,
}

impl Leases {
    fn table(&self) -> MutexGuard<'_, HashMap<String, usize>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Protects `names` from collection until the lease is dropped.
    pub fn lease(&self, names: impl IntoIterator<Item = String>) -> Lease<'_> {
        let names: Vec<String> = names.into_iter().collect();
        let mut table = self.table();
        for n in &names {
            *table.entry(n.clone()).or_default() += 1;
        }
        Lease {
            leases: self,
            names,
        }
    }
}

impl Lease<'_> {
    /// Adds names to this lease.
    pub fn add(&mut self, name: String) {
        *self.leases.table().entry(name.clone()).or_default() += 1;
        self.names.push(name);
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut table = self.leases.table();
        for n in &self.names {
            if let Some(count) = table.get_mut(n) {
                *count -= 1;
                if *count == 0 {
                    table.remove(n);
                }
            }
        }
    }
}

/// What a collection removed.
#[derive(Debug, Default)]
pub struct GcReport {
    /// Chain ids of the layers removed, top first.
    pub removed_layers: Vec<String>,
    pub removed_blobs: usize,
}

impl Engine {
    /// Removes every layer and blob nothing uses.
    pub fn collect_garbage(&self) -> Result<GcReport, ImageError> {
        let leased = self.leases.table();
        let mut report = GcReport::default();

        // Layers: keep the chains under every image's top layer.
        let (tops, layers) = {
            let conn = self.db.conn();
            (store::top_layers(&conn)?, store::all_layers(&conn)?)
        };
        let parent_of: HashMap<String, Option<String>> = layers.iter().cloned().collect();
        let mut keep: HashSet<String> = HashSet::new();
        let mut roots: Vec<String> = tops;
        roots.extend(leased.keys().cloned());
        roots.extend(self.snapshot_parents_in_use()?);
        for top in roots {
            let mut next = Some(top);
            while let Some(id) = next {
                if !keep.insert(id.clone()) {
                    break;
                }
                next = parent_of.get(&id).cloned().flatten();
            }
        }
        // Remove top-down: a layer goes once no remaining layer sits on it.
        let mut doomed: Vec<String> = layers
            .iter()
            .map(|(id, _)| id.clone())
            .filter(|id| !keep.contains(id))
            .collect();
        while !doomed.is_empty() {
            let parents: HashSet<String> = doomed
                .iter()
                .filter_map(|id| parent_of.get(id).cloned().flatten())
                .collect();
            let (leaves, rest): (Vec<String>, Vec<String>) =
                doomed.into_iter().partition(|id| !parents.contains(id));
            if leaves.is_empty() {
                break;
            }
            for id in leaves {
                match self.snapshotter.remove(&id) {
                    Ok(()) => {}
                    Err(e) if e.category() == berth_snapshot::Category::NotFound => {}
                    Err(e) => {
                        tracing::warn!("removing layer {id}: {e}");
                        continue;
                    }
                }
                store::remove_layer(&self.db.conn(), &id)?;
                report.removed_layers.push(id);
            }
            doomed = rest;
        }

        // Blobs: keep what images list and what is leased.
        if leased.contains_key(ALL_BLOBS) {
            drop(leased);
            return Ok(report);
        }
        let referenced = store::referenced_blobs(&self.db.conn())?;
        let mut unused: Vec<Digest> = Vec::new();
        self.content.walk(&mut |info| {
            let name = info.digest.to_string();
            if !referenced.contains(&name) && !leased.contains_key(&name) {
                unused.push(info.digest);
            }
            ControlFlow::Continue(())
        })?;
        for digest in unused {
            match self.content.delete(&digest) {
                Ok(()) => report.removed_blobs += 1,
                Err(e) => tracing::warn!("removing blob {digest}: {e}"),
            }
        }
        drop(leased);
        Ok(report)
    }

    /// At start: active snapshots a crash left mid-unpack, snapshots the
    /// database does not know, then the usual collection.
    pub(crate) fn recover_images(&self) -> Result<(), ImageError> {
        let known: HashSet<String> = store::all_layers(&self.db.conn())?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let snapshots = self.snapshotter.walk().map_err(ImageError::Snapshot)?;
        // Children first, so that parents are free when their turn comes.
        let mut ordered: Vec<(usize, &berth_snapshot::Info)> = snapshots
            .iter()
            .map(|s| (depth(&snapshots, &s.name), s))
            .collect();
        ordered.sort_by_key(|(d, _)| std::cmp::Reverse(*d));
        for (_, s) in ordered {
            let stale = match s.kind {
                SnapshotKind::Active | SnapshotKind::View => s.name.starts_with(EXTRACT_PREFIX),
                SnapshotKind::Committed => {
                    !known.contains(&s.name) && !self.snapshot_in_use(&s.name)
                }
            };
            if stale {
                tracing::info!("removing leftover snapshot {}", s.name);
                if let Err(e) = self.snapshotter.remove(&s.name) {
                    tracing::warn!("removing leftover snapshot {}: {e}", s.name);
                }
            }
        }
        self.collect_garbage()?;
        Ok(())
    }

    /// Parents of snapshots that are not layers (containers' writable
    /// layers, later), which keep their chains alive.
    fn snapshot_parents_in_use(&self) -> Result<Vec<String>, ImageError> {
        Ok(self
            .snapshotter
            .walk()
            .map_err(ImageError::Snapshot)?
            .into_iter()
            .filter(|s| s.kind != SnapshotKind::Committed)
            .filter_map(|s| s.parent)
            .collect())
    }

    fn snapshot_in_use(&self, name: &str) -> bool {
        self.snapshotter
            .walk()
            .is_ok_and(|all| all.iter().any(|s| s.parent.as_deref() == Some(name)))
    }

    /// Bytes held by layers and blobs (for `SpaceReclaimed`).
    pub(crate) fn disk_bytes(&self) -> u64 {
        let layers: u64 = self
            .db
            .conn()
            .query_row("SELECT coalesce(sum(size), 0) FROM layers", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_or(0, |n| n as u64);
        let mut blobs = 0u64;
        let _ = self.content.walk(&mut |info| {
            blobs += info.size;
            ControlFlow::Continue(())
        });
        layers + blobs
    }
}

fn depth(all: &[berth_snapshot::Info], name: &str) -> usize {
    let mut d = 0;
    let mut current = all.iter().find(|s| s.name == name);
    while let Some(s) = current {
        d += 1;
        if d > all.len() {
            break;
        }
        current = s
            .parent
            .as_ref()
            .and_then(|p| all.iter().find(|x| &x.name == p));
    }
    d
}
