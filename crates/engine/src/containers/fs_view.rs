//! A private view of a container's filesystem for `docker cp` and
//! `docker export`, mounted under the container's run directory
//! (`<exec-root>/containers/<id>/fsview-<n>`) for one operation and
//! unmounted when dropped:
//!
//! - the root: the container's mounted root (while it runs) bind-mounted
//!   there, or for a stopped container its snapshot mounted there (the container's
//!   operation lock keeps it from starting meanwhile); read-only when the
//!   container's root is (`--read-only`);
//! - optionally its binds and volumes at their destinations, read-only
//!   where the container has them so (tmpfs mounts live only in the
//!   container's namespace and are not shown).
//!
//! Every lookup of a container path goes through [`FsView::open_in_root`]
//! (`openat2` with `RESOLVE_IN_ROOT`): symbolic links, `..` and absolute
//! targets resolve as if the view were `/`, so no path reaches outside it;
//! volume destinations are found the same way and mounted onto the file
//! descriptor (`/proc/self/fd/N`), never onto a path a container could have
//! swapped for a link. The view's mounts are made private so that nothing
//! mounted in it propagates to other namespaces.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use super::{ContainerError, ContainerRecord};

/// A mounted view; unmounted and removed on drop.
#[derive(Debug)]
pub(crate) struct FsView {
    dir: PathBuf,
    root: Option<OwnedFd>,
}

/// The `/proc/self/fd/N` path of `fd`: how the kernel reaches exactly that
/// file, whatever happened to its path since.
pub(crate) fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn mount_err(context: String) -> impl FnOnce(Errno) -> ContainerError {
    move |e| ContainerError::io(context, e.into())
}

impl FsView {
    /// Mounts the view of `record` (whose operation lock the caller
    /// holds), with its binds and volumes when `volumes`.
    pub(crate) fn open(
        engine: &crate::Engine,
        record: &ContainerRecord,
        volumes: bool,
    ) -> Result<FsView, ContainerError> {
        let paths = engine.container_paths(&record.id);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = paths.run.join(format!("fsview-{nanos}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| ContainerError::io(format!("create {}", dir.display()), e))?;
        let mut view = FsView { dir, root: None };
        let rootfs = paths.rootfs();
        if super::mounts::is_mountpoint(&rootfs) {
            rustix::mount::mount_bind(&rootfs, &view.dir).map_err(mount_err(format!(
                "bind {} for the container's files",
                rootfs.display()
            )))?;
        } else {
            let mounts = engine.snapshotter.mounts(&record.snapshot)?;
            berth_snapshot::mount_all(&mounts, &view.dir)?;
        }
        // From here on, drop unmounts.
        view.root = Some(open_dir(&view.dir)?);
        rustix::mount::mount_change(&view.dir, MountPropagationFlags::PRIVATE)
            .map_err(mount_err(format!("make {} private", view.dir.display())))?;
        if record.host_config.readonly_rootfs {
            remount_read_only(&view.dir)?;
        }
        if volumes {
            for m in record
                .mounts
                .iter()
                .filter(|m| m.kind == "bind" || m.kind == "volume")
            {
                view.mount_volume(&m.source, &m.destination, m.rw)?;
            }
        }
        Ok(view)
    }

    fn mount_volume(
        &self,
        source: &str,
        destination: &str,
        rw: bool,
    ) -> Result<(), ContainerError> {
        // A destination the root lacks (a container never started) is
        // made, as dockerd makes mount points for cp; a read-only root that
        // lacks it leaves the volume out of the view.
        let target = match self.open_in_root(destination, OFlags::PATH) {
            Ok(t) => t,
            Err(_) => {
                let dir = std::fs::metadata(source).map_or(true, |m| m.is_dir());
                if self.make_mount_point(destination, dir).is_err() {
                    return Ok(());
                }
                match self.open_in_root(destination, OFlags::PATH) {
                    Ok(t) => t,
                    Err(_) => return Ok(()),
                }
            }
        };
        let target_path = fd_path(target.as_fd());
        rustix::mount::mount_bind_recursive(source, &target_path).map_err(mount_err(format!(
            "bind {source} at {destination} for the container's files"
        )))?;
        if !rw {
            // The fd names the covered directory: reopen to reach the new
            // mount.
            let mounted = self
                .open_in_root(destination, OFlags::PATH)
                .map_err(mount_err(format!("open the volume at {destination}")))?;
            remount_read_only(&fd_path(mounted.as_fd()))?;
        }
        Ok(())
    }

    /// Creates `destination` (a directory, or an empty file for a file
    /// bind) and its missing parents, each step resolved inside the root.
    fn make_mount_point(&self, destination: &str, dir: bool) -> Result<(), Errno> {
        let parts: Vec<&str> = destination.split('/').filter(|p| !p.is_empty()).collect();
        for i in 0..parts.len() {
            let path = format!("/{}", parts[..=i].join("/"));
            if self.open_in_root(&path, OFlags::PATH).is_ok() {
                continue;
            }
            let parent = format!("/{}", parts[..i].join("/"));
            let parent = self.open_in_root(&parent, OFlags::PATH | OFlags::DIRECTORY)?;
            let parent = rustix::fs::openat(
                &parent,
                ".",
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let last = i + 1 == parts.len();
            if last && !dir {
                rustix::fs::openat(
                    &parent,
                    parts[i],
                    OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::WRONLY
                        | OFlags::CLOEXEC
                        | OFlags::NOFOLLOW,
                    Mode::from_raw_mode(0o755),
                )?;
            } else {
                rustix::fs::mkdirat(&parent, parts[i], Mode::from_raw_mode(0o755))?;
            }
        }
        Ok(())
    }

    /// The view's root directory.
    pub(crate) fn root(&self) -> BorrowedFd<'_> {
        self.root
            .as_ref()
            .expect("an open view has its root")
            .as_fd()
    }

    /// Opens `path` (a container path) inside the view, symbolic links
    /// resolved in the view.
    pub(crate) fn open_in_root(&self, path: &str, flags: OFlags) -> Result<OwnedFd, Errno> {
        open_beneath(self.root(), path, flags)
    }

    /// The container path of `fd` (something opened in the view).
    pub(crate) fn container_path_of(&self, fd: BorrowedFd<'_>) -> Option<String> {
        let host = std::fs::read_link(fd_path(fd)).ok()?;
        let rel = host.strip_prefix(&self.dir).ok()?;
        Some(format!("/{}", rel.display()))
    }

    /// The view's directory (a host path).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

fn open_dir(dir: &Path) -> Result<OwnedFd, ContainerError> {
    rustix::fs::open(
        dir,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ContainerError::io(format!("open {}", dir.display()), e.into()))
}

fn remount_read_only(target: &Path) -> Result<(), ContainerError> {
    rustix::mount::mount_remount(target, MountFlags::BIND | MountFlags::RDONLY, "")
        .map_err(mount_err(format!("make {} read-only", target.display())))
}

impl Drop for FsView {
    fn drop(&mut self) {
        self.root = None;
        // Detach takes the volumes mounted below along.
        match rustix::mount::unmount(&self.dir, UnmountFlags::DETACH) {
            Ok(()) | Err(Errno::INVAL) | Err(Errno::NOENT) => {}
            Err(e) => tracing::warn!("unmounting {}: {e}", self.dir.display()),
        }
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            tracing::warn!("removing {}: {e}", self.dir.display());
        }
    }
}

/// Opens `path` (a container path) under the directory `root`, symbolic
/// links, `..` and absolute paths resolved as if `root` were `/`.
pub(crate) fn open_beneath(
    root: BorrowedFd<'_>,
    path: &str,
    flags: OFlags,
) -> Result<OwnedFd, Errno> {
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "." } else { rel };
    rustix::fs::openat2(
        root,
        rel,
        // openat2 refuses O_NOCTTY with O_PATH.
        if flags.contains(OFlags::PATH) {
            flags | OFlags::CLOEXEC
        } else {
            flags | OFlags::CLOEXEC | OFlags::NOCTTY
        },
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}
