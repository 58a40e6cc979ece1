//! `tmpcopyup`: copy what a directory held into the tmpfs mounted over it,
//! keeping modes, owners and symlinks (a runc extension podman relies on).

use std::os::fd::OwnedFd;

use rustix::fs::{AtFlags, Mode, OFlags};

/// Copy the tree under directory `from` into directory `to`.
pub fn copy_tree(from: &OwnedFd, to: &OwnedFd) -> rustix::io::Result<()> {
    let mut dir = rustix::fs::Dir::read_from(from)?;
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        let st = rustix::fs::statat(from, name, AtFlags::SYMLINK_NOFOLLOW)?;
        let mode = Mode::from_raw_mode(st.st_mode & 0o7777);
        let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
        match kind {
            rustix::fs::FileType::Directory => {
                rustix::fs::mkdirat(to, name, mode)?;
                let src = rustix::fs::openat(
                    from,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
                    Mode::empty(),
                )?;
                let dst = rustix::fs::openat(
                    to,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
                    Mode::empty(),
                )?;
                copy_tree(&src, &dst)?;
            }
            rustix::fs::FileType::RegularFile => {
                let src = rustix::fs::openat(
                    from,
                    name,
                    OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
                    Mode::empty(),
                )?;
                let dst = rustix::fs::openat(
                    to,
                    name,
                    OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
                    mode,
                )?;
                let mut src = std::fs::File::from(src);
                let mut dst = std::fs::File::from(dst);
                std::io::copy(&mut src, &mut dst).map_err(|e| {
                    rustix::io::Errno::from_io_error(&e).unwrap_or(rustix::io::Errno::IO)
                })?;
            }
            rustix::fs::FileType::Symlink => {
                let target = rustix::fs::readlinkat(from, name, Vec::new())?;
                rustix::fs::symlinkat(target.as_c_str(), to, name)?;
            }
            _ => {
                rustix::fs::mknodat(to, name, kind, mode, st.st_rdev)?;
            }
        }
        rustix::fs::chownat(
            to,
            name,
            Some(rustix::fs::Uid::from_raw(st.st_uid)),
            Some(rustix::fs::Gid::from_raw(st.st_gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        if kind != rustix::fs::FileType::Symlink {
            rustix::fs::chmodat(to, name, mode, AtFlags::empty())?;
        }
    }
    Ok(())
}
