//! Applying a layer: extract an uncompressed layer tar into a directory, safely and fast.
//!
//! Two destinations ([`ApplyMode`]):
//! - [`ApplyMode::OverlayLayer`]: `dest` is the layer's own directory in an overlay stack
//!   (initially empty; later a `lowerdir`). Whiteouts become overlayfs whiteouts (0:0 character
//!   devices) and opaque markers (`trusted.overlay.opaque=y`).
//! - [`ApplyMode::Rootfs`]: `dest` is a complete root filesystem (the copying snapshotter's
//!   copy of the parent). Whiteouts delete what they name; hard links may point at files of
//!   earlier layers.
//!
//! # Nothing is written outside `dest`
//!
//! - Member names are cleaned lexically first ([`layer_path`]): leading `/` dropped, `..` that
//!   would climb above the root refused ([`ApplyError::PathEscape`]).
//! - Parents are walked by fd from `dest`, never by path; symbolic links on the way (from this
//!   or an earlier layer) are resolved by the kernel *inside* `dest` with `openat2`
//!   `RESOLVE_IN_ROOT` ([`dir_stack`]). A dangling link as a parent is an error.
//! - The final component is never followed: files are created `O_EXCL | O_NOFOLLOW`, anything
//!   already there (a symbolic link planted by an earlier member, a hard link) is removed first,
//!   so no write goes through it. Hard link targets are resolved inside `dest` and linked
//!   without following. Whiteouts of `.`/`..` are refused.
//!
//! # Speed
//!
//! One pass over the stream, no per-file fsync (the caller syncs once, e.g. `syncfs`), parents
//! cached as fds, metadata calls skipped when the kernel's defaults are already right, file data
//! written straight from the reader's buffer. Directory times are set once at the end.

mod create;
mod dir_stack;
mod error;
pub(crate) mod layer_path;
mod lowers;
mod whiteout;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use crate::Mount;
use crate::tar::{EntryKind, TarReader};
use create::Ctx;
pub(crate) use create::write_all;
use dir_stack::{DirStack, Resolved};
use layer_path::{clean, join, show};
use whiteout::Whiteout;

pub use error::ApplyError;

/// What kind of directory a layer is applied to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApplyMode {
    /// The layer's own directory in an overlay stack: whiteouts become overlay whiteouts.
    #[default]
    OverlayLayer,
    /// A complete root filesystem: whiteouts delete.
    Rootfs,
}

/// How to apply a layer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// The destination kind.
    pub mode: ApplyMode,
    /// Added to every owner uid (for a user namespace whose root is this host uid).
    pub uid_shift: u32,
    /// Added to every owner gid.
    pub gid_shift: u32,
    /// Mark opaque directories with `user.overlay.opaque` instead of `trusted.overlay.opaque`
    /// (for an overlay mounted with `userxattr`, inside a user namespace).
    pub userxattr: bool,
    /// [`ApplyMode::OverlayLayer`]: the lower layer directories this layer goes on, uppermost
    /// first. A parent directory the layer lacks is then created with the attributes of the
    /// lower directory it stands for, and a path through a lower symbolic link is followed
    /// (see `lowers.rs`); without them such parents are plain `0755` directories, as in
    /// Docker's overlay2. Also gives the layer's root the times of the lower root.
    pub lowers: Vec<PathBuf>,
    /// Refuse a member that would replace an existing directory with a non-directory or an
    /// existing non-directory with a directory ([`ApplyError::OverwriteDirectory`],
    /// [`ApplyError::OverwriteNonDirectory`]), as `docker cp` asks (`noOverwriteDirNonDir`).
    pub no_overwrite_dir_non_dir: bool,
    /// Give every member this owner (uid, gid) instead of the archive's (`docker cp -a`
    /// extracts as the container's user); the id shifts still apply.
    pub owner: Option<(u32, u32)>,
}

/// What an extraction did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// Members applied (whiteouts included, skipped AUFS metadata not).
    pub entries: u64,
    /// Regular files written.
    pub files: u64,
    /// Directories created or updated.
    pub dirs: u64,
    /// Symbolic links.
    pub symlinks: u64,
    /// Hard links.
    pub hardlinks: u64,
    /// Character and block devices.
    pub devices: u64,
    /// Fifos.
    pub fifos: u64,
    /// `.wh.<name>` whiteouts.
    pub whiteouts: u64,
    /// `.wh..wh..opq` opaque markers.
    pub opaque_dirs: u64,
    /// Bytes of file data written.
    pub bytes: u64,
    /// Bytes of symlink targets (a symlink's `st_size`).
    pub symlink_bytes: u64,
    /// Bytes of the (uncompressed) archive read, end-of-archive padding included.
    pub archive_bytes: u64,
    /// Extended attributes the filesystem refused as unsupported (`EOPNOTSUPP`).
    pub xattrs_skipped: u64,
}

/// Extract the uncompressed layer tar `tar` into `dest` (an existing directory).
///
/// `tar` is read to its very end (so that a decompressor checks its trailer and a hashing
/// reader sees every byte). On error `dest` holds part of the layer: discard it.
pub fn apply_layer(
    dest: &Path,
    tar: impl Read,
    opts: &ApplyOptions,
) -> Result<ApplyStats, ApplyError> {
    let root = rustix::fs::open(
        dest,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ApplyError::OpenDest {
        path: dest.to_path_buf(),
        source: e.into(),
    })?;
    apply_layer_at(root, dest, tar, opts)
}

/// [`apply_layer`] into the open directory `root` (`dest` names it in errors).
fn apply_layer_at(
    root: OwnedFd,
    dest: &Path,
    tar: impl Read,
    opts: &ApplyOptions,
) -> Result<ApplyStats, ApplyError> {
    let mut lower_fds = Vec::new();
    if opts.mode == ApplyMode::OverlayLayer {
        for l in &opts.lowers {
            let fd = rustix::fs::open(
                l,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| ApplyError::OpenLower {
                path: l.clone(),
                source: e.into(),
            })?;
            lower_fds.push(fd);
        }
    }
    let lowers = lowers::Lowers::new(lower_fds, opts.userxattr);
    let lower_root_times = match (opts.mode, lowers.first_root()) {
        (ApplyMode::OverlayLayer, Some(l)) => rustix::fs::fstat(l).ok(),
        _ => None,
    };
    let root_stat = match opts.mode {
        ApplyMode::Rootfs => rustix::fs::fstat(&root).ok(),
        ApplyMode::OverlayLayer => None,
    };
    let mut dirs = DirStack::new(root, lowers).map_err(|source| ApplyError::OpenDest {
        path: dest.to_path_buf(),
        source,
    })?;
    let mut ctx = Ctx {
        opts,
        euid: rustix::process::geteuid().as_raw(),
        egid: rustix::process::getegid().as_raw(),
        umask: current_umask(),
        stats: ApplyStats::default(),
        created: (opts.mode == ApplyMode::Rootfs).then(HashSet::new),
        dir_times: BTreeMap::new(),
        kept_times: HashMap::new(),
    };
    if let Some(st) = &lower_root_times {
        ctx.dir_times.insert(Vec::new(), create::stat_times(st));
    }
    if let Some(st) = &root_stat {
        ctx.kept_times.insert(
            (st.st_dev, st.st_ino),
            create::Kept {
                times: create::stat_times(st),
                path: None,
                fd: None,
            },
        );
    }
    let mut reader = TarReader::new(tar);
    while let Some(entry) = reader.next_entry()? {
        let comps = clean(&entry.path).ok_or_else(|| ApplyError::PathEscape {
            path: show(&entry.path),
        })?;
        let Some((name, parent_comps)) = comps.split_last() else {
            if entry.kind != EntryKind::Directory {
                return Err(ApplyError::ReplaceRoot {
                    path: show(&entry.path),
                });
            }
            dirs.clear();
            ctx.root_dir(dirs.root(), &entry)?;
            continue;
        };
        let path = join(&comps);
        let kind = whiteout::classify(name).map_err(|()| ApplyError::InvalidWhiteout {
            path: show(&entry.path),
        })?;
        let rootfs = ctx.rootfs();
        let parent_path = join(parent_comps);
        let outcome = match kind {
            Whiteout::Skip => continue,
            Whiteout::No => {
                dirs.resolve(parent_comps, true, &path, &mut ctx)?;
                let (parent, setgid) = dirs.top();
                ctx.create(parent, setgid, name, &path, &entry, &mut reader, &dirs)?
            }
            Whiteout::Opaque if rootfs => {
                match dirs.resolve(parent_comps, false, &path, &mut ctx)? {
                    Resolved::Found => {
                        ctx.delete_opaque(dirs.top().0, dirs.top_id(), &parent_path)?
                    }
                    Resolved::Missing => continue,
                }
            }
            Whiteout::Opaque => {
                dirs.resolve(parent_comps, true, &path, &mut ctx)?;
                ctx.overlay_opaque(dirs.top().0, &parent_path)?;
                continue;
            }
            Whiteout::Delete(target) => {
                let mut tpath = parent_path.clone();
                if !tpath.is_empty() {
                    tpath.push(b'/');
                }
                tpath.extend_from_slice(target);
                if rootfs {
                    match dirs.resolve(parent_comps, false, &path, &mut ctx)? {
                        Resolved::Found => ctx.delete_whiteout(dirs.top().0, target, &tpath)?,
                        Resolved::Missing => continue,
                    }
                } else {
                    dirs.resolve(parent_comps, true, &path, &mut ctx)?;
                    ctx.overlay_whiteout(dirs.top().0, target, &tpath, &entry)?
                }
            }
        };
        if outcome.removed_dir_or_link {
            dirs.clear();
        } else if let Some((fd, setgid, id)) = outcome.new_dir {
            dirs.push(name, fd, setgid, id);
        }
    }
    ctx.stats.archive_bytes = reader.offset();

    // Directory times last: creating entries inside a directory changes its mtime. First the
    // earlier layers' directories this one touched, then this layer's own (which win).
    dirs.clear();
    let mut kept: Vec<create::Kept> = std::mem::take(&mut ctx.kept_times).into_values().collect();
    kept.sort_by(|a, b| a.path.cmp(&b.path));
    for k in kept {
        match (&k.fd, &k.path) {
            (Some(fd), _) => ctx.root_times(fd.as_fd(), k.times)?,
            (None, None) => ctx.root_times(dirs.root(), k.times)?,
            (None, Some(path)) => {
                let comps: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
                let Some((name, parent)) = comps.split_last() else {
                    continue;
                };
                if let Resolved::Found =
                    dirs.resolve(parent, false, path, &mut dir_stack::NoHooks)?
                {
                    ctx.dir_times_in(dirs.top().0, name, path, k.times)?;
                }
            }
        }
    }
    let times = std::mem::take(&mut ctx.dir_times);
    for (path, t) in times {
        if path.is_empty() {
            ctx.root_times(dirs.root(), t)?;
            continue;
        }
        let comps: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
        let Some((name, parent)) = comps.split_last() else {
            continue;
        };
        if let Resolved::Found = dirs.resolve(parent, false, &path, &mut dir_stack::NoHooks)? {
            ctx.dir_times_in(dirs.top().0, name, &path, t)?;
        }
    }
    Ok(ctx.stats)
}

/// The process umask, from `/proc/self/status` (reading it with `umask(2)` would change it
/// for every thread for a moment). When unknown, every created inode gets an explicit `chmod`.
fn current_umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o777)
}

/// Where and how to apply a layer into a snapshot, read from the snapshot's mounts without
/// mounting anything (as containerd's applier does):
///
/// - an `overlay` mount with `upperdir=`: the upper directory, [`ApplyMode::OverlayLayer`]
///   (`userxattr` and the lower directories carried over);
/// - a read-write `bind` mount: its source, [`ApplyMode::Rootfs`] (the copying snapshotter's
///   tree, or an overlay snapshot without parent, where whiteouts have nothing to hide).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyTarget {
    /// The directory to extract into.
    pub dir: PathBuf,
    /// The options to extract with (ids unshifted).
    pub options: ApplyOptions,
}

impl ApplyTarget {
    /// The target of the active snapshot whose mounts are `mounts`; `None` for mounts that
    /// cannot take a layer (read-only, several mounts, an overlay without upper directory).
    pub fn from_mounts(mounts: &[Mount]) -> Option<ApplyTarget> {
        let [m] = mounts else { return None };
        if m.is_read_only() {
            return None;
        }
        match m.kind.as_str() {
            "overlay" => {
                let upper = m.option_value("upperdir")?;
                Some(ApplyTarget {
                    dir: PathBuf::from(upper),
                    options: ApplyOptions {
                        mode: ApplyMode::OverlayLayer,
                        userxattr: m.options.iter().any(|o| o == "userxattr"),
                        lowers: m.lowerdirs().into_iter().map(PathBuf::from).collect(),
                        ..ApplyOptions::default()
                    },
                })
            }
            "bind" | "rbind" => Some(ApplyTarget {
                dir: PathBuf::from(&m.source),
                options: ApplyOptions {
                    mode: ApplyMode::Rootfs,
                    ..ApplyOptions::default()
                },
            }),
            _ => None,
        }
    }

    /// Apply the layer `tar` here (see [`apply_layer`]).
    pub fn apply(&self, tar: impl Read) -> Result<ApplyStats, ApplyError> {
        apply_layer(&self.dir, tar, &self.options)
    }

    /// Apply the layer `tar` as this target would, but into a private staging tmpfs, and write
    /// the result as the EROFS image `image` (a new file) instead of into [`ApplyTarget::dir`]
    /// (see [`crate::erofs`] and [`Snapshotter::layer_image`](crate::Snapshotter::layer_image)).
    pub fn apply_to_image(&self, tar: impl Read, image: &Path) -> Result<ApplyStats, ApplyError> {
        let stage = crate::erofs::stage().map_err(ApplyError::Stage)?;
        let root = stage
            .as_fd()
            .try_clone_to_owned()
            .map_err(ApplyError::Stage)?;
        let mut stats = apply_layer_at(root, Path::new("(staging tmpfs)"), tar, &self.options)?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(image)
            .map_err(|source| ApplyError::CreateImage {
                path: image.to_path_buf(),
                source,
            })?;
        let written = crate::erofs::write_image(stage.as_fd(), &file).map_err(|source| {
            ApplyError::WriteImage {
                path: image.to_path_buf(),
                source,
            }
        })?;
        stats.xattrs_skipped += written.xattrs_skipped;
        Ok(stats)
    }
}
