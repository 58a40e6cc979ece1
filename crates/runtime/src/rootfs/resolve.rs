//! Paths inside the container's root, resolved by the kernel so that no
//! symlink (absolute, relative or chained) and no `..` can lead outside it
//! (`openat2` with `RESOLVE_IN_ROOT`), and created on the way when a mount
//! target does not exist yet.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
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
    let resolved = walk_creating(root, &rel, create)?;
    open_path(root, &resolved)
}

/// Walk `rel` from the root one component at a time, following each
/// symlink inside the root (an absolute target restarts at the root, `..`
/// never climbs above it) and creating what is missing: directories on the
/// way, the last component as `create` says. Returns the path reached, free
/// of symlinks. This is how a mount destination behind a dangling symlink
/// (`/etc/resolv.conf -> ../run/resolv.conf` in many images) gets created
/// where the image points, and never outside the root.
fn walk_creating(root: BorrowedFd<'_>, rel: &Path, create: Create) -> rustix::io::Result<PathBuf> {
    use std::collections::VecDeque;
    use std::ffi::OsString;
    let parts = |p: &Path| -> Vec<OsString> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_owned()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .collect()
    };
    let mut pending: VecDeque<OsString> = parts(rel).into();
    let mut reached = PathBuf::new();
    let mut links = 0;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            reached.pop();
            continue;
        }
        let last = pending.is_empty();
        let candidate = reached.join(&name);
        match rustix::fs::statat(root, &candidate, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st)
                if rustix::fs::FileType::from_raw_mode(st.st_mode)
                    == rustix::fs::FileType::Symlink =>
            {
                links += 1;
                if links > 40 {
                    return Err(Errno::LOOP);
                }
                let target = rustix::fs::readlinkat(root, &candidate, Vec::new())?;
                let target = PathBuf::from(std::ffi::OsStr::from_bytes(target.as_bytes()));
                if target.is_absolute() {
                    reached = PathBuf::new();
                }
                for p in parts(&target).into_iter().rev() {
                    pending.push_front(p);
                }
            }
            Ok(_) => reached = candidate,
            Err(Errno::NOENT) => {
                let made = if last && create == Create::File {
                    rustix::fs::openat(
                        root,
                        &candidate,
                        OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
                        Mode::from_raw_mode(0o644),
                    )
                    .map(drop)
                } else {
                    rustix::fs::mkdirat(root, &candidate, Mode::from_raw_mode(0o755))
                };
                match made {
                    Ok(()) | Err(Errno::EXIST) => reached = candidate,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(reached)
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
        // Both were created inside the root, never outside: the absolute
        // link's target is taken inside the root.
        let real = std::fs::read_link(fd_path(&fd)).unwrap();
        assert!(real.starts_with(root.path()), "{real:?}");
        let real2 = std::fs::read_link(fd_path(&fd2)).unwrap();
        assert!(real2.starts_with(root.path()), "{real2:?}");
        assert!(!outside.path().join("secret/x").exists());
    }

    #[test]
    fn creates_the_target_of_a_dangling_symlink_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::create_dir_all(root.path().join("var")).unwrap();
        // Ubuntu's resolv.conf, and an absolute link as in /var/run -> /run.
        symlink(
            "../run/resolvconf/resolv.conf",
            root.path().join("etc/resolv.conf"),
        )
        .unwrap();
        symlink("/run", root.path().join("var/run")).unwrap();
        let r = root_fd(root.path());
        open_in_root(r.as_fd(), Path::new("/etc/resolv.conf"), Create::File).unwrap();
        assert!(root.path().join("run/resolvconf/resolv.conf").is_file());
        open_in_root(r.as_fd(), Path::new("/var/run/berth/sock"), Create::Dir).unwrap();
        assert!(root.path().join("run/berth/sock").is_dir());
        // A symlink loop is an error, not a hang.
        symlink("loop2", root.path().join("loop1")).unwrap();
        symlink("loop1", root.path().join("loop2")).unwrap();
        let e = open_in_root(r.as_fd(), Path::new("/loop1/x"), Create::Dir).unwrap_err();
        assert!(e == Errno::LOOP, "{e}");
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
        assert_eq!(e, Errno::LOOP);
    }
}
