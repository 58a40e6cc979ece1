//! The on-disk cache of compiled programs, so a container start does not run
//! libseccomp over Docker's ~350-syscall, 3-architecture default profile.
//!
//! Layout (the directory is created mode 0700):
//!
//! ```text
//! <dir>/<key>.bpf                    Program::to_bytes(), mode 0600
//! <dir>/.<key>.<pid>.<n>.tmp         a write in progress (renamed over <key>.bpf)
//! ```
//!
//! `<key>` is the hex sha256 of: a domain string, this crate's
//! [`FORMAT_VERSION`], the linked libseccomp's version, the target
//! architecture, and the profile's canonical JSON (serde's serialization of
//! [`LinuxSeccomp`], whose field order is fixed).
//!
//! Writes are atomic (temp file + rename), so readers see a whole file or
//! none. There is no fsync: a file torn by a crash fails the length and
//! sha256 checks of [`Program::from_bytes`] and is recompiled and replaced,
//! never trusted. Temp files left by a process that died are removed on the
//! next miss. Entries are never evicted (a host sees a handful of profiles).

use std::{
    fmt::Write as _,
    fs::{self, DirBuilder, OpenOptions},
    io::{self, Read, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use oci_spec::runtime::LinuxSeccomp;
use sha2::{Digest, Sha256};

use crate::program::{self, DecodeError, FORMAT_VERSION, MAX_ENCODED_LEN, Program};

const SUFFIX: &str = ".bpf";
const TMP_SUFFIX: &str = ".tmp";

/// A directory of compiled programs. Cheap to create; holds no open files.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// How [`Cache::load_or_compile_with_status`] obtained the program.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheStatus {
    /// Read from the cache.
    Hit,
    /// Not cached: compiled and stored.
    Miss,
    /// Cached but unusable (truncated, corrupted, other format): compiled
    /// and replaced.
    Replaced(DecodeError),
}

/// The cache directory or a file in it could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The profile could not be serialized for its key.
    #[error("serialize the seccomp profile for its cache key: {source}")]
    Key {
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// The directory could not be created.
    #[error("create seccomp cache directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// An entry exists but could not be read.
    #[error("read seccomp cache entry {path}: {source}")]
    Read {
        /// The entry.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The temp file could not be written.
    #[error("write seccomp cache file {path}: {source}")]
    Write {
        /// The temp file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The temp file could not be renamed into place.
    #[error("rename {from} to {to}: {source}")]
    Rename {
        /// The temp file.
        from: PathBuf,
        /// The entry.
        to: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl Cache {
    /// A cache in `dir`; nothing is touched until the first lookup.
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the program for `s` is (or would be) stored.
    pub fn entry_path(&self, s: &LinuxSeccomp) -> crate::Result<PathBuf> {
        Ok(self.dir.join(format!("{}{SUFFIX}", key(s)?)))
    }

    /// The cached program for `s`, or compiles (validating first) and stores
    /// it. A cache entry that fails its checks is recompiled and replaced.
    pub fn load_or_compile(&self, s: &LinuxSeccomp) -> crate::Result<Program> {
        self.load_or_compile_with_status(s).map(|(p, _)| p)
    }

    /// [`load_or_compile`](Cache::load_or_compile), also saying whether the
    /// cache was hit.
    pub fn load_or_compile_with_status(
        &self,
        s: &LinuxSeccomp,
    ) -> crate::Result<(Program, CacheStatus)> {
        let path = self.entry_path(s)?;
        let status = match read_entry(&path)? {
            None => CacheStatus::Miss,
            Some(bytes) => match program::decode(&bytes) {
                Ok(p) => return Ok((p, CacheStatus::Hit)),
                Err(e) => CacheStatus::Replaced(e),
            },
        };
        let p = Program::compile(s)?;
        self.store(&path, &p)?;
        Ok((p, status))
    }

    fn store(&self, path: &Path, p: &Program) -> Result<(), CacheError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|source| CacheError::CreateDir {
                path: self.dir.clone(),
                source,
            })?;
        self.remove_stale_temp_files();

        static SEQ: AtomicU64 = AtomicU64::new(0);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self.dir.join(format!(
            ".{name}.{}.{}{TMP_SUFFIX}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| f.write_all(&p.to_bytes()));
        if let Err(source) = written {
            let _ = fs::remove_file(&tmp);
            return Err(CacheError::Write { path: tmp, source });
        }
        if let Err(source) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(CacheError::Rename {
                from: tmp,
                to: path.to_path_buf(),
                source,
            });
        }
        Ok(())
    }

    /// Best effort: removes `.*.<pid>.<n>.tmp` files whose writer is gone.
    fn remove_stale_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(stem) = name.strip_suffix(TMP_SUFFIX) else {
                continue;
            };
            let mut parts = stem.rsplit('.');
            let _seq = parts.next();
            let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// The entry's bytes, `None` if there is none. Reads at most one byte more
/// than the largest valid encoding, so a huge file is not slurped.
fn read_entry(path: &Path) -> Result<Option<Vec<u8>>, CacheError> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CacheError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut bytes = Vec::with_capacity(MAX_ENCODED_LEN.min(64 * 1024));
    file.take(MAX_ENCODED_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| CacheError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Some(bytes))
}

/// The hex sha256 naming `s`'s entry (see the module documentation).
fn key(s: &LinuxSeccomp) -> Result<String, CacheError> {
    let json = serde_json::to_vec(s).map_err(|source| CacheError::Key { source })?;
    let mut h = Sha256::new();
    h.update(b"berth-seccomp-cache\0");
    h.update(FORMAT_VERSION.to_le_bytes());
    if let Ok(v) = libseccomp::ScmpVersion::current() {
        for n in [v.major, v.minor, v.micro] {
            h.update(n.to_le_bytes());
        }
    }
    h.update(std::env::consts::ARCH.as_bytes());
    h.update(b"\0");
    h.update(&json);
    let mut hex = String::with_capacity(64);
    for b in h.finalize() {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{b:02x}");
    }
    Ok(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(default: &str) -> LinuxSeccomp {
        serde_json::from_str(&format!(r#"{{"defaultAction":"{default}"}}"#)).unwrap()
    }

    #[test]
    fn key_depends_on_the_profile_only() {
        let a = key(&profile("SCMP_ACT_ERRNO")).unwrap();
        assert_eq!(a.len(), 64);
        assert_eq!(a, key(&profile("SCMP_ACT_ERRNO")).unwrap());
        assert_ne!(a, key(&profile("SCMP_ACT_KILL")).unwrap());
    }
}
