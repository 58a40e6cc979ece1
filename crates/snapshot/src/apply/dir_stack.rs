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

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, Stat};
use rustix::io::Errno;

use super::error::ApplyError;
use super::layer_path::{join, show};
use super::lowers::{Found, Lowers};

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
    lowers: Lowers,
}

/// What resolution tells the rest of the extraction.
pub trait ResolveHooks {
    /// A missing parent `name` (path `comps`) was created in the directory `parent`, with the
    /// times of the lower directory it stands for, if any.
    fn implicit_dir(&mut self, parent: DirId, name: &[u8], comps: &[&[u8]], times: Option<&Stat>);
    /// An existing directory `comps` was opened as a parent (`st`: its attributes before this
    /// layer touched it); `linked` is its fd when the path went through a symbolic link.
    fn existing_dir(&mut self, comps: &[&[u8]], st: &Stat, linked: Option<BorrowedFd<'_>>);
}

/// Hooks that do nothing.
pub struct NoHooks;

impl ResolveHooks for NoHooks {
    fn implicit_dir(&mut self, _: DirId, _: &[u8], _: &[&[u8]], _: Option<&Stat>) {}
    fn existing_dir(&mut self, _: &[&[u8]], _: &Stat, _: Option<BorrowedFd<'_>>) {}
}

/// One pass of resolution: done, or start again with a path rewritten through a lower link.
enum Step {
    Done(Resolved),
    Redirect(Vec<Vec<u8>>),
}

/// How many lower symbolic links one resolution may go through.
const MAX_REDIRECTS: usize = 40;

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
    pub fn new(root: OwnedFd, lowers: Lowers) -> std::io::Result<DirStack> {
        let st = rustix::fs::fstat(&root)?;
        Ok(DirStack {
            root,
            root_setgid: st.st_mode & 0o2000 != 0,
            root_id: id_of(&st),
            frames: Vec::new(),
            lowers,
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
    /// With `create`, missing components are created — with the attributes of the lower
    /// directory they stand for, if there are lowers (see [`super::lowers`]), else as `0755`
    /// directories owned by the caller — and reported through `hooks`; without it, a missing
    /// component gives [`Resolved::Missing`]. `member` is the archive member being applied,
    /// for error messages.
    pub fn resolve(
        &mut self,
        comps: &[&[u8]],
        create: bool,
        member: &[u8],
        hooks: &mut dyn ResolveHooks,
    ) -> Result<Resolved, ApplyError> {
        let mut next = match self.resolve_once(comps, create, member, hooks)? {
            Step::Done(r) => return Ok(r),
            Step::Redirect(n) => n,
        };
        for _ in 0..MAX_REDIRECTS {
            let refs: Vec<&[u8]> = next.iter().map(Vec::as_slice).collect();
            match self.resolve_once(&refs, create, member, hooks)? {
                Step::Done(r) => return Ok(r),
                Step::Redirect(n) => next = n,
            }
        }
        Err(ApplyError::ResolveParent {
            path: show(member),
            parent: show(&join(comps)),
            source: Errno::LOOP.into(),
        })
    }

    fn resolve_once(
        &mut self,
        comps: &[&[u8]],
        create: bool,
        member: &[u8],
        hooks: &mut dyn ResolveHooks,
    ) -> Result<Step, ApplyError> {
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
                    hooks.existing_dir(&comps[..=i], &st, None);
                    self.push(name, fd, st.st_mode & 0o2000 != 0, id_of(&st));
                }
                Err(Errno::NOENT) => {
                    let found = if self.lowers.is_empty() {
                        Found::Nothing
                    } else {
                        self.lowers.lookup(&comps[..=i]).map_err(resolve_err)?
                    };
                    if let Found::Symlink(target) = found {
                        return Ok(Step::Redirect(redirect(comps, i, &target)));
                    }
                    if !create {
                        return Ok(Step::Done(Resolved::Missing));
                    }
                    let path = join(&comps[..=i]);
                    let lower = match found {
                        Found::Dir { stat, xattrs } => Some((stat, xattrs)),
                        _ => None,
                    };
                    let mode = if lower.is_some() { 0o700 } else { 0o755 };
                    match rustix::fs::mkdirat(cur, name, Mode::from_raw_mode(mode)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => {
                            return Err(ApplyError::CreateDir {
                                path: show(&path),
                                source: e.into(),
                            });
                        }
                    }
                    let fd = rustix::fs::openat(cur, name, DIR_FLAGS, Mode::empty())
                        .map_err(|e| resolve_err(e.into()))?;
                    if let Some((st, xattrs)) = &lower {
                        copy_attributes(&fd, st, xattrs, &path)?;
                    }
                    hooks.implicit_dir(cur_id, name, &comps[..=i], lower.as_ref().map(|l| &*l.0));
                    let st = rustix::fs::fstat(&fd).map_err(|e| resolve_err(e.into()))?;
                    self.push(name, fd, st.st_mode & 0o2000 != 0, id_of(&st));
                }
                Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                    let st = rustix::fs::statat(cur, name, AtFlags::SYMLINK_NOFOLLOW)
                        .map_err(|e| resolve_err(e.into()))?;
                    if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
                        if !create {
                            return Ok(Step::Done(Resolved::Missing));
                        }
                        return Err(ApplyError::ParentNotDirectory {
                            path: show(member),
                            parent: show(&join(&comps[..=i])),
                        });
                    }
                    let fd = match self.open_in_root(&comps[..=i]) {
                        Ok(fd) => fd,
                        Err(Errno::NOENT) | Err(Errno::NOTDIR) if !create => {
                            return Ok(Step::Done(Resolved::Missing));
                        }
                        Err(Errno::NOENT) => {
                            return Err(ApplyError::DanglingParent {
                                path: show(member),
                                parent: show(&join(&comps[..=i])),
                            });
                        }
                        Err(Errno::NOTDIR) => {
                            return Err(ApplyError::ParentNotDirectory {
                                path: show(member),
                                parent: show(&join(&comps[..=i])),
                            });
                        }
                        Err(e) => return Err(resolve_err(e.into())),
                    };
                    let st = rustix::fs::fstat(&fd).map_err(|e| resolve_err(e.into()))?;
                    hooks.existing_dir(&comps[..=i], &st, Some(fd.as_fd()));
                    self.push(name, fd, st.st_mode & 0o2000 != 0, id_of(&st));
                }
                Err(e) => return Err(resolve_err(e.into())),
            }
        }
        Ok(Step::Done(Resolved::Found))
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

/// `comps` with its component `i` (a lower symbolic link to `target`) replaced by the target,
/// cleaned lexically and clamped at the root (`..` above the root stays at the root, as
/// `RESOLVE_IN_ROOT` does).
fn redirect(comps: &[&[u8]], i: usize, target: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = if target.starts_with(b"/") {
        Vec::new()
    } else {
        comps[..i].iter().map(|c| c.to_vec()).collect()
    };
    for c in target.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                out.pop();
            }
            c => out.push(c.to_vec()),
        }
    }
    out.extend(comps[i + 1..].iter().map(|c| c.to_vec()));
    out
}

/// Give an implicit directory the owner, mode and extended attributes of the lower directory
/// it stands for.
fn copy_attributes(
    fd: &OwnedFd,
    st: &Stat,
    xattrs: &crate::xattr::Xattrs,
    path: &[u8],
) -> Result<(), ApplyError> {
    rustix::fs::fchown(
        fd,
        Some(rustix::fs::Uid::from_raw(st.st_uid)),
        Some(rustix::fs::Gid::from_raw(st.st_gid)),
    )
    .map_err(|e| ApplyError::SetOwner {
        path: show(path),
        uid: st.st_uid,
        gid: st.st_gid,
        source: e.into(),
    })?;
    rustix::fs::fchmod(fd, Mode::from_raw_mode(st.st_mode & 0o7777)).map_err(|e| {
        ApplyError::SetMode {
            path: show(path),
            mode: st.st_mode & 0o7777,
            source: e.into(),
        }
    })?;
    for (name, value) in xattrs {
        match crate::xattr::set_fd(fd.as_fd(), name, value) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(Errno::OPNOTSUPP.raw_os_error()) => {}
            Err(source) => {
                return Err(ApplyError::SetXattr {
                    path: show(path),
                    name: show(name),
                    source,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redirect;

    fn r(comps: &[&str], i: usize, target: &str) -> String {
        let c: Vec<&[u8]> = comps.iter().map(|s| s.as_bytes()).collect();
        let out = redirect(&c, i, target.as_bytes());
        out.iter()
            .map(|v| String::from_utf8(v.clone()).unwrap())
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn redirects_through_a_lower_link() {
        assert_eq!(r(&["lib", "x86_64"], 0, "usr/lib"), "usr/lib/x86_64");
        assert_eq!(r(&["a", "b", "c"], 1, "../d"), "d/c");
        assert_eq!(r(&["a", "b", "c"], 1, "/etc"), "etc/c");
        assert_eq!(r(&["a", "b"], 0, "../../../x"), "x/b");
    }
}
