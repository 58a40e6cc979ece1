//! Parent directories as file descriptors, cached along the current path.
//!
//! Layer members arrive in depth-first order, so the parent of the next member is almost
//! always the parent of the previous one or a directory just below it. The stack keeps one
//! open fd per component of the last resolved path; resolving a new path reuses the common
//! prefix and opens only the components after it — usually zero or one `openat` per member
//! instead of a walk from the root.
//!
//! Safety: each component is opened relative to its parent's fd with
//! `O_NOFOLLOW | O_DIRECTORY`, so a symbolic link is never followed by the walk itself. When a
//! component *is* a symbolic link (a layer may legitimately put files under `lib/` when `lib`
//! is a link to `usr/lib`), the path up to it is resolved again with
//! `openat2(root, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)`: the kernel
//! follows the link(s) with the root as `/`, so `..`, absolute targets and chains of links all
//! stay inside the root. A dangling link is an error: nothing is ever created through one.
//!
//! The cache is dropped ([`DirStack::clear`]) whenever a directory or symbolic link is removed
//! or replaced, since a cached fd may then stand for a path that means something else now.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::error::ApplyError;
use super::layer_path::{join, show};

/// A directory's identity: `(st_dev, st_ino)`.
pub type DirId = (u64, u64);

struct Frame {
    name: Vec<u8>,
    fd: OwnedFd,
    setgid: bool,
    id: DirId,
}

fn id_of(st: &rustix::fs::Stat) -> DirId {
    (st.st_dev, st.st_ino)
}

/// The open root and the cached chain of directories below it.
pub struct DirStack {
    root: OwnedFd,
    root_setgid: bool,
    root_id: DirId,
    frames: Vec<Frame>,
}

/// The outcome of [`DirStack::resolve`] when missing directories are not created.
pub enum Resolved {
    /// The directory exists; it is now the top of the stack.
    Found,
    /// Some component does not exist, or is not a directory.
    Missing,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

impl DirStack {
    /// A stack over the open root directory.
    pub fn new(root: OwnedFd) -> std::io::Result<DirStack> {
        let st = rustix::fs::fstat(&root)?;
        Ok(DirStack {
            root,
            root_setgid: st.st_mode & 0o2000 != 0,
            root_id: id_of(&st),
            frames: Vec::new(),
        })
    }

    /// The root.
    pub fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// The top of the stack: the directory last resolved, and whether it is setgid.
    pub fn top(&self) -> (BorrowedFd<'_>, bool) {
        match self.frames.last() {
            Some(f) => (f.fd.as_fd(), f.setgid),
            None => (self.root.as_fd(), self.root_setgid),
        }
    }

    /// The identity of the top of the stack.
    pub fn top_id(&self) -> DirId {
        self.frames.last().map_or(self.root_id, |f| f.id)
    }

    /// Forget every cached directory.
    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// Push a directory just created under the top of the stack (its fd is already open).
    pub fn push(&mut self, name: &[u8], fd: OwnedFd, setgid: bool, id: DirId) {
        self.frames.push(Frame {
            name: name.to_vec(),
            fd,
            setgid,
            id,
        });
    }

    /// Make the directory `comps` (components below the root) the top of the stack.
    ///
    /// With `create`, missing components are created as `0755` directories owned by the
    /// caller and reported through `on_create` (with the parent's identity and the name);
    /// without it, a missing component gives [`Resolved::Missing`].
    /// `member` is the archive member being applied, for error messages.
    pub fn resolve(
        &mut self,
        comps: &[&[u8]],
        create: bool,
        member: &[u8],
        on_create: &mut dyn FnMut(DirId, &[u8]),
    ) -> Result<Resolved, ApplyError> {
        let common = self
            .frames
            .iter()
            .zip(comps)
            .take_while(|(f, c)| f.name == **c)
            .count();
        self.frames.truncate(common);
        for i in common..comps.len() {
            let name = comps[i];
            let (cur, _) = self.top();
            let cur_id = self.top_id();
            let resolve_err = |source: std::io::Error| ApplyError::ResolveParent {
                path: show(member),
                parent: show(&join(&comps[..=i])),
                source,
            };
            match rustix::fs::openat(cur, name, DIR_FLAGS, Mode::empty()) {
                Ok(fd) => {
                    let st = rustix::fs::fstat(&fd).map_err(|e| resolve_err(e.into()))?;
                    self.push(name, fd, st.st_mode & 0o2000 != 0, id_of(&st));
                }
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(cur, name, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => {
                            return Err(ApplyError::CreateDir {
                                path: show(&join(&comps[..=i])),
                                source: e.into(),
                            });
                        }
                    }
                    on_create(cur_id, name);
                    let fd = rustix::fs::openat(cur, name, DIR_FLAGS, Mode::empty())
                        .map_err(|e| resolve_err(e.into()))?;
                    let st = rustix::fs::fstat(&fd).map_err(|e| resolve_err(e.into()))?;
                    self.push(name, fd, st.st_mode & 0o2000 != 0, id_of(&st));
                }
                Err(Errno::NOENT) => return Ok(Resolved::Missing),
                Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                    let st = rustix::fs::statat(cur, name, AtFlags::SYMLINK_NOFOLLOW)
                        .map_err(|e| resolve_err(e.into()))?;
                    if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
                        if !create {
                            return Ok(Resolved::Missing);
                        }
                        return Err(ApplyError::ParentNotDirectory {
                            path: show(member),
                            parent: show(&join(&comps[..=i])),
                        });
                    }
                    let fd = match self.open_in_root(&comps[..=i]) {
                        Ok(fd) => fd,
                        Err(Errno::NOENT) if !create => return Ok(Resolved::Missing),
                        Err(Errno::NOENT) => {
                            return Err(ApplyError::DanglingParent {
                                path: show(member),
                                parent: show(&join(&comps[..=i])),
                            });
                        }
                        Err(Errno::NOTDIR) if !create => return Ok(Resolved::Missing),
                        Err(Errno::NOTDIR) => {
                            return Err(ApplyError::ParentNotDirectory {
                                path: show(member),
                                parent: show(&join(&comps[..=i])),
                            });
                        }
                        Err(e) => return Err(resolve_err(e.into())),
                    };
                    let st = rustix::fs::fstat(&fd).map_err(|e| resolve_err(e.into()))?;
                    self.push(name, fd, st.st_mode & 0o2000 != 0, id_of(&st));
                }
                Err(e) => return Err(resolve_err(e.into())),
            }
        }
        Ok(Resolved::Found)
    }

    /// Open the directory `comps` with every symbolic link on the way resolved inside the root.
    pub fn open_in_root(&self, comps: &[&[u8]]) -> Result<OwnedFd, Errno> {
        if comps.is_empty() {
            return rustix::fs::openat(&self.root, ".", DIR_FLAGS, Mode::empty());
        }
        let path = join(comps);
        loop {
            match rustix::fs::openat2(
                &self.root,
                path.as_slice(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_XDEV,
            ) {
                // EAGAIN: a concurrent rename elsewhere on the system; retry.
                Err(Errno::AGAIN) | Err(Errno::INTR) => continue,
                r => return r,
            }
        }
    }
}
