//! Creating one member inside its (already resolved) parent directory, and its metadata.
//!
//! Every creation is relative to the parent's fd and never follows the final component: files
//! are created with `O_CREAT | O_EXCL | O_NOFOLLOW`, links and nodes with the `*at` calls. When
//! something already exists there it is removed first (a directory only when the member is not
//! a directory itself: an existing directory is kept and gets the member's metadata, as Docker
//! does), so a member never writes *through* an existing file, link or hard link.
//!
//! Metadata order matters: owner first (a `chown` clears setuid/setgid and
//! `security.capability`), then the mode, then extended attributes, then the times. Calls are
//! skipped when the kernel already gave the right value (owner = the caller and the parent is
//! not setgid; mode unchanged by the umask), so a plain root-owned 0644 file costs `openat`,
//! `write`, `futimens` and `close`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Timespec, Timestamps, Uid};
use rustix::io::Errno;

use super::dir_stack::DirId;
use super::error::ApplyError;
use super::layer_path::{join, show};
use super::{ApplyMode, ApplyOptions, ApplyStats};
use crate::remove_tree::remove_all_at;
use crate::tar::{Entry, EntryKind, TarReader, Timestamp};
use crate::xattr;

/// What creating a member did that the directory cache must know.
#[derive(Default)]
pub struct Outcome {
    /// The member is a directory: its open fd, whether it is setgid, its identity.
    pub new_dir: Option<(OwnedFd, bool, DirId)>,
    /// A directory or symbolic link was removed or replaced: cached fds may be stale.
    pub removed_dir_or_link: bool,
}

/// The original times of an existing directory, and how to reach it again at the end.
pub struct Kept {
    pub times: (Timestamp, Timestamp),
    /// Its path, when reached without a symbolic link; `None` for the root.
    pub path: Option<Vec<u8>>,
    /// Its fd, when reached through a symbolic link (the path names the link, not it).
    pub fd: Option<OwnedFd>,
}

/// Everything about the extraction except the directory cache.
pub struct Ctx<'o> {
    pub opts: &'o ApplyOptions,
    pub euid: u32,
    pub egid: u32,
    pub umask: u32,
    pub stats: ApplyStats,
    /// Entries created by this layer, as (parent directory, name) (rootfs mode: an opaque
    /// whiteout keeps them). Physical identities, not paths: a parent reached through a
    /// symbolic link is still recognised.
    pub created: Option<HashSet<(DirId, Vec<u8>)>>,
    /// Directory times, set at the end (creating children changes a directory's mtime).
    pub dir_times: BTreeMap<Vec<u8>, (Timestamp, Timestamp)>,
    /// Rootfs mode: directories of earlier layers this layer added entries to, with their
    /// times before it did; restored at the end (before `dir_times`, which win).
    pub kept_times: HashMap<DirId, Kept>,
}

/// `(atime, mtime)` of a stat.
pub fn stat_times(st: &rustix::fs::Stat) -> (Timestamp, Timestamp) {
    (
        Timestamp {
            secs: st.st_atime,
            nanos: st.st_atime_nsec as u32,
        },
        Timestamp {
            secs: st.st_mtime,
            nanos: st.st_mtime_nsec as u32,
        },
    )
}

impl super::dir_stack::ResolveHooks for Ctx<'_> {
    fn implicit_dir(
        &mut self,
        parent: DirId,
        name: &[u8],
        comps: &[&[u8]],
        lower: Option<&rustix::fs::Stat>,
    ) {
        self.record_created(parent, name);
        if let Some(st) = lower {
            self.dir_times.insert(join(comps), stat_times(st));
        }
    }

    /// Rootfs mode: a directory of an earlier layer gets its times back at the end, so that
    /// adding entries to it does not change them (as umoci does); overlay layers start empty.
    /// Keyed by identity and recorded on first sight, so the times are those from before this
    /// layer however the directory is reached.
    fn existing_dir(
        &mut self,
        comps: &[&[u8]],
        st: &rustix::fs::Stat,
        linked: Option<BorrowedFd<'_>>,
    ) {
        if self.created.is_none() {
            return;
        }
        let id = (st.st_dev, st.st_ino);
        if self.kept_times.contains_key(&id) {
            return;
        }
        let (path, fd) = match linked {
            // Without a duplicate there is no way back to it: leave its times alone.
            Some(fd) => match rustix::io::fcntl_dupfd_cloexec(fd, 0) {
                Ok(dup) => (None, Some(dup)),
                Err(_) => return,
            },
            None => (Some(join(comps)), None),
        };
        self.kept_times.insert(
            id,
            Kept {
                times: stat_times(st),
                path,
                fd,
            },
        );
    }
}

fn ts(t: Timestamp) -> Timespec {
    Timespec {
        tv_sec: t.secs,
        tv_nsec: i64::from(t.nanos),
    }
}

/// `(atime, mtime)` of a member: the recorded access time, else the modification time.
fn times(e: &Entry) -> Timestamps {
    Timestamps {
        last_access: ts(e.atime.unwrap_or(e.mtime)),
        last_modification: ts(e.mtime),
    }
}

pub fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match rustix::io::write(fd, buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

impl Ctx<'_> {
    /// Owner of a member after the configured shift.
    fn owner(&self, path: &[u8], e: &Entry) -> Result<(u32, u32), ApplyError> {
        let shift = |id: u64, by: u32, what: &'static str| {
            id.checked_add(u64::from(by))
                .and_then(|v| u32::try_from(v).ok())
                .filter(|&v| v != u32::MAX)
                .ok_or(ApplyError::IdOutOfRange {
                    path: show(path),
                    what,
                    id,
                    shift: by,
                })
        };
        let (uid, gid) = match self.opts.owner {
            Some((uid, gid)) => (u64::from(uid), u64::from(gid)),
            None => (e.uid, e.gid),
        };
        Ok((
            shift(uid, self.opts.uid_shift, "uid")?,
            shift(gid, self.opts.gid_shift, "gid")?,
        ))
    }

    /// Does a new inode need an explicit owner change?
    fn needs_chown(&self, uid: u32, gid: u32, parent_setgid: bool) -> bool {
        uid != self.euid || gid != self.egid || parent_setgid
    }

    /// Does a new inode created with `mode & 0o777` need an explicit `chmod`? When the umask
    /// took bits away, or for setuid, setgid and sticky (never passed at creation; a `chown`
    /// would clear the first two anyway).
    fn needs_chmod(&self, mode: u32) -> bool {
        mode & 0o7000 != 0 || mode & 0o777 & self.umask != 0
    }

    /// Remove whatever is at `name` in `parent` to make room for a member (`Some(true)`: a
    /// directory; `None`: a whiteout): record whether a directory or link went. With
    /// `no_overwrite_dir_non_dir`, a directory replaced by a non-directory member or the
    /// reverse is an error instead.
    pub fn remove_existing(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        path: &[u8],
        member_is_dir: Option<bool>,
        out: &mut Outcome,
    ) -> Result<(), ApplyError> {
        let err = |source: io::Error| ApplyError::RemoveExisting {
            path: show(path),
            existing: show(path),
            source,
        };
        let st = match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(()),
            Err(e) => return Err(err(e.into())),
        };
        let ft = FileType::from_raw_mode(st.st_mode);
        if let Some(member_is_dir) = member_is_dir
            && self.opts.no_overwrite_dir_non_dir
            && (ft == FileType::Directory) != member_is_dir
        {
            return Err(if member_is_dir {
                ApplyError::OverwriteNonDirectory { path: show(path) }
            } else {
                ApplyError::OverwriteDirectory { path: show(path) }
            });
        }
        if ft == FileType::Directory {
            remove_all_at(parent, name).map_err(err)?;
            self.forget_dir_times(path);
            out.removed_dir_or_link = true;
        } else {
            match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(e) => return Err(err(e.into())),
            }
            if ft == FileType::Symlink {
                out.removed_dir_or_link = true;
            }
        }
        Ok(())
    }

    /// Drop pending directory times at or below `path` (it was removed).
    pub fn forget_dir_times(&mut self, path: &[u8]) {
        let mut prefix = path.to_vec();
        prefix.push(b'/');
        self.dir_times
            .retain(|k, _| k.as_slice() != path && !k.starts_with(&prefix));
        self.kept_times.retain(|_, k| {
            k.path
                .as_ref()
                .is_none_or(|p| p.as_slice() != path && !p.starts_with(&prefix))
        });
    }

    /// Remember that this layer created `name` in the directory `parent`.
    pub fn record_created(&mut self, parent: DirId, name: &[u8]) {
        if let Some(set) = &mut self.created {
            set.insert((parent, name.to_vec()));
        }
    }

    /// Create member `e` named `name` in `parent`; `path` is its cleaned path.
    #[allow(clippy::too_many_arguments)]
    pub fn create<R: io::Read>(
        &mut self,
        parent: BorrowedFd<'_>,
        parent_setgid: bool,
        name: &[u8],
        path: &[u8],
        e: &Entry,
        reader: &mut TarReader<R>,
        root: &super::dir_stack::DirStack,
    ) -> Result<Outcome, ApplyError> {
        let mut out = Outcome::default();
        self.record_created(root.top_id(), name);
        match e.kind {
            EntryKind::File => self.file(parent, parent_setgid, name, path, e, reader, &mut out)?,
            EntryKind::Directory => self.dir(parent, parent_setgid, name, path, e, &mut out)?,
            EntryKind::Symlink => self.symlink(parent, parent_setgid, name, path, e, &mut out)?,
            EntryKind::HardLink => self.hardlink(parent, name, path, e, root, &mut out)?,
            EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => {
                self.node(parent, parent_setgid, name, path, e, &mut out)?
            }
        }
        self.stats.entries += 1;
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn file<R: io::Read>(
        &mut self,
        parent: BorrowedFd<'_>,
        parent_setgid: bool,
        name: &[u8],
        path: &[u8],
        e: &Entry,
        reader: &mut TarReader<R>,
        out: &mut Outcome,
    ) -> Result<(), ApplyError> {
        let flags = OFlags::WRONLY
            | OFlags::CREATE
            | OFlags::EXCL
            | OFlags::NOFOLLOW
            | OFlags::CLOEXEC
            | OFlags::NOCTTY;
        let mode = Mode::from_raw_mode(e.mode & 0o777);
        let fd = match rustix::fs::openat(parent, name, flags, mode) {
            Ok(fd) => fd,
            Err(Errno::EXIST) => {
                self.remove_existing(parent, name, path, Some(false), out)?;
                rustix::fs::openat(parent, name, flags, mode).map_err(|err| {
                    ApplyError::CreateFile {
                        path: show(path),
                        source: err.into(),
                    }
                })?
            }
            Err(err) => {
                return Err(ApplyError::CreateFile {
                    path: show(path),
                    source: err.into(),
                });
            }
        };
        loop {
            let chunk = reader.data_chunk()?;
            if chunk.is_empty() {
                break;
            }
            self.stats.bytes += chunk.len() as u64;
            write_all(fd.as_fd(), chunk).map_err(|source| ApplyError::WriteFile {
                path: show(path),
                source,
            })?;
        }
        self.meta_fd(fd.as_fd(), parent_setgid, path, e, false)?;
        rustix::fs::futimens(&fd, &times(e)).map_err(|err| ApplyError::SetTimes {
            path: show(path),
            source: err.into(),
        })?;
        self.stats.files += 1;
        Ok(())
    }

    fn dir(
        &mut self,
        parent: BorrowedFd<'_>,
        parent_setgid: bool,
        name: &[u8],
        path: &[u8],
        e: &Entry,
        out: &mut Outcome,
    ) -> Result<(), ApplyError> {
        let mode = Mode::from_raw_mode(e.mode & 0o777);
        let mkdir_err = |err: Errno| ApplyError::CreateDir {
            path: show(path),
            source: err.into(),
        };
        match rustix::fs::mkdirat(parent, name, mode) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                let st = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(mkdirat_stat_err(path))?;
                if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
                    self.remove_existing(parent, name, path, Some(true), out)?;
                    rustix::fs::mkdirat(parent, name, mode).map_err(mkdir_err)?;
                }
            }
            Err(err) => return Err(mkdir_err(err)),
        }
        let fd = rustix::fs::openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(mkdir_err)?;
        self.meta_fd(fd.as_fd(), parent_setgid, path, e, true)?;
        let st = rustix::fs::fstat(&fd).map_err(mkdir_err)?;
        self.dir_times
            .insert(path.to_vec(), (e.atime.unwrap_or(e.mtime), e.mtime));
        self.stats.dirs += 1;
        out.new_dir = Some((fd, e.mode & 0o2000 != 0, (st.st_dev, st.st_ino)));
        Ok(())
    }

    /// Metadata of the root directory itself (a `./` member).
    pub fn root_dir(&mut self, root: BorrowedFd<'_>, e: &Entry) -> Result<(), ApplyError> {
        self.meta_fd(root, false, b".", e, true)?;
        self.dir_times
            .insert(Vec::new(), (e.atime.unwrap_or(e.mtime), e.mtime));
        self.stats.entries += 1;
        self.stats.dirs += 1;
        Ok(())
    }

    /// Owner, mode and extended attributes through an open fd.
    fn meta_fd(
        &mut self,
        fd: BorrowedFd<'_>,
        parent_setgid: bool,
        path: &[u8],
        e: &Entry,
        is_dir: bool,
    ) -> Result<(), ApplyError> {
        let (uid, gid) = self.owner(path, e)?;
        let chowned = is_dir || self.needs_chown(uid, gid, parent_setgid);
        if chowned {
            rustix::fs::fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).map_err(
                |err| ApplyError::SetOwner {
                    path: show(path),
                    uid,
                    gid,
                    source: err.into(),
                },
            )?;
        }
        // Directories always: mkdir applies the umask and inherits a parent's setgid bit.
        if is_dir || self.needs_chmod(e.mode) {
            rustix::fs::fchmod(fd, Mode::from_raw_mode(e.mode & 0o7777)).map_err(|err| {
                ApplyError::SetMode {
                    path: show(path),
                    mode: e.mode,
                    source: err.into(),
                }
            })?;
        }
        for (name, value) in &e.xattrs {
            if xattr::is_overlay_private(name) {
                continue;
            }
            self.xattr_result(path, name, xattr::set_fd(fd, name, value))?;
        }
        Ok(())
    }

    fn xattr_result(
        &mut self,
        path: &[u8],
        name: &[u8],
        r: io::Result<()>,
    ) -> Result<(), ApplyError> {
        match r {
            Ok(()) => Ok(()),
            // The filesystem does not support this namespace (Docker ignores these too).
            Err(err) if err.raw_os_error() == Some(Errno::OPNOTSUPP.raw_os_error()) => {
                self.stats.xattrs_skipped += 1;
                Ok(())
            }
            Err(source) => Err(ApplyError::SetXattr {
                path: show(path),
                name: show(name),
                source,
            }),
        }
    }

    /// Owner, mode, extended attributes and times of `name` in `parent` without opening it
    /// (symbolic links, devices, fifos).
    fn meta_at(
        &mut self,
        parent: BorrowedFd<'_>,
        parent_setgid: bool,
        name: &[u8],
        path: &[u8],
        e: &Entry,
        chmod: bool,
    ) -> Result<(), ApplyError> {
        let (uid, gid) = self.owner(path, e)?;
        let chowned = self.needs_chown(uid, gid, parent_setgid);
        if chowned {
            rustix::fs::chownat(
                parent,
                name,
                Some(Uid::from_raw(uid)),
                Some(Gid::from_raw(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|err| ApplyError::SetOwner {
                path: show(path),
                uid,
                gid,
                source: err.into(),
            })?;
        }
        if chmod && self.needs_chmod(e.mode) {
            // `name` was created just now by this process as a device or fifo, in a directory
            // only this extraction writes to: following it is not possible.
            rustix::fs::chmodat(
                parent,
                name,
                Mode::from_raw_mode(e.mode & 0o7777),
                AtFlags::empty(),
            )
            .map_err(|err| ApplyError::SetMode {
                path: show(path),
                mode: e.mode,
                source: err.into(),
            })?;
        }
        for (xname, value) in &e.xattrs {
            if xattr::is_overlay_private(xname) {
                continue;
            }
            let r = xattr::set_at(parent, name, xname, value);
            self.xattr_result(path, xname, r)?;
        }
        rustix::fs::utimensat(parent, name, &times(e), AtFlags::SYMLINK_NOFOLLOW).map_err(
            |err| ApplyError::SetTimes {
                path: show(path),
                source: err.into(),
            },
        )?;
        Ok(())
    }

    fn symlink(
        &mut self,
        parent: BorrowedFd<'_>,
        parent_setgid: bool,
        name: &[u8],
        path: &[u8],
        e: &Entry,
        out: &mut Outcome,
    ) -> Result<(), ApplyError> {
        let err = |err: Errno| ApplyError::CreateSymlink {
            path: show(path),
            target: show(&e.link),
            source: err.into(),
        };
        if e.link.contains(&0) {
            return Err(err(Errno::INVAL));
        }
        match rustix::fs::symlinkat(e.link.as_slice(), parent, name) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                self.remove_existing(parent, name, path, Some(false), out)?;
                rustix::fs::symlinkat(e.link.as_slice(), parent, name).map_err(err)?;
            }
            Err(e) => return Err(err(e)),
        }
        self.meta_at(parent, parent_setgid, name, path, e, false)?;
        self.stats.symlinks += 1;
        self.stats.symlink_bytes += e.link.len() as u64;
        Ok(())
    }

    fn hardlink(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        path: &[u8],
        e: &Entry,
        dirs: &super::dir_stack::DirStack,
        out: &mut Outcome,
    ) -> Result<(), ApplyError> {
        let target = super::layer_path::clean(&e.link).ok_or(ApplyError::PathEscape {
            path: show(&e.link),
        })?;
        let Some((tname, tparent)) = target.split_last() else {
            return Err(ApplyError::LinkTargetMissing {
                path: show(path),
                target: show(&e.link),
            });
        };
        let target_path = join(&target);
        if target_path == path {
            // A link to itself: nothing to do.
            self.stats.hardlinks += 1;
            return Ok(());
        }
        let missing = || ApplyError::LinkTargetMissing {
            path: show(path),
            target: show(&target_path),
        };
        let tdir = match dirs.open_in_root(tparent) {
            Ok(fd) => fd,
            Err(Errno::NOENT) | Err(Errno::NOTDIR) => return Err(missing()),
            Err(err) => {
                return Err(ApplyError::ResolveParent {
                    path: show(path),
                    parent: show(&join(tparent)),
                    source: err.into(),
                });
            }
        };
        let link = || rustix::fs::linkat(&tdir, *tname, parent, name, AtFlags::empty());
        let result = match link() {
            Err(Errno::EXIST) => {
                self.remove_existing(parent, name, path, Some(false), out)?;
                link()
            }
            r => r,
        };
        match result {
            Ok(()) => {}
            Err(Errno::NOENT) => return Err(missing()),
            Err(err) => {
                return Err(ApplyError::CreateHardlink {
                    path: show(path),
                    target: show(&target_path),
                    source: err.into(),
                });
            }
        }
        self.stats.hardlinks += 1;
        Ok(())
    }

    fn node(
        &mut self,
        parent: BorrowedFd<'_>,
        parent_setgid: bool,
        name: &[u8],
        path: &[u8],
        e: &Entry,
        out: &mut Outcome,
    ) -> Result<(), ApplyError> {
        let (ft, kind) = match e.kind {
            EntryKind::CharDevice => (FileType::CharacterDevice, "character device"),
            EntryKind::BlockDevice => (FileType::BlockDevice, "block device"),
            _ => (FileType::Fifo, "fifo"),
        };
        let dev = rustix::fs::makedev(e.dev_major, e.dev_minor);
        let mode = Mode::from_raw_mode(e.mode & 0o777);
        let err = |err: Errno| ApplyError::CreateNode {
            path: show(path),
            kind,
            source: err.into(),
        };
        match rustix::fs::mknodat(parent, name, ft, mode, dev) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                self.remove_existing(parent, name, path, Some(false), out)?;
                rustix::fs::mknodat(parent, name, ft, mode, dev).map_err(err)?;
            }
            Err(e) => return Err(err(e)),
        }
        self.meta_at(parent, parent_setgid, name, path, e, true)?;
        if e.kind == EntryKind::Fifo {
            self.stats.fifos += 1;
        } else {
            self.stats.devices += 1;
        }
        Ok(())
    }

    /// Remaining directory times, set after every member was created.
    pub fn dir_times_in(
        &self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        path: &[u8],
        t: (Timestamp, Timestamp),
    ) -> Result<(), ApplyError> {
        let times = Timestamps {
            last_access: ts(t.0),
            last_modification: ts(t.1),
        };
        match rustix::fs::utimensat(parent, name, &times, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(err) => Err(ApplyError::SetTimes {
                path: show(path),
                source: err.into(),
            }),
        }
    }

    /// Times of the root directory.
    pub fn root_times(
        &self,
        root: BorrowedFd<'_>,
        t: (Timestamp, Timestamp),
    ) -> Result<(), ApplyError> {
        let times = Timestamps {
            last_access: ts(t.0),
            last_modification: ts(t.1),
        };
        rustix::fs::futimens(root, &times).map_err(|err| ApplyError::SetTimes {
            path: ".".into(),
            source: err.into(),
        })
    }

    /// Is this extraction building a full root filesystem (whiteouts delete)?
    pub fn rootfs(&self) -> bool {
        self.opts.mode == ApplyMode::Rootfs
    }
}

fn mkdirat_stat_err(path: &[u8]) -> impl Fn(Errno) -> ApplyError + '_ {
    move |err| ApplyError::CreateDir {
        path: show(path),
        source: err.into(),
    }
}
