//! `docker cp`: `HEAD`/`GET`/`PUT /containers/{id}/archive?path=…` — the
//! stat of a path in a container, a tar of it, and extracting a tar into a
//! directory of it. Running and stopped containers alike, through a
//! [`FsView`] of the container's root with its binds and volumes.
//!
//! Paths follow dockerd's `ResolvePath`: the path is made absolute and
//! cleaned (a trailing `/` or `/.` kept), its directory is resolved inside
//! the container (symbolic links followed, in the container's root) and
//! its last element is not followed unless the path ends in `/` or `/.`.
//! Archives are written by the snapshot crate's tree writer and extracted
//! by its layer applier, which resolves every member inside the
//! destination and never writes outside it. While a running container's
//! files are archived it is frozen (the tree walk goes by path; a frozen
//! container cannot swap a directory for a link under it).

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use rustix::fs::OFlags;
use rustix::io::Errno;

use super::fs_view::{FsView, fd_path};
use super::{ContainerError, ContainerRecord, Status};

/// What `X-Docker-Container-Path-Stat` carries (moby `PathStat`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    /// Go's `os.FileMode`: permission bits and type bits (`1<<31` dir,
    /// `1<<27` symlink …).
    pub mode: u32,
    /// RFC 3339 with nanoseconds.
    pub mtime: String,
    /// For a symbolic link: its target resolved in the container, as an
    /// absolute container path.
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

/// What `PUT …/archive` asks.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Refuse to replace a directory with a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Give the files the container user's uid and gid (`docker cp -a`).
    pub copy_uid_gid: bool,
}

/// A container path made absolute and cleaned as dockerd does (`..` stops
/// at the root), with a trailing `/` or `/.` kept.
fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if out != "/" {
        if path.ends_with("/.") {
            out.push_str("/.");
        } else if path.ends_with('/') {
            out.push('/');
        }
    }
    out
}

/// Go's `filepath.Split`: everything up to the last `/`, and the rest.
fn split(abs: &str) -> (&str, &str) {
    match abs.rfind('/') {
        Some(i) => (&abs[..=i], &abs[i + 1..]),
        None => ("", abs),
    }
}

/// Go's `filepath.Base`.
fn base(abs: &str) -> String {
    let trimmed = abs.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Go's `os.FileMode` of a `st_mode`.
fn go_file_mode(mode: u32) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    let mut out = mode & 0o777;
    out |= match mode & 0o170000 {
        0o040000 => DIR,
        0o120000 => SYMLINK,
        0o060000 => DEVICE,
        0o020000 => DEVICE | CHAR_DEVICE,
        0o010000 => NAMED_PIPE,
        0o140000 => SOCKET,
        _ => 0,
    };
    if mode & 0o4000 != 0 {
        out |= SETUID;
    }
    if mode & 0o2000 != 0 {
        out |= SETGID;
    }
    if mode & 0o1000 != 0 {
        out |= STICKY;
    }
    out
}

/// A path located in a view: the directory it is in (open) and its last
/// element (`None`: the directory itself).
struct Located {
    dir: OwnedFd,
    last: Option<String>,
    abs: String,
    meta: std::fs::Metadata,
}

impl Located {
    /// A path the kernel resolves to exactly this file without following
    /// it: the directory's fd, then the name (or `.`).
    fn path(&self) -> std::path::PathBuf {
        fd_path(self.dir.as_fd()).join(self.last.as_deref().unwrap_or("."))
    }
}

/// Freezes a running container for as long as it lives.
pub(crate) struct Frozen(Option<Arc<berth_shim::Client>>);

impl Drop for Frozen {
    fn drop(&mut self) {
        if let Some(shim) = self.0.take()
            && let Err(e) = shim.resume()
        {
            tracing::warn!("resuming a container frozen for a copy: {e}");
        }
    }
}

impl crate::Engine {
    /// Freezes `record` while the result lives, if it is running.
    pub(crate) fn freeze(&self, record: &ContainerRecord) -> Frozen {
        if record.state.status != Status::Running {
            return Frozen(None);
        }
        let shim = self
            .shims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&record.id)
            .cloned();
        match shim {
            Some(shim) => match shim.pause() {
                Ok(()) => Frozen(Some(shim)),
                Err(e) => {
                    tracing::warn!("container {}: freezing for a copy: {e}", record.id);
                    Frozen(None)
                }
            },
            None => Frozen(None),
        }
    }

    /// Runs `f` with a view of container `name` (with its volumes), holding
    /// its operation lock.
    pub(crate) fn with_container_view<T>(
        &self,
        name: &str,
        volumes: bool,
        f: impl FnOnce(&ContainerRecord, &FsView) -> Result<T, ContainerError>,
    ) -> Result<T, ContainerError> {
        let id = super::resolve(&self.containers.lock(), name)?;
        let lock = self.container_lock(&id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        let record = self.container(&id)?;
        if matches!(record.state.status, Status::Removing | Status::Dead) {
            return Err(ContainerError::Conflict(format!(
                "container {} is marked for removal",
                record.id
            )));
        }
        let view = FsView::open(self, &record, volumes)?;
        f(&record, &view)
    }

    /// `path` in `view`, its last element not followed unless `path`
    /// ends in `/` or `/.`.
    fn locate(view: &FsView, name: &str, path: &str) -> Result<Located, ContainerError> {
        let abs = clean_path(path);
        let not_found = || ContainerError::PathNotFound {
            path: path.to_string(),
            container: name.to_string(),
        };
        let (dir, last) = split(&abs);
        let dir = view
            .open_in_root(dir, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|e| match e {
                Errno::NOENT | Errno::NOTDIR | Errno::LOOP => not_found(),
                e => ContainerError::io(format!("resolve {path} in the container"), e.into()),
            })?;
        let last = (!last.is_empty() && last != ".").then(|| last.to_string());
        let at = fd_path(dir.as_fd()).join(last.as_deref().unwrap_or("."));
        let meta = std::fs::symlink_metadata(&at).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound
                || e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error())
            {
                not_found()
            } else {
                ContainerError::io(format!("stat {path} in the container"), e)
            }
        })?;
        Ok(Located {
            dir,
            last,
            abs,
            meta,
        })
    }

    fn path_stat(view: &FsView, at: &Located) -> PathStat {
        let meta = &at.meta;
        let link_target = if meta.file_type().is_symlink() {
            // Fully resolved in the container; a dangling link shows its
            // text.
            view.open_in_root(at.abs.trim_end_matches('/'), OFlags::PATH)
                .ok()
                .and_then(|fd| view.container_path_of(fd.as_fd()))
                .or_else(|| {
                    std::fs::read_link(at.path())
                        .ok()
                        .map(|t| t.display().to_string())
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        PathStat {
            name: base(&at.abs),
            size: meta.size() as i64,
            mode: go_file_mode(meta.mode()),
            mtime: crate::time::format_rfc3339_nanos(crate::time::from_unix(
                meta.mtime(),
                meta.mtime_nsec() as u32,
            )),
            link_target,
        }
    }

    /// `HEAD /containers/{id}/archive?path=`.
    pub fn stat_container_path(&self, name: &str, path: &str) -> Result<PathStat, ContainerError> {
        self.with_container_view(name, true, |_, view| {
            let at = Self::locate(view, name, path)?;
            Ok(Self::path_stat(view, &at))
        })
    }

    /// `GET /containers/{id}/archive?path=`: calls `open` with the stat
    /// once the path is found, then writes the tar into what it returns.
    pub fn archive_container_path<W: Write>(
        &self,
        name: &str,
        path: &str,
        open: impl FnOnce(&PathStat) -> W,
    ) -> Result<(), ContainerError> {
        self.with_container_view(name, true, |record, view| {
            let _frozen = self.freeze(record);
            let at = Self::locate(view, name, path)?;
            let stat = Self::path_stat(view, &at);
            let mut out = open(&stat);
            let member = if stat.name == "/" { "." } else { &stat.name };
            berth_snapshot::write_tree(&at.path(), member.as_bytes(), &mut out)
                .map_err(ContainerError::Archive)?;
            out.flush()
                .map_err(|e| ContainerError::Archive(berth_snapshot::DiffError::Write(e)))
        })
    }

    /// `PUT /containers/{id}/archive?path=`: extracts `tar` (plain or
    /// compressed) into the directory `path` of the container.
    pub fn extract_to_container(
        &self,
        name: &str,
        path: &str,
        options: &ExtractOptions,
        tar: impl Read + Send,
    ) -> Result<(), ContainerError> {
        self.with_container_view(name, true, |record, view| {
            let not_found = || ContainerError::PathNotFound {
                path: path.to_string(),
                container: name.to_string(),
            };
            // Unlike stat, the last element is followed: extracting to a
            // link to a directory extracts into that directory.
            let dest = view
                .open_in_root(&clean_path(path), OFlags::PATH)
                .map_err(|e| match e {
                    Errno::NOENT | Errno::NOTDIR | Errno::LOOP => not_found(),
                    e => ContainerError::io(format!("resolve {path} in the container"), e.into()),
                })?;
            let st = rustix::fs::fstat(&dest)
                .map_err(|e| ContainerError::io(format!("stat {path}"), e.into()))?;
            if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Directory {
                return Err(ContainerError::invalid(
                    "extraction point is not a directory",
                ));
            }
            let read_only = rustix::fs::fstatvfs(&dest)
                .map(|s| s.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
                .unwrap_or(false);
            if read_only {
                let mnt = |fd: std::os::fd::BorrowedFd<'_>| {
                    rustix::fs::statx(
                        fd,
                        "",
                        rustix::fs::AtFlags::EMPTY_PATH,
                        rustix::fs::StatxFlags::MNT_ID,
                    )
                    .map(|s| s.stx_mnt_id)
                    .ok()
                };
                let in_volume = mnt(dest.as_fd()) != mnt(view.root());
                return Err(ContainerError::Invalid(if in_volume {
                    "mounted volume is marked read-only".into()
                } else {
                    "container rootfs is marked read-only".into()
                }));
            }
            let owner = if options.copy_uid_gid {
                let user = super::user::resolve(view.dir(), &record.config.user, &[])?;
                Some((user.uid, user.gid))
            } else {
                None
            };
            let opts = berth_snapshot::ApplyOptions {
                mode: berth_snapshot::ApplyMode::Rootfs,
                no_overwrite_dir_non_dir: options.no_overwrite_dir_non_dir,
                owner,
                ..Default::default()
            };
            let tar = berth_snapshot::decompress(tar)
                .map_err(|e| ContainerError::invalid(format!("reading the archive: {e}")))?;
            berth_snapshot::apply_layer(&fd_path(dest.as_fd()), tar, &opts)
                .map_err(ContainerError::Extract)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_dockerd_resolves_them() {
        assert_eq!(clean_path("etc/../x"), "/x");
        assert_eq!(clean_path("/../../etc/"), "/etc/");
        assert_eq!(clean_path("/etc/."), "/etc/.");
        assert_eq!(clean_path("/"), "/");
        assert_eq!(clean_path(""), "/");
        assert_eq!(split("/etc/passwd"), ("/etc/", "passwd"));
        assert_eq!(split("/etc/."), ("/etc/", "."));
        assert_eq!(base("/etc/"), "etc");
        assert_eq!(base("/etc/."), ".");
        assert_eq!(base("/"), "/");
    }

    #[test]
    fn go_file_modes() {
        assert_eq!(go_file_mode(0o040755), (1 << 31) | 0o755);
        assert_eq!(go_file_mode(0o120777), (1 << 27) | 0o777);
        assert_eq!(go_file_mode(0o100644), 0o644);
        assert_eq!(go_file_mode(0o104755), (1 << 23) | 0o755);
    }
}
