//! Berth's image layer foundation: everything about images that is not a registry, a snapshot
//! or a running container.
//!
//! This crate owns
//! - [`digest`]: content digests (`sha256:…`, `sha512:…`) and streaming hashing;
//! - [`reference`]: Docker's image reference grammar and normalisation (`busybox` →
//!   `docker.io/library/busybox:latest`) and the familiar short form;
//! - [`media_type`]: OCI and Docker media types and their classification;
//! - [`compression`]: gzip/zstd detection by magic number and streaming decompression;
//! - [`manifest`]: typed descriptors, manifests, indexes and image configs that keep their raw
//!   bytes and unknown fields;
//! - [`platform`]: platforms, the host default, and picking a manifest from an index;
//! - [`content`]: the content store (blobs by digest, verified on commit, atomic, crash-safe);
//! - [`archive`]: `docker save`/`docker load` tarballs and OCI layouts, both ways, streaming;
//! - [`import`]: a root filesystem tarball → a one-layer image (`docker import`).
//!
//! It is synchronous: the registry client and the daemon call it from blocking threads. It does
//! not talk to registries (the registry crate), unpack layers or manage snapshots (the snapshot
//! crate), or keep image records and tags (the engine's database).
//!
//! Errors: every module has its own `thiserror` enum with a `category()` ([`Category`]) that an
//! API layer maps to a status code.

pub mod archive;
pub mod compression;
pub mod content;
pub mod digest;
mod error;
pub mod import;
pub mod manifest;
pub mod media_type;
pub mod platform;
pub mod reference;

pub use archive::{ArchiveError, LoadOptions, LoadedImage, SaveImage, load, save};
pub use compression::Compression;
pub use content::{ContentError, Ingester, LocalStore, Manager, Provider, Store};
pub use digest::{Algorithm, Digest, DigestError, Digester};
pub use error::Category;
pub use import::{ConfigChanges, ImportError, ImportOptions, ImportedImage, import};
pub use manifest::{Descriptor, Document, ImageConfig, Index, Manifest, ManifestError, Parsed};
pub use platform::{Platform, PlatformError};
pub use reference::{Reference, ReferenceError};
