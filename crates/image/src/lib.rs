//! Berth's image layer foundation: everything about images that is not a registry, a snapshot
//! or a running container.
//!
//! This crate owns
//! - [`digest`]: content digests (`sha256:…`, `sha512:…`) and streaming hashing;
//! - [`reference`](mod@reference): Docker's image reference grammar and normalisation
//!   (`busybox` → `docker.io/library/busybox:latest`) and the familiar short form;
//! - [`media_type`]: OCI and Docker media types and their classification;
//! - [`compression`]: gzip/zstd detection by magic number and streaming decompression;
//! - [`manifest`]: typed descriptors, manifests, indexes and image configs that keep their raw
//!   bytes and unknown fields, and layer chain IDs;
//! - [`platform`]: platforms, the host default, and picking a manifest from an index;
//! - [`content`]: the content store (blobs by digest, verified on commit, atomic, crash-safe);
//! - [`archive`]: `docker save`/`docker load` tarballs and OCI layouts, both ways, streaming;
//! - [`import`](mod@import): a root filesystem tarball → a one-layer image (`docker import`).
//!
//! It is synchronous: the registry client and the daemon call it from blocking threads. It does
//! not talk to registries (the registry crate), unpack layers or manage snapshots (the snapshot
//! crate), or keep image records and tags (the engine's database).
//!
//! # The image model
//!
//! An image record (the engine's) is a name → a *target* descriptor: a manifest, or an index
//! of manifests for several platforms. The manifest names a config and the layers; the config
//! digest is the image ID (what `docker images` shows), the config's `rootfs.diff_ids` are the
//! digests of the *uncompressed* layers, and their [chain IDs](manifest::chain_ids) name a layer
//! together with everything under it (the key of an unpacked snapshot). Every document and
//! layer is a blob in the content store, under the digest of its exact bytes.
//!
//! What a pull does with this crate (the registry client supplies the bytes):
//!
//! ```
//! use std::io::Write;
//! use berth_image::content::{Ingester, LocalStore, Provider, WriterRequest, write_blob};
//! use berth_image::manifest::{parse_config_bytes, parse_document, Document};
//! use berth_image::{Digest, Platform, Reference};
//!
//! # let dir = tempfile::tempdir().unwrap();
//! let store = LocalStore::open(dir.path()).unwrap();
//! let name = Reference::parse("busybox").unwrap().docker_ref(); // docker.io/library/busybox:latest
//! # let layer = b"a layer".to_vec();
//! # let config = format!(r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#, Digest::sha256_of(&layer));
//! # let manifest = format!(r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#, Digest::sha256_of(config.as_bytes()), config.len(), Digest::sha256_of(&layer), layer.len());
//! # let (content_type, manifest_bytes) = ("application/vnd.oci.image.manifest.v1+json", manifest.as_bytes());
//! // 1. The manifest (or index) as the registry sent it; its digest is of these bytes.
//! let doc = parse_document(Some(content_type), manifest_bytes).unwrap();
//! write_blob(&store, manifest_bytes).unwrap();
//! let manifest = match doc {
//!     Document::Manifest(m) => m,
//!     Document::Index(index) => {
//!         // Platform::host().select(&index.value) names the manifest to fetch next, which
//!         // goes through the same steps.
//! #       let _ = Platform::host().select(&index.value);
//!         return;
//!     }
//! };
//! manifest.value.check_image().unwrap();
//! // 2. Each blob streams into a writer that verifies size and digest at commit.
//! for desc in std::iter::once(&manifest.value.config).chain(&manifest.value.layers) {
//!     let mut w = match store.writer(WriterRequest::expecting(desc.digest.clone(), desc.size)) {
//!         Ok(w) => w,
//!         Err(e) if e.category() == berth_image::Category::AlreadyExists => continue,
//!         Err(e) => panic!("{e}"),
//!     };
//! #   let body: &[u8] = if desc.digest == manifest.value.config.digest { config.as_bytes() } else { &layer };
//!     w.write_all(body).unwrap(); // the HTTP body, as it arrives
//!     w.commit(None, None).unwrap(); // a tampered blob fails here and leaves nothing
//! }
//! // 3. The config gives the image ID and the diff IDs to check while unpacking.
//! let config = parse_config_bytes(&store.read_all(&manifest.value.config.digest).unwrap()).unwrap();
//! assert_eq!(config.value.rootfs.diff_ids.len(), manifest.value.layers.len());
//! println!("{} -> image {}", name.familiar(), config.digest);
//! ```
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
