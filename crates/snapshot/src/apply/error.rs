//! Errors of layer extraction: one variant per failed step, each naming the layer member (its
//! path inside the archive) and keeping the cause.

use std::io;
use std::path::PathBuf;

use crate::Category;
use crate::tar::TarError;

/// Why a layer could not be applied. After an error the destination holds a partial layer; the
/// caller discards it (the snapshotters remove the active snapshot).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The destination directory cannot be opened.
    #[error("open the extraction directory {}", path.display())]
    OpenDest {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A lower layer directory ([`ApplyOptions::lowers`](super::ApplyOptions)) cannot be
    /// opened.
    #[error("open the lower layer {}", path.display())]
    OpenLower {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The archive is corrupt, truncated or unsupported, or reading it failed.
    #[error(transparent)]
    Archive(#[from] TarError),
    /// A member name (or hard link target) leaves the root through `..`, or contains a NUL.
    #[error("layer member '{path}' escapes the extraction root")]
    PathEscape { path: String },
    /// A whiteout names `.` or `..` or nothing.
    #[error("layer member '{path}' is an invalid whiteout")]
    InvalidWhiteout { path: String },
    /// A member that is not a directory names the root itself.
    #[error("layer member '{path}' would replace the extraction root")]
    ReplaceRoot { path: String },
    /// A parent of the member exists and is neither a directory nor a symbolic link to one.
    #[error("layer member '{path}': its parent '{parent}' is not a directory")]
    ParentNotDirectory { path: String, parent: String },
    /// A parent of the member is a symbolic link whose target (resolved inside the root)
    /// does not exist.
    #[error("layer member '{path}': its parent '{parent}' is a symbolic link to nothing")]
    DanglingParent { path: String, parent: String },
    /// Resolving a parent directory failed for another reason.
    #[error("layer member '{path}': resolve its parent '{parent}'")]
    ResolveParent {
        path: String,
        parent: String,
        #[source]
        source: io::Error,
    },
    /// A hard link names a target that does not exist (in an overlay layer: not in this layer).
    #[error("layer member '{path}': hard link target '{target}' does not exist")]
    LinkTargetMissing { path: String, target: String },
    /// An owner does not fit in 32 bits after the configured shift.
    #[error("layer member '{path}': {what} {id} shifted by {shift} is out of range")]
    IdOutOfRange {
        path: String,
        what: &'static str,
        id: u64,
        shift: u32,
    },
    /// `mkdirat` failed.
    #[error("layer member '{path}': create the directory")]
    CreateDir {
        path: String,
        #[source]
        source: io::Error,
    },
    /// Creating a regular file failed.
    #[error("layer member '{path}': create the file")]
    CreateFile {
        path: String,
        #[source]
        source: io::Error,
    },
    /// Writing file data failed.
    #[error("layer member '{path}': write the file data")]
    WriteFile {
        path: String,
        #[source]
        source: io::Error,
    },
    /// `symlinkat` failed.
    #[error("layer member '{path}': create the symbolic link to '{target}'")]
    CreateSymlink {
        path: String,
        target: String,
        #[source]
        source: io::Error,
    },
    /// `linkat` failed.
    #[error("layer member '{path}': create the hard link to '{target}'")]
    CreateHardlink {
        path: String,
        target: String,
        #[source]
        source: io::Error,
    },
    /// `mknodat` of a device or fifo failed.
    #[error("layer member '{path}': create the {kind}")]
    CreateNode {
        path: String,
        kind: &'static str,
        #[source]
        source: io::Error,
    },
    /// Creating an overlay whiteout (a 0:0 character device) failed.
    #[error("layer member '{path}': create the overlay whiteout")]
    CreateWhiteout {
        path: String,
        #[source]
        source: io::Error,
    },
    /// Marking a directory opaque (`trusted.overlay.opaque=y`) failed.
    #[error("layer member '{path}': mark the directory opaque")]
    MarkOpaque {
        path: String,
        #[source]
        source: io::Error,
    },
    /// Removing what a member replaces, or what a whiteout deletes, failed.
    #[error("layer member '{path}': remove the existing '{existing}'")]
    RemoveExisting {
        path: String,
        existing: String,
        #[source]
        source: io::Error,
    },
    /// `fchown` failed.
    #[error("layer member '{path}': set the owner {uid}:{gid}")]
    SetOwner {
        path: String,
        uid: u32,
        gid: u32,
        #[source]
        source: io::Error,
    },
    /// `fchmod` failed.
    #[error("layer member '{path}': set the mode {mode:o}")]
    SetMode {
        path: String,
        mode: u32,
        #[source]
        source: io::Error,
    },
    /// Setting an extended attribute failed (other than "not supported", which is counted in
    /// [`ApplyStats::xattrs_skipped`](super::ApplyStats::xattrs_skipped)).
    #[error("layer member '{path}': set the extended attribute {name}")]
    SetXattr {
        path: String,
        name: String,
        #[source]
        source: io::Error,
    },
    /// A non-directory member would replace an existing directory
    /// ([`ApplyOptions::no_overwrite_dir_non_dir`](super::ApplyOptions)).
    #[error("cannot overwrite directory '{path}' with non-directory")]
    OverwriteDirectory { path: String },
    /// A directory member would replace an existing non-directory
    /// ([`ApplyOptions::no_overwrite_dir_non_dir`](super::ApplyOptions)).
    #[error("cannot overwrite non-directory '{path}' with directory")]
    OverwriteNonDirectory { path: String },
    /// Setting access and modification times failed.
    #[error("layer member '{path}': set the times")]
    SetTimes {
        path: String,
        #[source]
        source: io::Error,
    },
    /// The staging tmpfs of a layer image could not be made.
    #[error("make the staging tmpfs for a layer image")]
    Stage(#[source] io::Error),
    /// The layer image file could not be created.
    #[error("create the layer image {}", path.display())]
    CreateImage {
        path: std::path::PathBuf,
        #[source]
        source: io::Error,
    },
    /// Writing the layer image failed.
    #[error("write the layer image {}", path.display())]
    WriteImage {
        path: std::path::PathBuf,
        #[source]
        source: crate::erofs::ImageError,
    },
}

impl ApplyError {
    /// The category for an API status code.
    pub fn category(&self) -> Category {
        match self {
            ApplyError::OpenDest { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                Category::NotFound
            }
            ApplyError::OpenDest { .. } => Category::Other,
            ApplyError::Archive(e) => e.category(),
            ApplyError::PathEscape { .. }
            | ApplyError::InvalidWhiteout { .. }
            | ApplyError::ReplaceRoot { .. }
            | ApplyError::ParentNotDirectory { .. }
            | ApplyError::DanglingParent { .. }
            | ApplyError::LinkTargetMissing { .. }
            | ApplyError::IdOutOfRange { .. }
            | ApplyError::OverwriteDirectory { .. }
            | ApplyError::OverwriteNonDirectory { .. } => Category::Invalid,
            _ => Category::Other,
        }
    }
}
