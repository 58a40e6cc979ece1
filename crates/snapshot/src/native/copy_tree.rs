//! Copying a tree with everything a layer can hold: contents (reflink with `FICLONE` where the
//! filesystem shares blocks, else `copy_file_range` in the kernel, else read/write), modes,
//! owners, times (directories after their children), extended attributes (including
//! `security.capability`, set after the owner), symbolic links, devices, fifos, sockets, and hard
//! links (recreated as links). The walk goes by file descriptor and never follows a symbolic link.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Stat, Timespec, Timestamps, Uid};
use rustix::io::Errno;

use crate::remove_tree::list_names;
use crate::xattr;

/// A failed copy: the path (relative to the tree) and the cause.
pub struct CopyFailure {
    pub rel: Vec<u8>,
    pub source: io::Error,
}

type Result<T> = std::result::Result<T, CopyFailure>;

const DIR: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

fn fail(rel: &[u8]) -> impl Fn(io::Error) -> CopyFailure + '_ {
    move |source| CopyFailure {
        rel: rel.to_vec(),
        source,
    }
}

fn errno(rel: &[u8]) -> impl Fn(Errno) -> CopyFailure + '_ {
    move |e| CopyFailure {
        rel: rel.to_vec(),
        source: e.into(),
    }
}

/// Copy the contents and the root attributes of the directory `src` into the existing empty
/// directory `dst`.
pub fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    let sfd = rustix::fs::open(src, DIR, Mode::empty()).map_err(errno(b""))?;
    let dfd = rustix::fs::open(dst, DIR, Mode::empty()).map_err(errno(b""))?;
    let mut c = Copier {
        dst_root: dfd.try_clone().map_err(fail(b""))?,
        links: HashMap::new(),
        buf: Vec::new(),
    };
    c.dir(sfd.as_fd(), dfd.as_fd(), b"")?;
    let st = rustix::fs::fstat(&sfd).map_err(errno(b""))?;
    c.meta_fd(sfd.as_fd(), dfd.as_fd(), &st, b"")
}

struct Copier {
    dst_root: OwnedFd,
    /// Destination path of the first copy of each multiply-linked inode.
    links: HashMap<(u64, u64), Vec<u8>>,
    buf: Vec<u8>,
}

fn times(st: &Stat) -> Timestamps {
    Timestamps {
        last_access: Timespec {
            tv_sec: st.st_atime,
            tv_nsec: st.st_atime_nsec as _,
        },
        last_modification: Timespec {
            tv_sec: st.st_mtime,
            tv_nsec: st.st_mtime_nsec as _,
        },
    }
}

impl Copier {
    fn dir(&mut self, sdir: BorrowedFd<'_>, ddir: BorrowedFd<'_>, rel: &[u8]) -> Result<()> {
        for name in list_names(sdir).map_err(fail(rel))? {
            let mut crel = rel.to_vec();
            if !crel.is_empty() {
                crel.push(b'/');
            }
            crel.extend_from_slice(&name);
            let st = rustix::fs::statat(sdir, name.as_slice(), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(errno(&crel))?;
            match FileType::from_raw_mode(st.st_mode) {
                FileType::Directory => {
                    rustix::fs::mkdirat(ddir, name.as_slice(), Mode::from_raw_mode(0o700))
                        .map_err(errno(&crel))?;
                    let s2 = rustix::fs::openat(sdir, name.as_slice(), DIR, Mode::empty())
                        .map_err(errno(&crel))?;
                    let d2 = rustix::fs::openat(ddir, name.as_slice(), DIR, Mode::empty())
                        .map_err(errno(&crel))?;
                    self.dir(s2.as_fd(), d2.as_fd(), &crel)?;
                    self.meta_fd(s2.as_fd(), d2.as_fd(), &st, &crel)?;
                }
                FileType::RegularFile => self.file(sdir, ddir, &name, &crel, &st)?,
                FileType::Symlink => {
                    let target = rustix::fs::readlinkat(sdir, name.as_slice(), Vec::new())
                        .map_err(errno(&crel))?;
                    rustix::fs::symlinkat(target.as_c_str(), ddir, name.as_slice())
                        .map_err(errno(&crel))?;
                    self.meta_at(sdir, ddir, &name, &st, &crel, false)?;
                }
                ft => {
                    rustix::fs::mknodat(
                        ddir,
                        name.as_slice(),
                        ft,
                        Mode::from_raw_mode(st.st_mode & 0o777),
                        st.st_rdev,
                    )
                    .map_err(errno(&crel))?;
                    self.meta_at(sdir, ddir, &name, &st, &crel, true)?;
                }
            }
        }
        Ok(())
    }

    fn file(
        &mut self,
        sdir: BorrowedFd<'_>,
        ddir: BorrowedFd<'_>,
        name: &[u8],
        rel: &[u8],
        st: &Stat,
    ) -> Result<()> {
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key) {
                return rustix::fs::linkat(
                    &self.dst_root,
                    first.as_slice(),
                    ddir,
                    name,
                    AtFlags::empty(),
                )
                .map_err(errno(rel));
            }
            self.links.insert(key, rel.to_vec());
        }
        let src = rustix::fs::openat(
            sdir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        )
        .map_err(errno(rel))?;
        let dst = rustix::fs::openat(
            ddir,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(errno(rel))?;
        self.data(src.as_fd(), dst.as_fd(), st.st_size as u64)
            .map_err(fail(rel))?;
        self.meta_fd(src.as_fd(), dst.as_fd(), st, rel)
    }

    /// Copy `len` bytes: reflink, else `copy_file_range`, else read/write.
    fn data(&mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>, len: u64) -> io::Result<()> {
        if len == 0 || rustix::fs::ioctl_ficlone(dst, src).is_ok() {
            return Ok(());
        }
        let mut left = len;
        let mut in_kernel = true;
        while left > 0 {
            let chunk = left.min(1 << 30) as usize;
            if in_kernel {
                match rustix::fs::copy_file_range(src, None, dst, None, chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        left -= n as u64;
                        continue;
                    }
                    Err(Errno::INTR) => continue,
                    Err(Errno::XDEV | Errno::NOSYS | Errno::OPNOTSUPP | Errno::INVAL)
                        if left == len =>
                    {
                        in_kernel = false;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if self.buf.is_empty() {
                self.buf = vec![0u8; 1 << 20];
            }
            let want = left.min(self.buf.len() as u64) as usize;
            let n = match rustix::io::read(src, &mut self.buf[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            };
            crate::apply::write_all(dst, &self.buf[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Owner, mode, extended attributes and times through fds (directories, files).
    fn meta_fd(
        &mut self,
        src: BorrowedFd<'_>,
        dst: BorrowedFd<'_>,
        st: &Stat,
        rel: &[u8],
    ) -> Result<()> {
        rustix::fs::fchown(
            dst,
            Some(Uid::from_raw(st.st_uid)),
            Some(Gid::from_raw(st.st_gid)),
        )
        .map_err(errno(rel))?;
        rustix::fs::fchmod(dst, Mode::from_raw_mode(st.st_mode & 0o7777)).map_err(errno(rel))?;
        for (name, value) in xattr::list_fd(src).map_err(fail(rel))? {
            xattr::set_fd(dst, &name, &value).map_err(fail(rel))?;
        }
        rustix::fs::futimens(dst, &times(st)).map_err(errno(rel))
    }

    /// The same for entries that are not opened (links, devices, fifos, sockets).
    fn meta_at(
        &mut self,
        sdir: BorrowedFd<'_>,
        ddir: BorrowedFd<'_>,
        name: &[u8],
        st: &Stat,
        rel: &[u8],
        chmod: bool,
    ) -> Result<()> {
        rustix::fs::chownat(
            ddir,
            name,
            Some(Uid::from_raw(st.st_uid)),
            Some(Gid::from_raw(st.st_gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(errno(rel))?;
        if chmod {
            // Created just now by this copy as a device, fifo or socket: not a link.
            rustix::fs::chmodat(
                ddir,
                name,
                Mode::from_raw_mode(st.st_mode & 0o7777),
                AtFlags::empty(),
            )
            .map_err(errno(rel))?;
        }
        for (xname, value) in xattr::list_at(sdir, name).map_err(fail(rel))? {
            xattr::set_at(ddir, name, &xname, &value).map_err(fail(rel))?;
        }
        rustix::fs::utimensat(ddir, name, &times(st), AtFlags::SYMLINK_NOFOLLOW).map_err(errno(rel))
    }
}
