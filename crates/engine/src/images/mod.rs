//! Images: the records in the database ([`store`]), finding an image by
//! what a user typed ([`lookup`]), and one file per operation of the
//! Docker API (list, inspect and history, tag, remove and prune).
//!
//! An image is its config blob (its id is that blob's digest), the platform
//! manifest naming its layers, the layers' snapshots (keyed by chain id,
//! shared between images), and the names pointing at it.

mod archive;
mod changes;
pub(crate) mod config_view;
mod distribution;
pub mod gc;
mod glob;
mod inspect;
pub(crate) mod list;
pub mod lookup;
mod pull;
mod push;
mod remove;
pub mod store;
mod tag;
mod unpack;

use berth_image::content::ContentError;
use berth_image::{Category, ManifestError, ReferenceError};

use crate::db::DbError;
use crate::error::{ErrorKind, Kind};

pub use changes::parse_changes;
pub use list::ListOptions;
pub use remove::RemoveOptions;
pub use tag::repo_tag_reference;

/// A failed image operation. Messages are dockerd's where it has one.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("No such image: {0}")]
    NoSuchImage(String),
    /// A push of a repository with no tag here (the familiar name).
    #[error("An image does not exist locally with the tag: {0}")]
    NoTagToPush(String),
    #[error("multiple IDs found with provided prefix: {0}")]
    AmbiguousId(String),
    #[error(transparent)]
    InvalidReference(#[from] ReferenceError),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("'{0}' is a reserved name")]
    ReservedName(String),
    /// rmi of an image in use or referenced in several repositories.
    #[error("{0}")]
    Conflict(String),
    #[error("reading the config of image {id}")]
    Config {
        id: String,
        #[source]
        source: ManifestError,
    },
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Snapshot(berth_snapshot::SnapshotError),
    #[error("the snapshot {0} has no directory to unpack into")]
    UnpackTarget(String),
    #[error("decompressing layer {layer}")]
    Decompress {
        layer: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unpacking layer {layer}")]
    Apply {
        layer: String,
        #[source]
        source: berth_snapshot::ApplyError,
    },
    #[error("layer content does not match its diff id: expected {expected}, got {actual}")]
    LayerMismatch { expected: String, actual: String },
    #[error(transparent)]
    Manifest(ManifestError),
    #[error("invalid image: the manifest has {layers} layers but the config {diff_ids} diff ids")]
    LayerCount { layers: usize, diff_ids: usize },
    #[error("{0}")]
    NoMatchingManifest(String),
    #[error("downloading {digest}")]
    Download {
        digest: String,
        #[source]
        source: std::io::Error,
    },
    /// A registry failure, in dockerd's words.
    #[error("{message}")]
    Registry {
        message: String,
        kind: Kind,
        #[source]
        source: Box<berth_registry::Error>,
    },
    /// A layer's bytes do not hash to its digest, in dockerd's words.
    #[error("filesystem layer verification failed for digest {digest}")]
    LayerVerification {
        digest: String,
        #[source]
        source: std::io::Error,
    },
    #[error("compressing layer {digest}")]
    Compress {
        digest: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Archive(berth_image::archive::ArchiveError),
    #[error(transparent)]
    Import(berth_image::import::ImportError),
    #[error("the client went away: operation cancelled")]
    Cancelled,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ErrorKind for ImageError {
    fn kind(&self) -> Kind {
        match self {
            ImageError::NoSuchImage(_) | ImageError::NoTagToPush(_) => Kind::NotFound,
            ImageError::AmbiguousId(_)
            | ImageError::InvalidReference(_)
            | ImageError::InvalidArgument(_) => Kind::InvalidArgument,
            ImageError::ReservedName(_) => Kind::Forbidden,
            ImageError::Conflict(_) => Kind::Conflict,
            ImageError::Content(e) => kind_of(e.category()),
            ImageError::Snapshot(e) => match e.category() {
                berth_snapshot::Category::NotFound => Kind::NotFound,
                berth_snapshot::Category::Invalid => Kind::InvalidArgument,
                _ => Kind::Internal,
            },
            ImageError::LayerMismatch { .. } | ImageError::LayerVerification { .. } => {
                Kind::InvalidArgument
            }
            ImageError::Manifest(e) => kind_of(e.category()),
            ImageError::NoMatchingManifest(_) => Kind::NotFound,
            ImageError::LayerCount { .. } => Kind::InvalidArgument,
            ImageError::Registry { kind, .. } => *kind,
            ImageError::Download { source, .. } => match source.kind() {
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
                    Kind::InvalidArgument
                }
                _ => Kind::Unavailable,
            },
            ImageError::Cancelled | ImageError::Compress { .. } => Kind::Internal,
            ImageError::Archive(e) => kind_of(e.category()),
            ImageError::Import(e) => kind_of(e.category()),
            ImageError::Apply { source, .. } => match source.category() {
                berth_snapshot::Category::Invalid => Kind::InvalidArgument,
                _ => Kind::Internal,
            },
            ImageError::Decompress { source, .. } => match source.kind() {
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
                    Kind::InvalidArgument
                }
                _ => Kind::Internal,
            },
            ImageError::Config { .. } | ImageError::Db(_) | ImageError::UnpackTarget(_) => {
                Kind::Internal
            }
        }
    }
}

/// The engine kind of an image-crate category.
pub(crate) fn kind_of(category: Category) -> Kind {
    match category {
        Category::NotFound => Kind::NotFound,
        Category::AlreadyExists => Kind::Conflict,
        Category::Invalid => Kind::InvalidArgument,
        Category::Other => Kind::Internal,
    }
}

impl From<rusqlite::Error> for ImageError {
    fn from(e: rusqlite::Error) -> Self {
        ImageError::Db(DbError::Query(e))
    }
}

/// The first 12 hex digits of a digest: Docker's short id.
pub fn short_id(digest: &berth_image::Digest) -> &str {
    let hex = digest.hex();
    &hex[..hex.len().min(12)]
}

/// The chain ids of a stack of layers, as the snapshot names they are.
pub fn chain_ids(diff_ids: &[berth_image::Digest]) -> Vec<String> {
    berth_image::manifest::chain_ids(diff_ids)
        .iter()
        .map(ToString::to_string)
        .collect()
}

impl crate::Engine {
    /// The unpacked size of one layer, if it is here.
    pub(crate) fn layer_size(&self, chain_id: &str) -> Option<u64> {
        store::layer(&self.db.conn(), chain_id)
            .ok()
            .flatten()
            .map(|l| l.size)
    }
}

impl crate::Engine {
    /// Every image's id and the chain ids of all its layers.
    pub(crate) fn image_chains(&self) -> Result<Vec<(String, Vec<String>)>, ImageError> {
        let conn = self.db.conn();
        let layers: std::collections::HashMap<String, Option<String>> =
            store::all_layers(&conn)?.into_iter().collect();
        let mut out = Vec::new();
        for image in store::all_images(&conn)? {
            let mut chain = Vec::new();
            let mut next = image.top_layer.clone();
            while let Some(id) = next {
                if chain.contains(&id) {
                    break;
                }
                next = layers.get(&id).cloned().flatten();
                chain.push(id);
            }
            out.push((image.id.to_string(), chain));
        }
        Ok(out)
    }
}

impl crate::Engine {
    /// A read-only view of an image's root filesystem under `key`, as
    /// mounts to perform (the snapshotter mounts nothing itself). Remove it
    /// with [`remove_view`](crate::Engine::remove_view).
    pub fn view_image(
        &self,
        name: &str,
        key: &str,
    ) -> Result<Vec<berth_snapshot::Mount>, ImageError> {
        let image = self.find_image(name)?;
        self.snapshotter
            .view(key, image.top_layer.as_deref())
            .map_err(ImageError::Snapshot)
    }

    /// Removes a view made by [`view_image`](crate::Engine::view_image).
    pub fn remove_view(&self, key: &str) -> Result<(), ImageError> {
        self.snapshotter.remove(key).map_err(ImageError::Snapshot)
    }
}
