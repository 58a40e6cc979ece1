//! The snapshotter contract (containerd's `core/snapshots`), shared by
//! [`OverlaySnapshotter`](crate::OverlaySnapshotter) and
//! [`NativeSnapshotter`](crate::NativeSnapshotter).

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::{Category, Mount};

/// The kind of a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A read-only view of a committed snapshot, made by [`Snapshotter::view`].
    View,
    /// A writable snapshot, made by [`Snapshotter::prepare`]; can be committed.
    Active,
    /// An immutable snapshot, made by [`Snapshotter::commit`]; can be a parent.
    Committed,
}

/// What [`Snapshotter::stat`] and [`Snapshotter::walk`] report about a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    /// The key (active, view) or name (committed).
    pub name: String,
    /// The kind.
    pub kind: Kind,
    /// The parent's name, `None` for a snapshot based on the empty directory.
    pub parent: Option<String>,
    /// When the snapshot was created (for a committed one: when its active snapshot was).
    pub created: SystemTime,
    /// When it last changed kind (commit) — equal to `created` otherwise.
    pub updated: SystemTime,
    /// Committed snapshots: the disk usage of its own changes, measured at commit.
    pub size: Option<u64>,
}

/// Disk usage of a snapshot's own changes (excluding its parents).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of allocated disk blocks (`du`), each inode counted once.
    pub size: u64,
    /// Number of inodes.
    pub inodes: u64,
}

/// A snapshotter: it allocates, stacks and hands out (as [`Mount`]s) filesystem snapshots.
///
/// # Terms
///
/// - `key` names an active snapshot or a view; `name` names a committed snapshot; `parent` is
///   the name of a committed snapshot. They all share one namespace: a key may not be used for
///   two snapshots at once, whatever their kinds.
/// - A snapshot with a parent starts with the parent's content; without one it starts empty.
///
/// # Lifecycle
///
/// - [`prepare`](Snapshotter::prepare) makes an **active** snapshot and returns the mounts
///   that present it (writable). Changes made through them are captured.
/// - [`view`](Snapshotter::view) makes a **view**: like `prepare`, but read-only and never
///   committable.
/// - [`commit`](Snapshotter::commit) turns an active snapshot into a **committed** one under
///   a new name; the key is gone afterwards. Committed snapshots are immutable and are the
///   only ones that can be parents.
/// - [`remove`](Snapshotter::remove) removes any snapshot that is not a parent of another
///   (remove the children first: the error is [`SnapshotError::HasChildren`]).
/// - [`mounts`](Snapshotter::mounts) returns the mounts of an active snapshot or view again.
///
/// A snapshotter never mounts anything: the caller performs the returned [`Mount`]s (with
/// [`mount_all`](crate::mount_all), or by giving them to a runtime) and unmounts them before
/// [`commit`](Snapshotter::commit) or [`remove`](Snapshotter::remove).
///
/// Every method is atomic and crash-safe: after a `kill -9` at any point, opening the
/// snapshotter again finds each snapshot either fully there or not at all, and removes leftover
/// directories.
///
/// # Example: importing a layer
///
/// ```no_run
/// # use berth_snapshot::{ApplyTarget, Snapshotter};
/// # fn f(sn: &dyn Snapshotter, layer: &[u8], parent: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
/// let key = "extract-1 sha256:aaa";                       // unique while unpacking
/// let mounts = sn.prepare(key, parent)?;                  // empty, or the parent's content
/// let target = ApplyTarget::from_mounts(&mounts).ok_or("not writable")?;
/// match target.apply(layer) {                             // no mount needed to unpack
///     Ok(_) => sn.commit("sha256:chain-id", key)?,        // now usable as a parent
///     Err(e) => { sn.remove(key)?; return Err(e.into()) } // nothing stays behind
/// }
/// # Ok(()) }
/// ```
///
/// The next layer does the same with `parent = Some("sha256:chain-id")`.
///
/// # Example: running a container
///
/// ```no_run
/// # use berth_snapshot::{Snapshotter, mount_all, unmount};
/// # fn f(sn: &dyn Snapshotter) -> Result<(), Box<dyn std::error::Error>> {
/// let mounts = sn.prepare("container-4f2a", Some("sha256:top-layer-chain-id"))?;
/// let rootfs = std::path::Path::new("/run/berth/containers/4f2a/rootfs");
/// mount_all(&mounts, rootfs)?;                  // overlay: image layers + writable upper
/// // ... the runtime runs the container on `rootfs` ...
/// unmount(rootfs)?;
/// // `docker commit`: sn.commit("new-image-layer", "container-4f2a")
/// sn.remove("container-4f2a")?;                 // `--rm`: the changes are dropped
/// # Ok(()) }
/// ```
pub trait Snapshotter: Send + Sync + std::fmt::Debug {
    /// Information about the snapshot `key` (any kind).
    fn stat(&self, key: &str) -> Result<Info, SnapshotError>;

    /// Disk usage of the snapshot's own changes. For an active snapshot this walks its
    /// directory (time proportional to its size); committed snapshots report the figure
    /// measured at commit.
    fn usage(&self, key: &str) -> Result<Usage, SnapshotError>;

    /// The mounts of an active snapshot or view.
    fn mounts(&self, key: &str) -> Result<Vec<Mount>, SnapshotError>;

    /// Create the active snapshot `key` on `parent` (a committed snapshot) and return its
    /// writable mounts.
    fn prepare(&self, key: &str, parent: Option<&str>) -> Result<Vec<Mount>, SnapshotError>;

    /// Create the read-only view `key` of `parent` and return its mounts.
    fn view(&self, key: &str, parent: Option<&str>) -> Result<Vec<Mount>, SnapshotError>;

    /// Commit the active snapshot `key` as `name`; `key` no longer exists afterwards.
    fn commit(&self, name: &str, key: &str) -> Result<(), SnapshotError>;

    /// Remove the snapshot `key` (any kind) and its data; refused while it has children.
    fn remove(&self, key: &str) -> Result<(), SnapshotError>;

    /// Every snapshot, sorted by name.
    fn walk(&self) -> Result<Vec<Info>, SnapshotError>;

    /// Where a layer applied to the active snapshot `key` is to be written as an EROFS image
    /// ([`ApplyTarget::apply_to_image`](crate::ApplyTarget::apply_to_image)) instead of into
    /// its directory; committed, the image is the layer. `None`: this snapshotter takes layers
    /// as directories only.
    fn layer_image(&self, key: &str) -> Result<Option<PathBuf>, SnapshotError> {
        self.stat(key)?;
        Ok(None)
    }

    /// Detach every layer image this snapshotter mounted (when the daemon stops; overlays
    /// of running containers keep their own references). Later calls mount them again.
    fn close(&self) {}
}

/// Why a snapshotter call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// No snapshot has this key or name.
    #[error("snapshot {key:?} does not exist")]
    NotFound { key: String },
    /// The key or name is taken.
    #[error("snapshot {key:?} already exists")]
    AlreadyExists { key: String },
    /// The key is empty or contains a NUL byte.
    #[error("invalid snapshot key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// The parent is not a committed snapshot.
    #[error("parent {parent:?} is a {kind:?} snapshot, not a committed one")]
    ParentNotCommitted { parent: String, kind: Kind },
    /// The operation needs an active snapshot (commit) or an active one or a view (mounts).
    #[error("snapshot {key:?} is a {kind:?} snapshot; {operation} needs {needs}")]
    WrongKind {
        key: String,
        kind: Kind,
        operation: &'static str,
        needs: &'static str,
    },
    /// The snapshot is the parent of others.
    #[error("snapshot {key:?} is in use: it is the parent of {children:?}")]
    HasChildren { key: String, children: Vec<String> },
    /// Another process (or another instance in this one) has the store open.
    #[error("the snapshot store {} is in use by another snapshotter", root.display())]
    Locked { root: PathBuf },
    /// The snapshot root is not usable (for overlay: a path with `:` or `,`).
    #[error("invalid snapshot root {}: {reason}", root.display())]
    InvalidRoot { root: PathBuf, reason: String },
    /// Opening or locking the store failed.
    #[error("open the snapshot store {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Reading the metadata file failed.
    #[error("read the snapshot metadata {}", path.display())]
    ReadMetadata {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The metadata file is not valid.
    #[error("parse the snapshot metadata {}", path.display())]
    ParseMetadata {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// Writing the metadata file (temp file, fsync, rename) failed; nothing changed.
    #[error("write the snapshot metadata {}", path.display())]
    WriteMetadata {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Creating a snapshot's directories failed.
    #[error("create the snapshot directory {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Copying the parent's tree (copying snapshotter) failed.
    #[error("copy {} to {}", from.display(), to.display())]
    Copy {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The snapshot was removed from the metadata but its directory could not be deleted; it
    /// is deleted when the store is next opened.
    #[error("remove the snapshot directory {}", path.display())]
    RemoveDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Mounting or unmounting a layer image failed.
    #[error("mount the layer image {}", path.display())]
    MountImage {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Measuring disk usage failed.
    #[error("measure the disk usage of {}", path.display())]
    Usage {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl SnapshotError {
    /// The category for an API status code.
    pub fn category(&self) -> Category {
        match self {
            SnapshotError::NotFound { .. } => Category::NotFound,
            SnapshotError::AlreadyExists { .. } => Category::AlreadyExists,
            SnapshotError::InvalidKey { .. } | SnapshotError::InvalidRoot { .. } => {
                Category::Invalid
            }
            SnapshotError::ParentNotCommitted { .. }
            | SnapshotError::WrongKind { .. }
            | SnapshotError::HasChildren { .. }
            | SnapshotError::Locked { .. } => Category::FailedPrecondition,
            _ => Category::Other,
        }
    }
}
