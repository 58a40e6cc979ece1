//! [`LocalStore`]: the content store on a local directory.
//!
//! On-disk layout:
//! ```text
//! <root>/blobs/sha256/<hex>      committed blobs, read-only files (0444), named by digest
//! <root>/blobs/sha512/<hex>
//! <root>/ingest/<name>           temporary files of writers in progress, each held under an
//!                                exclusive flock(2) by its writer for as long as it lives
//! ```
//! A blob becomes visible by `renameat2(RENAME_NOREPLACE)` of its fsynced temporary file into
//! `blobs/<alg>/` (falling back to link + unlink where the filesystem lacks the flag), followed
//! by an fsync of that directory. So after a crash a blob is either complete or absent; what a
//! crash can leave is a temporary file, which [`LocalStore::open`] removes when no live writer
//! holds its lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::{FlockOperation, RenameFlags};
use rustix::io::Errno;

use super::{Committed, ContentError, Info, Ingester, Manager, Provider, ReadSeek, WriterRequest};
use crate::digest::{Algorithm, Digest, Digester};

const ALGORITHMS: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Sha512];
const WRITE_BUFFER: usize = 256 * 1024;

/// A content store in a directory (see the module doc for the layout).
#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// Opens (creating if needed) the store at `root`, and removes temporary files left by
    /// writers that died.
    pub fn open(root: impl AsRef<Path>) -> Result<LocalStore, ContentError> {
        let root = root.as_ref().to_path_buf();
        let store = LocalStore { root };
        for alg in ALGORITHMS {
            let dir = store.blob_dir(alg);
            fs::create_dir_all(&dir)
                .map_err(|source| ContentError::CreateDir { path: dir, source })?;
        }
        let ingest = store.ingest_dir();
        fs::create_dir_all(&ingest).map_err(|source| ContentError::CreateDir {
            path: ingest.clone(),
            source,
        })?;
        store.clean_ingest()?;
        Ok(store)
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` lives (whether or not it exists).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blob_dir(digest.algorithm()).join(digest.hex())
    }

    /// The directory of writers' temporary files.
    pub fn ingest_dir(&self) -> PathBuf {
        self.root.join("ingest")
    }

    fn blob_dir(&self, alg: Algorithm) -> PathBuf {
        self.root.join("blobs").join(alg.as_str())
    }

    /// Re-hashes a blob and checks that it matches its digest ([`ContentError::Corrupt`] if
    /// not). For consistency checks; normal reads never do this.
    pub fn verify(&self, digest: &Digest) -> Result<(), ContentError> {
        let path = self.blob_path(digest);
        let mut file = open_blob(&path, digest)?;
        let mut digester = Digester::new(digest.algorithm());
        io::copy(&mut file, &mut digester).map_err(|source| ContentError::Read {
            path: path.clone(),
            source,
        })?;
        let actual = digester.finalize();
        if &actual != digest {
            return Err(ContentError::Corrupt {
                digest: digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// Removes every file of the ingest directory that no live writer holds locked.
    fn clean_ingest(&self) -> Result<(), ContentError> {
        let dir = self.ingest_dir();
        let entries = fs::read_dir(&dir).map_err(|source| ContentError::ReadDir {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| ContentError::ReadDir {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            let file = match File::open(&path) {
                Ok(f) => f,
                // Removed by its writer meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(ContentError::Read { path, source }),
            };
            match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                // A live writer (in this or another process) owns it.
                Err(Errno::WOULDBLOCK) => continue,
                Err(e) => {
                    return Err(ContentError::Read {
                        path,
                        source: e.into(),
                    });
                }
            }
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(ContentError::Remove { path, source }),
            }
        }
        Ok(())
    }
}

fn open_blob(path: &Path, digest: &Digest) -> Result<File, ContentError> {
    File::open(path).map_err(|source| not_found_or(source, digest, path))
}

fn not_found_or(source: io::Error, digest: &Digest, path: &Path) -> ContentError {
    if source.kind() == io::ErrorKind::NotFound {
        ContentError::NotFound {
            digest: digest.clone(),
        }
    } else {
        ContentError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn info_of(meta: &fs::Metadata, digest: &Digest) -> Info {
    Info {
        digest: digest.clone(),
        size: meta.len(),
        created_at: meta.modified().unwrap_or(UNIX_EPOCH),
    }
}

impl Provider for LocalStore {
    fn info(&self, digest: &Digest) -> Result<Info, ContentError> {
        let path = self.blob_path(digest);
        let meta = fs::metadata(&path).map_err(|e| not_found_or(e, digest, &path))?;
        Ok(info_of(&meta, digest))
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn ReadSeek>, ContentError> {
        Ok(Box::new(open_blob(&self.blob_path(digest), digest)?))
    }

    fn read_all(&self, digest: &Digest) -> Result<Vec<u8>, ContentError> {
        let path = self.blob_path(digest);
        let mut file = open_blob(&path, digest)?;
        let mut out = Vec::new();
        file.read_to_end(&mut out)
            .map_err(|source| ContentError::Read { path, source })?;
        Ok(out)
    }
}

impl Ingester for LocalStore {
    fn writer(&self, request: WriterRequest) -> Result<Writer, ContentError> {
        if let Some(expected) = &request.expected
            && self.blob_path(expected).exists()
        {
            return Err(ContentError::AlreadyExists {
                digest: expected.clone(),
            });
        }
        let algorithm = match &request.expected {
            Some(d) => d.algorithm(),
            None => request.algorithm.unwrap_or(Algorithm::Sha256),
        };
        let path = self.ingest_dir().join(temp_name(request.expected.as_ref()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o444)
            .open(&path)
            .map_err(|source| ContentError::CreateIngest {
                path: path.clone(),
                source,
            })?;
        // The lock tells `clean_ingest` (of any process) that this file is alive. Nobody else
        // knows the name yet, so it cannot be held by anyone else.
        if let Err(e) = rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            let _ = fs::remove_file(&path);
            return Err(ContentError::CreateIngest {
                path,
                source: e.into(),
            });
        }
        Ok(Writer {
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            path,
            blob_dir: self.blob_dir(algorithm),
            digester: Some(Digester::new(algorithm)),
            written: 0,
            expected: request.expected,
            expected_size: request.expected_size,
        })
    }
}

impl Manager for LocalStore {
    fn delete(&self, digest: &Digest) -> Result<(), ContentError> {
        let path = self.blob_path(digest);
        fs::remove_file(&path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                ContentError::NotFound {
                    digest: digest.clone(),
                }
            } else {
                ContentError::Remove { path, source }
            }
        })
    }

    fn walk(&self, f: &mut dyn FnMut(Info) -> ControlFlow<()>) -> Result<(), ContentError> {
        for alg in ALGORITHMS {
            let dir = self.blob_dir(alg);
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(ContentError::ReadDir { path: dir, source }),
            };
            for entry in entries {
                let entry = entry.map_err(|source| ContentError::ReadDir {
                    path: dir.clone(),
                    source,
                })?;
                // Names that are not valid digests are not blobs of this store.
                let Some(digest) = entry
                    .file_name()
                    .to_str()
                    .and_then(|hex| Digest::from_parts(alg, hex).ok())
                else {
                    continue;
                };
                let meta = match entry.metadata() {
                    Ok(m) if m.is_file() => m,
                    Ok(_) => continue,
                    // Deleted while walking.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        return Err(ContentError::Read {
                            path: entry.path(),
                            source,
                        });
                    }
                };
                if f(info_of(&meta, &digest)).is_break() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// An open blob writer. Bytes written are hashed and go to a temporary file; see
/// [`commit`](Writer::commit). Dropping it without committing removes the temporary file.
#[derive(Debug)]
pub struct Writer {
    file: Option<BufWriter<File>>,
    path: PathBuf,
    blob_dir: PathBuf,
    digester: Option<Digester>,
    written: u64,
    expected: Option<Digest>,
    expected_size: Option<u64>,
}

impl Writer {
    /// How many bytes have been written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The temporary file (for diagnostics).
    pub fn ingest_path(&self) -> &Path {
        &self.path
    }

    /// Verifies and publishes the blob.
    ///
    /// The size must equal `expected_size` and the request's expected size, the digest must
    /// equal `expected_digest` and the request's expected digest (those given). On a mismatch
    /// the temporary file is removed and the error says what differed. Otherwise the file is
    /// synced, made visible under its digest, and the directory synced. If the blob is already
    /// there (another writer committed it first), this copy is discarded and the result says
    /// `existed`.
    pub fn commit(
        mut self,
        expected_size: Option<u64>,
        expected_digest: Option<&Digest>,
    ) -> Result<Committed, ContentError> {
        let result = self.commit_inner(expected_size, expected_digest);
        if result.is_err() || result.as_ref().is_ok_and(|c| c.existed) {
            // Best effort: the error being reported matters more than a failed cleanup, and a
            // leftover is removed by the next open.
            let _ = fs::remove_file(&self.path);
        }
        self.file = None;
        result
    }

    fn commit_inner(
        &mut self,
        expected_size: Option<u64>,
        expected_digest: Option<&Digest>,
    ) -> Result<Committed, ContentError> {
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ContentError::Write { path, source }
        };
        let file = self
            .file
            .take()
            .ok_or_else(|| ContentError::Write {
                path: self.path.clone(),
                source: io::Error::other("writer already finished"),
            })?
            .into_inner()
            .map_err(|e| ContentError::Write {
                path: self.path.clone(),
                source: e.into_error(),
            })?;
        let digester = self.digester.take().ok_or_else(|| ContentError::Write {
            path: self.path.clone(),
            source: io::Error::other("writer already finished"),
        })?;
        let algorithm = digester.algorithm();
        let actual = digester.finalize();
        for want in [self.expected.as_ref(), expected_digest]
            .into_iter()
            .flatten()
        {
            if want.algorithm() != algorithm {
                return Err(ContentError::AlgorithmMismatch {
                    writer: algorithm,
                    expected: want.clone(),
                });
            }
        }
        for want in [self.expected_size, expected_size].into_iter().flatten() {
            if want != self.written {
                return Err(ContentError::SizeMismatch {
                    expected: want,
                    actual: self.written,
                    digest: actual,
                });
            }
        }
        for want in [self.expected.as_ref(), expected_digest]
            .into_iter()
            .flatten()
        {
            if want != &actual {
                return Err(ContentError::DigestMismatch {
                    expected: want.clone(),
                    actual,
                });
            }
        }
        file.sync_data().map_err(write_err(&self.path))?;
        let target = self.blob_dir.join(actual.hex());
        let existed = match publish(&self.path, &target) {
            Ok(()) => false,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => true,
            Err(source) => {
                return Err(ContentError::Rename {
                    from: self.path.clone(),
                    to: target,
                    source,
                });
            }
        };
        if !existed {
            sync_dir(&self.blob_dir)?;
        }
        drop(file);
        Ok(Committed {
            digest: actual,
            size: self.written,
            existed,
        })
    }

    /// Discards the content and removes the temporary file.
    pub fn abort(mut self) -> Result<(), ContentError> {
        self.file = None;
        fs::remove_file(&self.path).map_err(|source| ContentError::Remove {
            path: self.path.clone(),
            source,
        })
    }
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (Some(file), Some(digester)) = (self.file.as_mut(), self.digester.as_mut()) else {
            return Err(io::Error::other("writer already finished"));
        };
        let n = file.write(buf)?;
        digester.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Not committed (commit and abort clear `file`): remove the temporary file. Errors
        // cannot be reported from drop; a leftover is removed by the next open.
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Moves `from` to `to` unless `to` exists (`AlreadyExists` then).
fn publish(from: &Path, to: &Path) -> io::Result<()> {
    match rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        RenameFlags::NOREPLACE,
    ) {
        Ok(()) => Ok(()),
        // Filesystems without RENAME_NOREPLACE: link(2) fails if the target exists too.
        Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => {
            fs::hard_link(from, to)?;
            fs::remove_file(from)
        }
        Err(e) => Err(e.into()),
    }
}

fn sync_dir(dir: &Path) -> Result<(), ContentError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| ContentError::SyncDir {
            path: dir.to_path_buf(),
            source,
        })
}

fn temp_name(expected: Option<&Digest>) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let what = expected.map_or("unknown", |d| &d.hex()[..12]);
    format!("{what}-{}-{n}-{nanos:08x}", std::process::id())
}
