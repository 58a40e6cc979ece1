//! The content store: blobs addressed by digest, verified when written, immutable once visible.
//! Modelled on containerd's `core/content`.
//!
//! The store is split into small traits so that a consumer asks only for what it needs:
//! - [`Provider`] reads: [`info`](Provider::info), [`open`](Provider::open),
//!   [`read_all`](Provider::read_all);
//! - [`Ingester`] writes: [`writer`](Ingester::writer) hands out a [`Writer`];
//! - [`Manager`] administers: [`delete`](Manager::delete), [`walk`](Manager::walk).
//!
//! [`Store`] is all three; [`LocalStore`] implements it on a directory.
//!
//! # Lifecycle of a blob
//!
//! 1. **Ingest.** [`Ingester::writer`] creates a private temporary file in the ingest area.
//!    Bytes written to the [`Writer`] go to that file and through a hasher. Nothing is visible
//!    to readers yet. If the request names the expected digest and the blob already exists, the
//!    writer is refused with [`ContentError::AlreadyExists`], so a puller skips the download.
//! 2. **Commit.** [`Writer::commit`] checks the size and the digest against what the caller
//!    expects (a mismatch is an error and removes the temporary file), syncs the file to disk,
//!    and renames it to its digest, which makes it visible atomically. If another writer
//!    committed the same digest first, this one is discarded and the commit still succeeds
//!    ([`Committed::existed`] says so).
//! 3. **Abort.** Dropping a writer, or [`Writer::abort`], removes the temporary file. A
//!    process killed mid-write leaves its temporary file behind; [`LocalStore::open`] removes
//!    such leftovers (files no live writer holds a lock on).
//! 4. **Read.** Readers get the blob by digest. Reading does not re-verify: the write did.
//!    [`LocalStore::verify`] re-hashes a blob for a consistency check.
//! 5. **Delete.** [`Manager::delete`] removes a blob; deciding which blobs are garbage is the
//!    caller's job (the engine knows which images reference what).
//!
//! ```
//! use berth_image::content::{Ingester, LocalStore, Provider, WriterRequest};
//! use berth_image::Digest;
//! use std::io::Write;
//!
//! # let dir = tempfile::tempdir().unwrap();
//! let store = LocalStore::open(dir.path()).unwrap();
//! let data = b"hello";
//! let digest = Digest::sha256_of(data);
//! let mut w = store.writer(WriterRequest::expecting(digest.clone(), data.len() as u64)).unwrap();
//! w.write_all(data).unwrap();
//! let committed = w.commit(None, None).unwrap();
//! assert_eq!(committed.digest, digest);
//! assert_eq!(store.read_all(&digest).unwrap(), data);
//! ```

mod local;

use std::io::{Read, Seek, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::SystemTime;

pub use local::{LocalStore, Writer};

use crate::digest::{Algorithm, Digest};
use crate::error::Category;

/// A readable, seekable blob.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// What the store knows about a committed blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    /// The blob's digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// When it was committed.
    pub created_at: SystemTime,
}

/// The outcome of a successful [`Writer::commit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The digest of the content.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// True when the blob was already in the store (another writer won); this writer's copy
    /// was discarded.
    pub existed: bool,
}

/// What a new [`Writer`] is for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterRequest {
    /// The digest the content must have, when known (a pull). Picks the hash algorithm, makes
    /// [`Ingester::writer`] refuse with [`ContentError::AlreadyExists`] when the blob is already
    /// there, and is checked at commit.
    pub expected: Option<Digest>,
    /// The size the content must have, when known; checked at commit.
    pub expected_size: Option<u64>,
    /// The hash algorithm when no digest is expected (default sha256).
    pub algorithm: Option<Algorithm>,
}

impl WriterRequest {
    /// A writer for content of unknown digest (hashed with sha256).
    pub fn new() -> WriterRequest {
        WriterRequest::default()
    }

    /// A writer for content that must have `digest` and `size`.
    pub fn expecting(digest: Digest, size: u64) -> WriterRequest {
        WriterRequest {
            expected: Some(digest),
            expected_size: Some(size),
            algorithm: None,
        }
    }
}

/// Reads blobs.
pub trait Provider: Send + Sync {
    /// Size and time of a blob; [`ContentError::NotFound`] when absent.
    fn info(&self, digest: &Digest) -> Result<Info, ContentError>;

    /// Opens a blob for reading.
    fn open(&self, digest: &Digest) -> Result<Box<dyn ReadSeek>, ContentError>;

    /// Reads a whole (small) blob: manifests, configs.
    fn read_all(&self, digest: &Digest) -> Result<Vec<u8>, ContentError>;

    /// Whether a blob exists.
    fn exists(&self, digest: &Digest) -> Result<bool, ContentError> {
        match self.info(digest) {
            Ok(_) => Ok(true),
            Err(ContentError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Writes blobs (see the module doc for the lifecycle).
pub trait Ingester: Send + Sync {
    /// Starts writing a blob.
    fn writer(&self, request: WriterRequest) -> Result<Writer, ContentError>;
}

/// Administers blobs.
pub trait Manager: Send + Sync {
    /// Removes a blob; [`ContentError::NotFound`] when absent.
    fn delete(&self, digest: &Digest) -> Result<(), ContentError>;

    /// Calls `f` with every committed blob, in no particular order, until it returns
    /// `ControlFlow::Break`.
    fn walk(&self, f: &mut dyn FnMut(Info) -> ControlFlow<()>) -> Result<(), ContentError>;
}

/// Writes a small blob held in memory (a manifest, a config) under its sha256 digest, unless
/// the store has it already; returns the digest.
pub fn write_blob<I: Ingester + ?Sized>(store: &I, data: &[u8]) -> Result<Digest, ContentError> {
    let digest = Digest::sha256_of(data);
    let mut w = match store.writer(WriterRequest::expecting(digest.clone(), data.len() as u64)) {
        Ok(w) => w,
        Err(ContentError::AlreadyExists { .. }) => return Ok(digest),
        Err(e) => return Err(e),
    };
    w.write_all(data).map_err(|source| ContentError::Write {
        path: w.ingest_path().to_path_buf(),
        source,
    })?;
    w.commit(None, None)?;
    Ok(digest)
}

/// A whole content store.
pub trait Store: Provider + Ingester + Manager {}
impl<T: Provider + Ingester + Manager> Store for T {}

/// Everything that can go wrong in the content store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The blob is not in the store.
    #[error("content {digest} not found")]
    NotFound {
        /// The blob asked for.
        digest: Digest,
    },
    /// A writer was asked for a blob that is already in the store.
    #[error("content {digest} already exists")]
    AlreadyExists {
        /// The blob.
        digest: Digest,
    },
    /// The content written has another size than expected.
    #[error("unexpected commit size {actual}, expected {expected} (content {digest})")]
    SizeMismatch {
        /// The size expected.
        expected: u64,
        /// The size written.
        actual: u64,
        /// The digest of what was written.
        digest: Digest,
    },
    /// The content written has another digest than expected.
    #[error("unexpected commit digest {actual}, expected {expected}")]
    DigestMismatch {
        /// The digest expected.
        expected: Digest,
        /// The digest of what was written.
        actual: Digest,
    },
    /// The expected digest uses another algorithm than the writer hashes with.
    #[error("cannot verify {expected}: the writer hashes with {writer}")]
    AlgorithmMismatch {
        /// The writer's algorithm.
        writer: Algorithm,
        /// The expected digest.
        expected: Digest,
    },
    /// [`LocalStore::verify`] found a blob whose content does not match its name.
    #[error("content {digest} is corrupt: its data hashes to {actual}")]
    Corrupt {
        /// The blob's name.
        digest: Digest,
        /// What its data hashes to.
        actual: Digest,
    },
    /// Creating a directory of the store failed.
    #[error("failed to create directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Creating the temporary file of a writer failed.
    #[error("failed to create ingest file {path}")]
    CreateIngest {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing or syncing a temporary file failed.
    #[error("failed to write ingest file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Renaming a temporary file to its digest failed.
    #[error("failed to commit {from} as {to}")]
    Rename {
        /// The temporary file.
        from: PathBuf,
        /// The blob path.
        to: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Syncing a directory failed.
    #[error("failed to sync directory {path}")]
    SyncDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Opening, reading or inspecting a blob failed.
    #[error("failed to read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Removing a blob or a temporary file failed.
    #[error("failed to remove {path}")]
    Remove {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Listing a directory of the store failed.
    #[error("failed to list {path}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl ContentError {
    /// The category an API maps to a status code.
    pub fn category(&self) -> Category {
        match self {
            ContentError::NotFound { .. } => Category::NotFound,
            ContentError::AlreadyExists { .. } => Category::AlreadyExists,
            ContentError::SizeMismatch { .. }
            | ContentError::DigestMismatch { .. }
            | ContentError::AlgorithmMismatch { .. }
            | ContentError::Corrupt { .. } => Category::Invalid,
            _ => Category::Other,
        }
    }
}
