//! The pid file: written at start, locked (flock) for the daemon's whole
//! life so that a second berthd on the same file refuses to start, removed
//! at exit. A file left by a daemon that died is unlocked and simply
//! reused.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rustix::fs::{FlockOperation, flock};

#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    _file: File,
}

impl PidFile {
    pub fn create(path: &Path) -> anyhow::Result<PidFile> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(path)
            .with_context(|| format!("opening the pid file {}", path.display()))?;
        if let Err(e) = flock(&file, FlockOperation::NonBlockingLockExclusive) {
            if e == rustix::io::Errno::WOULDBLOCK {
                let pid = std::fs::read_to_string(path).unwrap_or_default();
                bail!(
                    "pid file found, ensure berthd is not running or delete {} (held by pid {})",
                    path.display(),
                    pid.trim()
                );
            }
            return Err(std::io::Error::from(e))
                .with_context(|| format!("locking {}", path.display()));
        }
        file.set_len(0)
            .with_context(|| format!("truncating {}", path.display()))?;
        write!(file, "{}", std::process::id())
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(PidFile {
            path: path.to_path_buf(),
            _file: file,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_the_file_goes_at_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/berthd.pid");
        let first = PidFile::create(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            std::process::id().to_string()
        );
        let e = PidFile::create(&path).unwrap_err().to_string();
        assert!(e.starts_with("pid file found"), "{e}");
        drop(first);
        assert!(!path.exists());
        // A stale file (no lock held) is taken over.
        std::fs::write(&path, "999999").unwrap();
        let _again = PidFile::create(&path).unwrap();
    }
}
