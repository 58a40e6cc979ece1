//! Layers and snapshots for Berth: everything between a layer blob and a container's root
//! filesystem.
//!
//! This crate owns:
//! - [`decompress`]: gzip/zstd/plain detection of a layer stream;
//! - [`apply`]: extracting a layer tar into a directory — an overlay layer directory
//!   (whiteouts become overlay whiteouts) or a full root filesystem (whiteouts delete) —
//!   with the guarantee that nothing is ever written outside that directory;
//! - [`diff`]: the inverse, a layer tar of the changes in a snapshot (used by `commit`), a tar
//!   of any tree (`docker cp`, `export`) and Docker's change list of an overlay upper directory;
//! - [`Snapshotter`]: containerd's snapshot contract (prepare / view / commit / remove), with
//!   [`OverlaySnapshotter`] (each layer unpacked once, shared, stacked with overlayfs) and
//!   [`NativeSnapshotter`] (full copies, for filesystems without overlay);
//! - [`Mount`]: mounts as plain data, and the code to perform them.
//!
//! It does not fetch or verify blobs (the image crate's content store does), does not decide
//! which snapshot belongs to which image or container (the engine does), and never mounts on
//! its own: snapshotters return [`Mount`]s and the caller performs them.
//!
//! # Pulling an image and running a container
//!
//! ```no_run
//! use berth_snapshot::{ApplyTarget, OverlaySnapshotter, Snapshotter, decompress};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let layers: Vec<(String, std::fs::File)> = vec![];
//! let sn = OverlaySnapshotter::open("/var/lib/berth/snapshots/overlay".as_ref())?;
//! let mut parent: Option<String> = None;
//! for (chain_id, blob) in layers {
//!     let key = format!("extract-{chain_id}");
//!     let mounts = sn.prepare(&key, parent.as_deref())?;
//!     // The layer goes straight into the snapshot's directory: nothing is mounted.
//!     let target = ApplyTarget::from_mounts(&mounts).expect("a writable snapshot");
//!     if let Err(e) = target.apply(decompress(blob)?) {
//!         sn.remove(&key)?;                        // a failed layer leaves nothing
//!         return Err(e.into());
//!     }
//!     sn.commit(&chain_id, &key)?;
//!     parent = Some(chain_id);
//! }
//! // A container: an active snapshot on top of the image's last layer.
//! let mounts = sn.prepare("container-abc", parent.as_deref())?;
//! berth_snapshot::mount_all(&mounts, "/run/berth/abc/rootfs".as_ref())?;
//! # Ok(()) }
//! ```

pub mod apply;
mod category;
pub mod decompress;
pub mod diff;
pub mod erofs;
mod lifecycle;
mod metadata;
pub mod mount;
mod native;
mod overlay;
mod remove_tree;
mod snapshotter;
pub mod tar;
mod usage;
mod xattr;

pub use apply::{ApplyError, ApplyMode, ApplyOptions, ApplyStats, ApplyTarget, apply_layer};
pub use category::Category;
pub use decompress::{Compression, decompress};
pub use diff::{DiffError, DiffSource, DiffStats, write_diff, write_tree};
pub use mount::{Mount, MountError, mount_all, unmount};
pub use native::NativeSnapshotter;
pub use overlay::{
    OverlayProbeError, OverlaySnapshotter, default_overlay_options, overlay_supported,
    probe_overlay,
};
pub use snapshotter::{Info, Kind, SnapshotError, Snapshotter, Usage};
