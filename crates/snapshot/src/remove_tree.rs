//! Removing a directory tree through file descriptors only: every level is opened with
//! `O_NOFOLLOW` relative to its parent's fd and entries are unlinked with `unlinkat`, so a
//! symbolic link inside the tree (or one swapped in while removing) is removed, never followed.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use rustix::fs::{AtFlags, Mode, OFlags};

/// Remove `name` in `dir`, whatever it is; a directory with everything below it.
/// `Ok(false)` when it did not exist.
pub fn remove_all_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<bool> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) => return Ok(true),
        Err(rustix::io::Errno::NOENT) => return Ok(false),
        // EISDIR on Linux for a directory; EPERM on some systems.
        Err(rustix::io::Errno::ISDIR) | Err(rustix::io::Errno::PERM) => {}
        Err(e) => return Err(e.into()),
    }
    let sub = match rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    empty_dir(sub.as_fd())?;
    drop(sub);
    match rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// Remove everything inside the directory `dir`, keeping `dir` itself.
pub fn empty_dir(dir: BorrowedFd<'_>) -> io::Result<()> {
    empty_dir_except(dir, |_| false)
}

/// Remove every entry of `dir` for which `keep` is false.
pub fn empty_dir_except(dir: BorrowedFd<'_>, keep: impl Fn(&[u8]) -> bool) -> io::Result<()> {
    // Collect the names first: removing while iterating a directory stream may skip entries.
    let names = list_names(dir)?;
    for name in names {
        if !keep(&name) {
            remove_all_at(dir, &name)?;
        }
    }
    Ok(())
}

/// The names in a directory, without `.` and `..`.
pub fn list_names(dir: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    Ok(names)
}

/// Remove the tree at `path` (not following a symbolic link at `path` itself).
pub fn remove_all(path: &std::path::Path) -> io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let parent = path.parent().unwrap_or(std::path::Path::new("/"));
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no final component to remove", path.display()),
        ));
    };
    let pfd = match rustix::fs::open(
        if parent.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            parent
        },
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    remove_all_at(pfd.as_fd(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_a_tree_without_following_links() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), b"x").unwrap();
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("tree");
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::write(root.join("a/b/c/f"), b"1").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("a/link")).unwrap();
        assert!(remove_all(&root).unwrap());
        assert!(!root.exists());
        assert!(outside.path().join("keep").exists());
        assert!(!remove_all(&root).unwrap());
    }
}
