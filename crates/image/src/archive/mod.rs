//! Image archives, both ways, streaming: `docker save` / `docker load` tarballs and OCI image
//! layouts in a tar.
//!
//! Formats read by [`load`] (plain, gzip or zstd; detected by magic number):
//! - **docker save, legacy** (Docker < 25, `skopeo copy … docker-archive:`): `manifest.json`
//!   (`[{"Config": "<hex>.json", "RepoTags": ["busybox:latest"], "Layers": ["<id>/layer.tar"]}]`),
//!   `repositories`, the config file, and one uncompressed tar per layer, possibly reached
//!   through symlinks (`<id>/layer.tar -> ../<hex>.tar`). There is no manifest: one is
//!   synthesised (OCI media types; each layer's digest and compression found while ingesting,
//!   and checked against the config's `rootfs.diff_ids`).
//! - **OCI image layout** (`skopeo copy … oci-archive:`, `docker save` of Docker ≥ 25):
//!   `oci-layout`, `index.json`, `blobs/<alg>/<hex>`. Names come from the `index.json`
//!   annotations: `io.containerd.image.name` (a full reference), else
//!   `org.opencontainers.image.ref.name` when it is a full reference (contains `/`, `:` or
//!   `@`); a bare tag names nothing, the image is loaded untagged.
//! - **Both** (Docker ≥ 25 writes an OCI layout *and* `manifest.json`): the images are matched
//!   by config digest; the original manifest from the layout is kept (its digest is
//!   preserved) and the names of both files are merged.
//!
//! [`save`] writes what Docker ≥ 25 writes: an OCI layout (`oci-layout`, `index.json` with
//! `io.containerd.image.name` and `org.opencontainers.image.ref.name` annotations, `blobs/`)
//! plus `manifest.json` and `repositories`, so that old and new `docker load`, skopeo
//! (`docker-archive:` and `oci-archive:`) and umoci all read it. Blobs are written as they are
//! in the store (compressed layers stay compressed) and re-hashed on the way out.
//!
//! Nothing is held in memory but the small JSON files: every other file of the archive is
//! streamed into the content store as it is read (the order of entries in a tar is arbitrary,
//! and `manifest.json` often comes last). A file named `blobs/<alg>/<hex>` is verified against
//! its name, and skipped when the store already has it.
//!
//! A failed load leaves no image behind (the caller records none), but blobs already ingested
//! stay in the store, unreferenced, for the engine's garbage collection: deleting them here
//! could race with a concurrent pull that shares them.

mod load;
mod save;

pub use load::{LoadOptions, LoadedImage, load};
pub use save::{SaveImage, save};

use crate::content::ContentError;
use crate::digest::Digest;
use crate::error::Category;
use crate::manifest::ManifestError;
use crate::reference::ReferenceError;

/// The largest JSON file (`manifest.json`, `index.json`, a config, a manifest) read into memory.
pub const MAX_JSON_SIZE: u64 = 32 * 1024 * 1024;

/// One entry of `manifest.json` (Docker's format; field names are Docker's).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManifestItem {
    /// Path of the config file in the archive.
    pub config: String,
    /// Familiar `name:tag` references (`busybox:latest`).
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    /// Paths of the layer tars, base first.
    #[serde(default)]
    pub layers: Vec<String>,
    /// Docker legacy: the parent image ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Foreign layers not in the archive, by diff ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_sources: Option<std::collections::BTreeMap<Digest, crate::manifest::Descriptor>>,
}

/// Everything that can go wrong reading or writing an archive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The archive stream could not be read: not a tar, truncated, corrupt compression.
    #[error("failed to read the image archive")]
    ReadArchive {
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading one file of the archive failed.
    #[error("failed to read {path:?} from the image archive")]
    ReadEntry {
        /// The file in the archive.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A metadata file is larger than [`MAX_JSON_SIZE`].
    #[error("{path:?} in the image archive is too large ({size} bytes, the limit is {limit})")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A metadata file is not the JSON it should be.
    #[error("invalid {path:?} in the image archive")]
    InvalidJson {
        /// The file.
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The `oci-layout` file names a layout version this crate does not know.
    #[error("unsupported OCI image layout version {version:?}")]
    LayoutVersion {
        /// The version found.
        version: String,
    },
    /// Neither `manifest.json` nor `index.json`.
    #[error(
        "not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)"
    )]
    NotAnImageArchive,
    /// `manifest.json` names a file that the archive does not contain.
    #[error("{path:?} (referenced by {referenced_by}) is missing from the image archive")]
    MissingFile {
        /// The missing path.
        path: String,
        /// Who references it.
        referenced_by: String,
    },
    /// A blob is neither in the archive nor in the store.
    #[error("blob {digest} (referenced by {referenced_by}) is missing from the image archive")]
    MissingBlob {
        /// The missing blob.
        digest: Digest,
        /// Who references it.
        referenced_by: String,
    },
    /// A symlink chain in the archive does not end (loop, or too deep).
    #[error("symlink loop at {path:?} in the image archive")]
    SymlinkLoop {
        /// Where it started.
        path: String,
    },
    /// A blob's content does not match the digest it is named or described by.
    #[error("{path} has digest {actual}, expected {expected}")]
    CorruptBlob {
        /// Where the blob was (archive path, or blob digest in the store).
        path: String,
        /// The digest it should have.
        expected: Digest,
        /// The digest it has.
        actual: Digest,
    },
    /// A blob has another size than its descriptor says.
    #[error("blob {digest} has {actual} bytes, its descriptor says {expected}")]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// The size described.
        expected: u64,
        /// The size found.
        actual: u64,
    },
    /// The image has another number of layers than its config has diff IDs.
    #[error(
        "image config {config} lists {diff_ids} layer diff IDs, but the image has {layers} layers"
    )]
    LayerCount {
        /// The config.
        config: Digest,
        /// Layers in the manifest or `manifest.json`.
        layers: usize,
        /// Diff IDs in the config.
        diff_ids: usize,
    },
    /// A layer's uncompressed content does not match the config's diff ID.
    #[error(
        "layer {layer} ({path}) uncompresses to {actual}, but the image config expects {expected}"
    )]
    DiffIdMismatch {
        /// The layer blob.
        layer: Digest,
        /// Its path in the archive.
        path: String,
        /// The config's diff ID.
        expected: Digest,
        /// The digest of the uncompressed content.
        actual: Digest,
    },
    /// An image name (`RepoTags` of `manifest.json`, a name annotation of `index.json`) is not
    /// a valid reference.
    #[error("invalid image name {name:?} in {file}")]
    InvalidName {
        /// The name.
        name: String,
        /// The file it is in.
        file: &'static str,
        /// Why.
        #[source]
        source: ReferenceError,
    },
    /// An index has no manifest for the platform.
    #[error("index {index} has no manifest for platform {platform}")]
    NoPlatformManifest {
        /// The index.
        index: Digest,
        /// The platform wanted.
        platform: String,
    },
    /// Nested indexes deeper than this crate follows.
    #[error("index {index} nests indexes too deeply")]
    TooDeep {
        /// The innermost index reached.
        index: Digest,
    },
    /// A manifest, index or config in the archive (or store) is invalid.
    #[error("invalid {what} {digest}")]
    Document {
        /// "manifest", "index", "config".
        what: &'static str,
        /// Its digest.
        digest: Digest,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// Writing the output archive failed.
    #[error("failed to write the image archive")]
    Write {
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading a blob from the store while writing failed.
    #[error("failed to read blob {digest} from the content store")]
    ReadBlob {
        /// The blob.
        digest: Digest,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A content store operation failed.
    #[error(transparent)]
    Content(#[from] ContentError),
}

impl ArchiveError {
    /// The category an API maps to a status code.
    pub fn category(&self) -> Category {
        match self {
            ArchiveError::Content(e) => e.category(),
            ArchiveError::Write { .. } | ArchiveError::ReadBlob { .. } => Category::Other,
            ArchiveError::Document { source, .. } if source.category() == Category::Other => {
                Category::Other
            }
            _ => Category::Invalid,
        }
    }
}

/// Normalises a path inside an archive: no leading `/` or `./`, no `.` components, `..`
/// resolved (never above the root).
pub(crate) fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// `blobs/<alg>/<hex>` → the digest, when the path names a blob of an OCI layout.
pub(crate) fn blob_path_digest(path: &str) -> Option<Digest> {
    let rest = path.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    format!("{alg}:{hex}").parse().ok()
}

/// The path of a blob in an OCI layout.
pub(crate) fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_paths() {
        assert_eq!(clean_path("./manifest.json"), "manifest.json");
        assert_eq!(clean_path("/a//b/./c/"), "a/b/c");
        assert_eq!(clean_path("abc/../def.tar"), "def.tar");
        assert_eq!(clean_path("../../x"), "x");
    }

    #[test]
    fn blob_paths() {
        let d = Digest::sha256_of(b"x");
        assert_eq!(blob_path_digest(&blob_path(&d)), Some(d));
        assert_eq!(blob_path_digest("blobs/sha256/nothex"), None);
        assert_eq!(blob_path_digest("abc/layer.tar"), None);
    }
}
