//! Network namespaces as files: a namespace bound to a file (so the shim and
//! the runtime can join it by path, and it outlives every process in it),
//! removing one (unmount + unlink), and running code inside one.
//!
//! Namespace switching never happens on a caller's thread: [`run_in`] makes a
//! dedicated thread, moves it into the namespace, runs the closure there,
//! moves it back and lets it end. Sockets made on that thread stay in the
//! namespace they were made in, which is how the rest of the crate talks
//! netlink to a container's namespace from any thread.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::thread::LinkNameSpaceType;

/// A failure to create, enter or remove a network namespace.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetnsError {
    /// The file the namespace is bound to could not be created.
    #[error("create network namespace file {path}")]
    CreateFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `unshare(CLONE_NEWNET)` failed.
    #[error("create a network namespace")]
    Unshare(#[source] std::io::Error),
    /// The new namespace could not be bind-mounted onto its file.
    #[error("bind the network namespace to {path}")]
    Bind {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The namespace file could not be unmounted.
    #[error("unmount network namespace {path}")]
    Unmount {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The namespace file could not be removed.
    #[error("remove network namespace file {path}")]
    Remove {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The namespace could not be opened or entered.
    #[error("enter network namespace {path}")]
    Enter {
        /// The namespace file (`/proc/<pid>/ns/net` or a bound file).
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A thread could not be started, or the closure run in the namespace
    /// panicked.
    #[error("namespace thread: {0}")]
    Thread(String),
}

type Result<T, E = NetnsError> = std::result::Result<T, E>;

fn io(e: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e.raw_os_error())
}

/// Creates a new, empty network namespace (no interface but a down `lo`)
/// bound to `path`, which must not exist; its directory must. The namespace
/// lives until [`remove`], whatever processes join or leave it.
pub fn create(path: &Path) -> Result<()> {
    rustix::fs::open(
        path,
        OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o444),
    )
    .map_err(|e| NetnsError::CreateFile {
        path: path.to_owned(),
        source: io(e),
    })?;
    let bound = on_thread(|| {
        unshare_net().map_err(NetnsError::Unshare)?;
        rustix::mount::mount_bind("/proc/thread-self/ns/net", path).map_err(|e| NetnsError::Bind {
            path: path.to_owned(),
            source: io(e),
        })
    })
    .and_then(|r| r);
    if bound.is_err() {
        let _ = std::fs::remove_file(path);
    }
    bound
}

/// Removes a namespace file made by [`create`]: unmounts it (the namespace
/// goes when its last user does) and unlinks it. A file that is not mounted
/// or does not exist is not an error, so removal can be repeated.
pub fn remove(path: &Path) -> Result<()> {
    match rustix::mount::unmount(path, rustix::mount::UnmountFlags::DETACH) {
        Ok(()) | Err(Errno::INVAL) | Err(Errno::NOENT) => {}
        Err(e) => {
            return Err(NetnsError::Unmount {
                path: path.to_owned(),
                source: io(e),
            });
        }
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(NetnsError::Remove {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Runs `f` inside the network namespace at `netns` (a bound file or
/// `/proc/<pid>/ns/net`) on a dedicated thread, or on the calling thread when
/// `netns` is `None` (the caller's own namespace).
pub fn run_in<R, F>(netns: Option<&Path>, f: F) -> Result<R>
where
    R: Send,
    F: FnOnce() -> R + Send,
{
    let Some(path) = netns else {
        return Ok(f());
    };
    on_thread(|| {
        let enter_err = |e: Errno| NetnsError::Enter {
            path: path.to_owned(),
            source: io(e),
        };
        let home = rustix::fs::open(
            "/proc/thread-self/ns/net",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(enter_err)?;
        let target = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .map_err(enter_err)?;
        rustix::thread::move_into_link_name_space(target.as_fd(), Some(LinkNameSpaceType::Network))
            .map_err(enter_err)?;
        let out = f();
        // The thread ends right after, but go home anyway so nothing that
        // outlives `f` on this thread (thread-locals' destructors) runs in
        // the container's namespace.
        let _ = rustix::thread::move_into_link_name_space(
            home.as_fd(),
            Some(LinkNameSpaceType::Network),
        );
        Ok(out)
    })?
}

/// Runs `f` on a new scoped thread and waits for it.
fn on_thread<R: Send>(f: impl FnOnce() -> R + Send) -> Result<R> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("berth-netns".into())
            .spawn_scoped(s, f)
            .map_err(|e| NetnsError::Thread(format!("spawn: {e}")))?;
        handle
            .join()
            .map_err(|_| NetnsError::Thread("the closure panicked".into()))
    })
}

/// `unshare(CLONE_NEWNET)` for the calling thread only.
fn unshare_net() -> std::io::Result<()> {
    // SAFETY: only CLONE_NEWNET is passed. The hazard `unshare_unsafe` guards
    // against is CLONE_FILES (a thread losing sight of descriptors other
    // threads made); a new network namespace changes no descriptor table and
    // no memory, and it affects only this thread, a dedicated one that
    // `create` lets end right after.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }.map_err(io)
}

/// Is `path` a network namespace (a bound file or a `/proc` link)?
pub fn is_netns(path: &Path) -> bool {
    // NSFS_MAGIC: a bound namespace file or /proc/<pid>/ns/net lives on nsfs.
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    // `f_type`'s type differs between architectures (i64 here, u32 on some).
    #[allow(clippy::unnecessary_cast)]
    rustix::fs::statfs(path).is_ok_and(|s| s.f_type as i64 == NSFS_MAGIC)
}
