//! The build context: the request body (a tar, gzip/zstd-compressed or
//! not, sniffed; or a bare Dockerfile, as dockerd accepts) unpacked into
//! `<data-root>/builder/<id>/context`, and paths in it resolved as dockerd
//! resolves them (symbolic links stay inside the context). Work mounts of
//! the build live in `<exec-root>/builder/<id>/`; leftovers of a crash are
//! unmounted and removed when berthd starts ([`remove_leftovers`]).
//!
//! Like dockerd's `removeDockerfile`, the Dockerfile and `.dockerignore`
//! are taken out of the context when `.dockerignore` lists them.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use super::BuildError;

/// An unpacked build context.
#[derive(Debug)]
pub(crate) struct Context {
    /// `<data-root>/builder/<id>`.
    base: PathBuf,
    /// `<exec-root>/builder/<id>`: mount points.
    pub(crate) mounts: PathBuf,
    /// The context's root.
    pub(crate) dir: PathBuf,
}

/// A stream completed at its end with zeros up to a 512-byte block and
/// two empty blocks (what a tar that stops short lacks; a complete one
/// ends before they are read).
struct Padded<R> {
    inner: R,
    seen: u64,
    /// Zeros still to give once `inner` ended.
    tail: Option<u64>,
}

impl<R: Read> Read for Padded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.tail.is_none() {
            let n = self.inner.read(buf)?;
            if n > 0 || buf.is_empty() {
                self.seen += n as u64;
                return Ok(n);
            }
            self.tail = Some((512 - self.seen % 512) % 512 + 1024);
        }
        let left = self.tail.unwrap_or(0);
        let n = (buf.len() as u64).min(left) as usize;
        buf[..n].fill(0);
        self.tail = Some(left - n as u64);
        Ok(n)
    }
}

/// A tar header block, by its checksum (what Go's `tar.Reader` accepts).
fn looks_like_tar(block: &[u8]) -> bool {
    if block.len() < 512 {
        return false;
    }
    if &block[257..262] == b"ustar" {
        return true;
    }
    let stored = std::str::from_utf8(&block[148..156])
        .ok()
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|s| u32::from_str_radix(s, 8).ok());
    let sum: u32 = block[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u32
            }
        })
        .sum();
    stored == Some(sum) && block[0] != 0
}

/// `e: cause: cause…`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

/// A name no other build of this daemon uses.
pub(crate) fn unique() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{n}")
}

impl Context {
    /// Unpacks the request body.
    pub(crate) fn receive(
        engine: &crate::Engine,
        body: impl Read + Send,
    ) -> Result<Context, BuildError> {
        let id = unique();
        let base = engine.config.data_root.join("builder").join(&id);
        let mounts = engine.config.exec_root.join("builder").join(&id);
        let dir = base.join("context");
        for d in [&dir, &mounts] {
            std::fs::create_dir_all(d)
                .map_err(|e| BuildError::io(format!("create {}", d.display()), e))?;
        }
        let ctx = Context { base, mounts, dir };
        if let Err(e) = ctx.unpack(body) {
            ctx.remove();
            return Err(e);
        }
        Ok(ctx)
    }

    fn unpack(&self, body: impl Read + Send) -> Result<(), BuildError> {
        let invalid = |e: std::io::Error| {
            BuildError::Invalid(format!("failed to read the build context: {e}"))
        };
        let mut reader = berth_snapshot::decompress(body).map_err(invalid)?;
        let mut head = Vec::with_capacity(512);
        (&mut reader)
            .take(512)
            .read_to_end(&mut head)
            .map_err(invalid)?;
        if head.is_empty() {
            // No context at all: dockerd answers the same for an empty body.
            return Ok(());
        }
        if !looks_like_tar(&head) {
            // A bare Dockerfile.
            let mut text = head;
            reader.read_to_end(&mut text).map_err(invalid)?;
            let path = self.dir.join("Dockerfile");
            return std::fs::write(&path, text)
                .map_err(|e| BuildError::io(format!("write {}", path.display()), e));
        }
        // The docker CLI's tar of a context with a Dockerfile from outside
        // it ends without its last padding and end blocks; dockerd reads it
        // all the same.
        let stream = Padded {
            inner: std::io::Cursor::new(head).chain(reader),
            seen: 0,
            tail: None,
        };
        let options = berth_snapshot::ApplyOptions {
            mode: berth_snapshot::ApplyMode::Rootfs,
            ..Default::default()
        };
        berth_snapshot::apply_layer(&self.dir, stream, &options).map_err(|e| {
            BuildError::Invalid(format!("failed to read the build context: {}", chain(&e)))
        })?;
        Ok(())
    }

    /// A scratch file of the build (outside the context).
    pub(crate) fn scratch(&self, name: &str) -> PathBuf {
        self.base.join(name)
    }

    /// Opens `path` (relative to the context, `..` and links kept inside).
    pub(crate) fn open(&self, path: &str, flags: OFlags) -> Result<OwnedFd, rustix::io::Errno> {
        open_in(&self.dir, path, flags)
    }

    /// The host path of `path` in the context, links resolved inside it;
    /// `None` if it does not exist.
    pub(crate) fn resolve(&self, path: &str) -> Option<PathBuf> {
        let fd = self.open(path, OFlags::PATH).ok()?;
        std::fs::read_link(crate::containers::fs_view::fd_path(fd.as_fd())).ok()
    }

    /// Reads the Dockerfile (`name`, `Dockerfile` by default, then
    /// `dockerfile`), and takes it and `.dockerignore` out of the context
    /// if `.dockerignore` says so.
    pub(crate) fn dockerfile(&self, name: &str) -> Result<String, BuildError> {
        let name = if name.is_empty() { "Dockerfile" } else { name };
        let read = |n: &str| -> Option<String> {
            let fd = self.open(n, OFlags::RDONLY).ok()?;
            let mut f = std::fs::File::from(fd);
            if !f.metadata().ok()?.is_file() {
                return None;
            }
            let mut text = String::new();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).ok()?;
            text.push_str(&String::from_utf8_lossy(&bytes));
            Some(text)
        };
        let (used, text) = match read(name) {
            Some(t) => (name, t),
            None if name == "Dockerfile" => match read("dockerfile") {
                Some(t) => ("dockerfile", t),
                None => return Err(BuildError::NoDockerfile(name.to_string())),
            },
            None => return Err(BuildError::NoDockerfile(name.to_string())),
        };
        self.remove_ignored(used);
        Ok(text)
    }

    fn remove_ignored(&self, dockerfile: &str) {
        let Some(ignore) = self.resolve(".dockerignore") else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(&ignore) else {
            return;
        };
        let Ok(patterns) = berth_build::dockerignore::read(&text) else {
            return;
        };
        for file in [".dockerignore", dockerfile] {
            if berth_build::dockerignore::excluded(file, &patterns)
                && let Some(path) = self.resolve(file)
                && path.starts_with(&self.dir)
                && let Err(e) = std::fs::remove_file(&path)
            {
                tracing::warn!("build context: removing {file}: {e}");
            }
        }
    }

    /// Removes the context and the mount directory (mounts are gone by
    /// then).
    pub(crate) fn remove(&self) {
        if let Err(e) = std::fs::remove_dir_all(&self.base)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("removing the build context {}: {e}", self.base.display());
        }
        remove_mount_dirs(&self.mounts);
    }
}

/// Opens `path` under `root` with links resolved inside `root`.
pub(crate) fn open_in(
    root: &Path,
    path: &str,
    flags: OFlags,
) -> Result<OwnedFd, rustix::io::Errno> {
    let root_fd = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    crate::containers::fs_view::open_beneath(root_fd.as_fd(), path, flags)
}

/// Unmounts what is left in a build's mount directory and removes it
/// (never recursively: a directory still mounted stays).
fn remove_mount_dirs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            let _ = rustix::mount::unmount(&p, rustix::mount::UnmountFlags::DETACH);
            if let Err(e) = std::fs::remove_dir(&p) {
                tracing::warn!("removing the build mount point {}: {e}", p.display());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// At start: what builds cut short by a crash left behind.
pub(crate) fn remove_leftovers(data_root: &Path, exec_root: &Path) {
    if let Ok(entries) = std::fs::read_dir(exec_root.join("builder")) {
        for e in entries.flatten() {
            remove_mount_dirs(&e.path());
        }
    }
    let contexts = data_root.join("builder");
    if let Ok(entries) = std::fs::read_dir(&contexts) {
        for e in entries.flatten() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tars_are_completed() {
        let mut p = Padded {
            inner: &[1u8; 700][..],
            seen: 0,
            tail: None,
        };
        let mut out = Vec::new();
        p.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 1024 + 1024);
        assert!(out[700..].iter().all(|&b| b == 0));
    }

    #[test]
    fn tar_sniffing() {
        let mut block = vec![0u8; 512];
        block[..4].copy_from_slice(b"file");
        block[257..263].copy_from_slice(b"ustar\0");
        assert!(looks_like_tar(&block));
        assert!(!looks_like_tar(b"FROM busybox\nRUN true\n"));
        let mut text = b"FROM busybox\n".to_vec();
        text.resize(600, b' ');
        assert!(!looks_like_tar(&text));
    }
}
