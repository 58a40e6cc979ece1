//! Diffing: a layer tar of the changes a snapshot holds over its parent, the inverse of
//! [`apply`](crate::apply). Used by `commit`; [`write_tree`] archives a whole tree the same way
//! (`docker cp`, `docker export`).
//!
//! Two sources ([`DiffSource`]):
//! - an overlay upper directory: everything in it is a change; overlay whiteouts (0:0
//!   character devices) become `.wh.<name>` members and opaque directories
//!   (`trusted.overlay.opaque=y`, or `user.overlay.opaque` with `userxattr`) get a
//!   `.wh..wh..opq` member after their own entry;
//! - two full trees (the copying snapshotter): the upper tree is compared with the lower one
//!   entry by entry (kind, mode, owner, size, mtime to the nanosecond, link target, device,
//!   extended attributes — content is not read, as Docker's naive diff); what is gone becomes a
//!   whiteout. Directories whose children changed are written too (so their metadata travels
//!   with the layer, as Docker does).
//!
//! Output is deterministic: members in byte order of their names, parents before children,
//! times truncated to seconds (Docker's choice, for reproducible layer digests), no user or
//! group names, extended attributes sorted, overlay's private attributes never written. Hard
//! links among the written files are written as links to the first one.

mod changes;
mod walk;

use std::io;
use std::path::PathBuf;

use crate::Mount;

pub use changes::{Change, ChangeKind, overlay_changes};
pub use walk::{write_diff, write_diff_excluding, write_tree};

/// What to diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffSource {
    /// An overlay upper directory.
    OverlayUpper {
        /// The upper directory.
        upper: PathBuf,
    },
    /// Two complete trees.
    Trees {
        /// The parent's tree; `None` for a snapshot without parent (everything is new).
        lower: Option<PathBuf>,
        /// The changed tree.
        upper: PathBuf,
    },
}

impl DiffSource {
    /// The source for an active snapshot with mounts `upper` over a view of its parent with
    /// mounts `lower` (empty when there is no parent), read from the mounts without mounting
    /// anything: an overlay with `upperdir=` gives [`DiffSource::OverlayUpper`]; a bind mount
    /// gives [`DiffSource::Trees`] against the source of `lower`'s bind mount. `None` when the
    /// mounts are of another shape (for example an overlay view as `lower` of a bind `upper`).
    pub fn from_mounts(lower: &[Mount], upper: &[Mount]) -> Option<DiffSource> {
        let [u] = upper else { return None };
        match u.kind.as_str() {
            "overlay" => Some(DiffSource::OverlayUpper {
                upper: PathBuf::from(u.option_value("upperdir")?),
            }),
            "bind" | "rbind" => {
                let lower = match lower {
                    [] => None,
                    [l] if l.kind == "bind" || l.kind == "rbind" => Some(PathBuf::from(&l.source)),
                    _ => return None,
                };
                Some(DiffSource::Trees {
                    lower,
                    upper: PathBuf::from(&u.source),
                })
            }
            _ => None,
        }
    }
}

/// What a diff wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffStats {
    /// Members written (whiteouts included).
    pub entries: u64,
    /// Regular files (with data).
    pub files: u64,
    /// Directories.
    pub dirs: u64,
    /// Symbolic links.
    pub symlinks: u64,
    /// Hard links.
    pub hardlinks: u64,
    /// Devices and fifos.
    pub nodes: u64,
    /// `.wh.<name>` members.
    pub whiteouts: u64,
    /// `.wh..wh..opq` members.
    pub opaque_dirs: u64,
    /// Bytes of file data.
    pub bytes: u64,
    /// Sockets, which tar cannot hold (skipped, as Docker does).
    pub sockets_skipped: u64,
}

/// Why a diff failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// Listing a directory failed.
    #[error("diff: list the directory {}", path.display())]
    ReadDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `lstat` failed.
    #[error("diff: stat {}", path.display())]
    Stat {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Reading a symbolic link failed.
    #[error("diff: read the link {}", path.display())]
    ReadLink {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Listing or reading extended attributes failed.
    #[error("diff: read the extended attributes of {}", path.display())]
    Xattrs {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Opening or reading a file's data failed (it may have changed while being archived).
    #[error("diff: archive the file {}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Writing the tar failed.
    #[error("diff: write the layer")]
    Write(#[source] io::Error),
    /// The upper directory uses an overlay feature whose changes are not all in it
    /// (redirected directories, metadata-only copy-ups): mounts from this crate turn them off.
    #[error("diff: {} uses the overlay feature {feature}, which this diff does not support", path.display())]
    OverlayFeature { path: PathBuf, feature: String },
}

impl DiffError {
    /// The category for an API status code.
    pub fn category(&self) -> crate::Category {
        match self {
            DiffError::Stat { source, .. } | DiffError::ReadDir { source, .. }
                if source.kind() == io::ErrorKind::NotFound =>
            {
                crate::Category::NotFound
            }
            DiffError::OverlayFeature { .. } => crate::Category::FailedPrecondition,
            _ => crate::Category::Other,
        }
    }
}
