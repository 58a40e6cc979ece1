//! Berth's registry client: the wire side of pull and push, per the OCI distribution spec and
//! Docker's token auth spec.
//!
//! This crate owns HTTP(S) to registries, authentication (anonymous, Basic, the Bearer token
//! flow, identity and registry tokens), resolving tags to verified manifests, verified and
//! resuming blob downloads, and blob and manifest uploads. It leaves to others: image types
//! and the content store ([`berth_image`]), orchestration of a pull or push (which blobs, in
//! which order, how many threads: the engine), and credentials storage (the CLI / engine).
//!
//! It is synchronous (blocking I/O on the caller's threads, `ureq` with rustls); a
//! [`Client`] is cheap to clone and share across the threads of a parallel pull.
//!
//! # A pull
//!
//! ```no_run
//! use std::io::Read;
//! use berth_image::{Reference, media_type};
//! use berth_registry::{Client, Credentials, RegistryConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(RegistryConfig::default());
//! let reference = Reference::parse("localhost:5000/tools/busybox:1")?;
//! let repo = client.repository(&reference, Credentials::anonymous());
//! // Tag -> manifest (or index), digest verified against Docker-Content-Digest.
//! let (desc, bytes) = repo.resolve("1")?;
//! assert!(media_type::is_manifest(&desc.media_type) || media_type::is_index(&desc.media_type));
//! // For each layer descriptor of the manifest (parsed with berth_image::manifest):
//! # let layer = desc.clone();
//! let mut blob = repo.fetch_blob(&layer)?.on_progress(|n| eprintln!("{n} bytes"));
//! let mut sink = Vec::new();
//! blob.read_to_end(&mut sink)?; // Err at EOF if size or digest do not match: commit nothing.
//! # Ok(())
//! # }
//! ```
//!
//! # A push
//!
//! For each blob: [`Repository::blob_exists`] (skip), else [`Repository::mount_blob`] from a
//! repository of the same registry that has it, else [`Repository::push_blob`]; then
//! [`Repository::put_manifest`] for each manifest, the index last, under the tag.
//!
//! # Errors
//!
//! One [`Error`] enum, a variant per failing step, with [`Error::kind`] giving the
//! [`ErrorKind`] an API maps to a status. Registry error bodies become docker's messages
//! (`manifest unknown: manifest unknown`). Nothing a server sends can make this crate panic.

mod auth;
mod blob_reader;
mod challenge;
mod client;
mod config;
mod credentials;
mod error;
mod login;
mod push;
mod repository;
mod tls;
mod url;

pub use blob_reader::{BlobError, BlobReader, Progress};
pub use client::Client;
pub use config::RegistryConfig;
pub use credentials::Credentials;
pub use error::{Error, ErrorDetail, ErrorKind, Result, StatusError};
pub use login::{LOGIN_SUCCEEDED, LoginResult, login, server_domain};
pub use repository::{ACCEPT_MANIFESTS, MAX_MANIFEST_SIZE, Repository};
