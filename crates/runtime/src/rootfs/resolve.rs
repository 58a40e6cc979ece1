//! Paths inside the container's root, resolved by the kernel so that no
//! symlink (absolute, relative or chained) and no `..` can lead outside it
//! (`openat2` with `RESOLVE_IN_ROOT`), and created on the way when a mount
//! target does not exist yet.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// What to create when the path does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    /// Nothing: fail with ENOENT.
    Nothing,
    /// A directory (and missing parents).
    Dir,
    /// An empty regular file (and missing parent directories).
    File,
}

fn resolve_flags() -> ResolveFlags {
    ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS
}

/// Open `path` (absolute or relative, always taken inside `root`) as an
/// `O_PATH` descriptor, creating it as `create` says.
pub fn open_in_root(
    root: BorrowedFd<'_>,
    path: &Path,
    create: Create,
) -> rustix::io::Result<OwnedFd> {
    let rel = relative(path);
    match open_path(root, &rel) {
        Err(Errno::NOENT) if create != Create::Nothing => {}
        other => return other,
    }
    let name = match rel.file_name() {
        Some(n) => n.to_owned(),
        None => return open_path(root, &rel),
    };
    let parent = match rel.parent() {
        Some(p) if !p.as_os_str().is_empty() => open_in_root(root, p, Create::Dir)?,
        _ => open_path(root, Path::new("."))?,
    };
    // Creating needs a real directory fd, not O_PATH.
    let dir = reopen_dir(&parent)?;
    let made = match create {
        Create::Dir => rustix::fs::mkdirat(&dir, name.as_os_str(), Mode::from_raw_mode(0o755)),
        _ => rustix::fs::openat(
            &dir,
            name.as_os_str(),
            OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::from_raw_mode(0o644),
        )
        .map(drop),
    };
    match made {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    open_path(root, &rel)
}

fn open_path(root: BorrowedFd<'_>, rel: &Path) -> rustix::io::Result<OwnedFd> {
    let p: &Path = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    rustix::fs::openat2(
        root,
        p,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        resolve_flags(),
    )
}

/// Re-open an `O_PATH` directory fd as a real directory fd.
pub fn reopen_dir(fd: &OwnedFd) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        fd,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Open a directory inside the root for reading (e.g. a new working
/// directory), refusing magic links such as `/proc/self/fd/N`.
pub fn open_dir_in_root(root: BorrowedFd<'_>, path: &Path) -> rustix::io::Result<OwnedFd> {
    let rel = relative(path);
    rustix::fs::openat2(
        root,
        if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &rel
        },
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        resolve_flags(),
    )
}

/// The `/proc/self/fd/N` path that names `fd` for calls that take a path.
pub fn fd_path(fd: impl AsFd) -> String {
    use std::os::fd::AsRawFd;
    format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd())
}

/// `path` without its leading `/`, lexically cleaned (`..` cannot climb
/// above the root; the kernel enforces the same when resolving).
pub fn relative(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root_fd(p: &Path) -> OwnedFd {
        rustix::fs::open(
            p,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap()
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(outside.path().join("secret")).unwrap();
        // An absolute symlink and a relative one that climbs out.
        symlink(outside.path(), root.path().join("abs")).unwrap();
        symlink("../../../../../../..", root.path().join("up")).unwrap();
        let r = root_fd(root.path());
        let fd = open_in_root(r.as_fd(), Path::new("/abs/secret"), Create::Dir).unwrap();
        let fd2 = open_in_root(r.as_fd(), Path::new("/up/tmp/x"), Create::Dir).unwrap();
        // Both were created inside the root, never outside.
        let real = std::fs::read_link(fd_path(&fd)).unwrap();
        assert!(real.starts_with(root.path()), "{real:?}");
        let real2 = std::fs::read_link(fd_path(&fd2)).unwrap();
        assert!(real2.starts_with(root.path()), "{real2:?}");
        assert!(!outside.path().join("secret/x").exists());
    }

    #[test]
    fn creates_files_and_parents() {
        let root = tempfile::tempdir().unwrap();
        let r = root_fd(root.path());
        open_in_root(r.as_fd(), Path::new("/etc/deep/hosts"), Create::File).unwrap();
        assert!(root.path().join("etc/deep/hosts").is_file());
        let e = open_in_root(r.as_fd(), Path::new("/nope"), Create::Nothing).unwrap_err();
        assert_eq!(e, Errno::NOENT);
    }

    #[test]
    fn magic_links_are_refused() {
        let root = tempfile::tempdir().unwrap();
        symlink("/proc/self/fd/0", root.path().join("m")).unwrap();
        let r = root_fd(Path::new("/"));
        let e = open_dir_in_root(r.as_fd(), Path::new("/proc/self/cwd")).unwrap_err();
        assert_eq!(e, Errno::XDEV);
    }
}
