//! The diff walks: over an overlay upper directory, or over two trees side by side.

use std::collections::HashMap;
use std::ffi::{CString, OsString};
use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::{DiffError, DiffSource, DiffStats};
use crate::tar::{Entry, EntryKind, TarWriter, Timestamp};
use crate::xattr;

/// Write the layer tar of `source` to `out`.
pub fn write_diff(source: &DiffSource, out: impl Write) -> Result<DiffStats, DiffError> {
    write_diff_excluding(source, &[], out)
}

/// [`write_diff`], leaving out the paths `exclude` (relative to the root, `etc/hosts`) and
/// everything below them: a container's mount points that are not its changes.
pub fn write_diff_excluding(
    source: &DiffSource,
    exclude: &[&str],
    out: impl Write,
) -> Result<DiffStats, DiffError> {
    let mut w = Walker {
        tar: TarWriter::new(out),
        stats: DiffStats::default(),
        links: HashMap::new(),
        pending: Vec::new(),
        exclude: exclude
            .iter()
            .map(|p| p.trim_matches('/').as_bytes().to_vec())
            .collect(),
    };
    match source {
        DiffSource::OverlayUpper { upper } => w.overlay_dir(upper, b"")?,
        DiffSource::Trees { lower, upper } => {
            let lower = lower.as_deref().filter(|l| is_dir(l));
            w.tree_dir(lower, upper, b"", 0)?
        }
    }
    w.tar.finish().map_err(DiffError::Write)?;
    Ok(w.stats)
}

/// Write the tree at `path` to `out` as a tar (the inverse of extracting it), for `docker cp`
/// and `docker export`: with a non-empty `name`, `path` itself is the first member, named
/// `name` (a file, link or node alone; a directory followed by everything below it, named
/// `name/…`); with an empty `name`, the members are what `path` (a directory) holds, named
/// relative to it, and `path` itself is not written. Members are described as in a diff
/// (times in seconds, hard links among the written files as links, sockets skipped);
/// mounts below `path` are crossed.
pub fn write_tree(path: &Path, name: &[u8], out: impl Write) -> Result<DiffStats, DiffError> {
    let mut w = Walker {
        tar: TarWriter::new(out),
        stats: DiffStats::default(),
        links: HashMap::new(),
        pending: Vec::new(),
        exclude: Vec::new(),
    };
    if name.is_empty() {
        for child_name in read_sorted(path)? {
            w.added(&path.join(&child_name), child_name.as_bytes())?;
        }
    } else {
        w.added(path, name)?;
    }
    w.tar.finish().map_err(DiffError::Write)?;
    Ok(w.stats)
}

fn is_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

struct Walker<W: Write> {
    tar: TarWriter<W>,
    stats: DiffStats,
    /// First written path of each multiply-linked inode.
    links: HashMap<(u64, u64), Vec<u8>>,
    /// Unchanged ancestor directories not written yet, with their depth: written just before
    /// the first change below them.
    pending: Vec<(usize, Entry)>,
    /// Paths (relative, `etc/hosts`) left out with everything below them.
    exclude: Vec<Vec<u8>>,
}

/// The names in `dir`, sorted by bytes.
fn read_sorted(dir: &Path) -> Result<Vec<OsString>, DiffError> {
    let err = |source| DiffError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for e in fs::read_dir(dir).map_err(err)? {
        names.push(e.map_err(err)?.file_name());
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

fn child(rel: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = rel.to_vec();
    if !p.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

fn lstat(p: &Path) -> Result<Metadata, DiffError> {
    fs::symlink_metadata(p).map_err(|source| DiffError::Stat {
        path: p.to_path_buf(),
        source,
    })
}

/// All extended attributes of `p` (not following it), sorted by name.
fn xattrs(p: &Path) -> Result<xattr::Xattrs, DiffError> {
    let err = |source| DiffError::Xattrs {
        path: p.to_path_buf(),
        source,
    };
    let c = CString::new(p.as_os_str().as_bytes())
        .map_err(|_| err(io::ErrorKind::InvalidInput.into()))?;
    let mut v = xattr::list_path(&c).map_err(err)?;
    v.sort();
    Ok(v)
}

fn whiteout_name(rel_parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut n = b".wh.".to_vec();
    n.extend_from_slice(name);
    child(rel_parent, &n)
}

/// The member for `full` (at `rel` in the layer), with every attribute but overlay's own,
/// and the raw attribute list.
type Described = (Entry, xattr::Xattrs);

fn describe(full: &Path, rel: &[u8], md: &Metadata) -> Result<Option<Described>, DiffError> {
    let ft = md.file_type();
    let kind = if ft.is_dir() {
        EntryKind::Directory
    } else if ft.is_file() {
        EntryKind::File
    } else if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_char_device() {
        EntryKind::CharDevice
    } else if ft.is_block_device() {
        EntryKind::BlockDevice
    } else if ft.is_fifo() {
        EntryKind::Fifo
    } else {
        return Ok(None);
    };
    let mut path = rel.to_vec();
    if kind == EntryKind::Directory {
        path.push(b'/');
    }
    let mut e = Entry::new(kind, path);
    e.mode = md.mode() & 0o7777;
    e.uid = md.uid().into();
    e.gid = md.gid().into();
    e.mtime = Timestamp {
        secs: md.mtime(),
        nanos: 0,
    };
    if kind == EntryKind::File {
        e.size = md.len();
    }
    if kind == EntryKind::Symlink {
        e.link = fs::read_link(full)
            .map_err(|source| DiffError::ReadLink {
                path: full.to_path_buf(),
                source,
            })?
            .into_os_string()
            .into_vec();
    }
    if matches!(kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
        e.dev_major = rustix::fs::major(md.rdev());
        e.dev_minor = rustix::fs::minor(md.rdev());
    }
    let all = xattrs(full)?;
    e.xattrs = all
        .iter()
        .filter(|(n, _)| !xattr::is_overlay_private(n))
        .cloned()
        .collect();
    Ok(Some((e, all)))
}

fn has_xattr(all: &[(Vec<u8>, Vec<u8>)], names: &[&[u8]], value: Option<&[u8]>) -> bool {
    all.iter()
        .any(|(n, v)| names.contains(&n.as_slice()) && value.is_none_or(|want| v == want))
}

impl<W: Write> Walker<W> {
    /// Write the pending ancestors, then `e` (with the data of `full` for a file).
    /// `source` is the file and its metadata; `None` for a member without data (whiteouts).
    fn emit(&mut self, mut e: Entry, source: Option<(&Path, &Metadata)>) -> Result<(), DiffError> {
        for (_, p) in std::mem::take(&mut self.pending) {
            self.tar.append(&p, io::empty()).map_err(DiffError::Write)?;
            self.stats.dirs += 1;
            self.stats.entries += 1;
        }
        self.stats.entries += 1;
        match (e.kind, source) {
            (EntryKind::File, None) => self.tar.append(&e, io::empty()).map_err(DiffError::Write),
            (EntryKind::File, Some((full, md))) => {
                if md.nlink() > 1 {
                    let key = (md.dev(), md.ino());
                    if let Some(first) = self.links.get(&key) {
                        e.kind = EntryKind::HardLink;
                        e.link = first.clone();
                        e.size = 0;
                        e.xattrs.clear();
                        self.stats.hardlinks += 1;
                        return self.tar.append(&e, io::empty()).map_err(DiffError::Write);
                    }
                    self.links.insert(key, e.path.clone());
                }
                let file = fs::File::open(full).map_err(|source| DiffError::ReadFile {
                    path: full.to_path_buf(),
                    source,
                })?;
                self.tar.append(&e, file).map_err(|source| {
                    if source.kind() == io::ErrorKind::UnexpectedEof {
                        DiffError::ReadFile {
                            path: full.to_path_buf(),
                            source,
                        }
                    } else {
                        DiffError::Write(source)
                    }
                })?;
                self.stats.files += 1;
                self.stats.bytes += e.size;
                Ok(())
            }
            (kind, _) => {
                match kind {
                    EntryKind::Directory => self.stats.dirs += 1,
                    EntryKind::Symlink => self.stats.symlinks += 1,
                    _ => self.stats.nodes += 1,
                }
                self.tar.append(&e, io::empty()).map_err(DiffError::Write)
            }
        }
    }

    fn whiteout(&mut self, path: Vec<u8>, uid: u32, gid: u32, mtime: i64) -> Result<(), DiffError> {
        let mut e = Entry::new(EntryKind::File, path);
        e.mode = 0o600;
        e.uid = uid.into();
        e.gid = gid.into();
        e.mtime = Timestamp {
            secs: mtime,
            nanos: 0,
        };
        self.emit(e, None)?;
        self.stats.whiteouts += 1;
        Ok(())
    }

    /// Everything in an overlay upper directory.
    fn overlay_dir(&mut self, dir: &Path, parent_rel: &[u8]) -> Result<(), DiffError> {
        for name in read_sorted(dir)? {
            let full = dir.join(&name);
            let rel = child(parent_rel, name.as_bytes());
            if self.excluded(&rel) {
                continue;
            }
            let md = lstat(&full)?;
            if md.file_type().is_char_device() && md.rdev() == 0 {
                let path = whiteout_name(parent_rel, name.as_bytes());
                self.whiteout(path, md.uid(), md.gid(), md.mtime())?;
                continue;
            }
            let Some((entry, all)) = describe(&full, &rel, &md)? else {
                self.stats.sockets_skipped += 1;
                continue;
            };
            for feature in [
                &b"trusted.overlay.redirect"[..],
                b"trusted.overlay.metacopy",
                b"user.overlay.redirect",
                b"user.overlay.metacopy",
            ] {
                if has_xattr(&all, &[feature], None) {
                    return Err(DiffError::OverlayFeature {
                        path: full,
                        feature: String::from_utf8_lossy(feature).into_owned(),
                    });
                }
            }
            if entry.kind == EntryKind::Directory {
                let opaque = has_xattr(
                    &all,
                    &[b"trusted.overlay.opaque", b"user.overlay.opaque"],
                    Some(b"y"),
                );
                let (mode, uid, gid, mtime) = (entry.mode, md.uid(), md.gid(), md.mtime());
                if !opaque && self.above_excluded(&rel) {
                    // Copied up only for an excluded path below it (the
                    // runtime's mount points in /etc): written only if
                    // something else in it is.
                    let depth = rel.split(|&b| b == b'/').count();
                    self.pending.push((depth, entry));
                    self.overlay_dir(&full, &rel)?;
                    if self.pending.last().is_some_and(|(d, _)| *d == depth) {
                        self.pending.pop();
                    }
                    continue;
                }
                self.emit(entry, Some((&full, &md)))?;
                if opaque {
                    let mut e = Entry::new(EntryKind::File, child(&rel, b".wh..wh..opq"));
                    e.mode = mode & 0o777;
                    e.uid = uid.into();
                    e.gid = gid.into();
                    e.mtime = Timestamp {
                        secs: mtime,
                        nanos: 0,
                    };
                    self.emit(e, None)?;
                    self.stats.opaque_dirs += 1;
                }
                self.overlay_dir(&full, &rel)?;
            } else {
                self.emit(entry, Some((&full, &md)))?;
            }
        }
        Ok(())
    }

    /// Whether an excluded path lies below `rel`.
    fn above_excluded(&self, rel: &[u8]) -> bool {
        self.exclude
            .iter()
            .any(|x| x.len() > rel.len() && x.starts_with(rel) && x[rel.len()] == b'/')
    }

    fn excluded(&self, rel: &[u8]) -> bool {
        self.exclude.iter().any(|x| x.as_slice() == rel)
    }

    /// Everything below `full`: new, so written whole.
    fn added(&mut self, full: &Path, rel: &[u8]) -> Result<(), DiffError> {
        if self.excluded(rel) {
            return Ok(());
        }
        let md = lstat(full)?;
        let Some((entry, _)) = describe(full, rel, &md)? else {
            self.stats.sockets_skipped += 1;
            return Ok(());
        };
        let is_dir = entry.kind == EntryKind::Directory;
        self.emit(entry, Some((full, &md)))?;
        if is_dir {
            for name in read_sorted(full)? {
                self.added(&full.join(&name), &child(rel, name.as_bytes()))?;
            }
        }
        Ok(())
    }

    /// Compare the directories `lower` (if any) and `upper`, both at `rel`.
    fn tree_dir(
        &mut self,
        lower: Option<&Path>,
        upper: &Path,
        rel: &[u8],
        depth: usize,
    ) -> Result<(), DiffError> {
        let unames = read_sorted(upper)?;
        let lnames = match lower {
            Some(l) => read_sorted(l)?,
            None => Vec::new(),
        };
        let (mut i, mut j) = (0, 0);
        while i < unames.len() || j < lnames.len() {
            let order = match (unames.get(i), lnames.get(j)) {
                (Some(u), Some(l)) => u.as_bytes().cmp(l.as_bytes()),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match order {
                std::cmp::Ordering::Less => {
                    let name = &unames[i];
                    self.added(&upper.join(name), &child(rel, name.as_bytes()))?;
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    let name = &lnames[j];
                    if !self.excluded(&child(rel, name.as_bytes())) {
                        self.whiteout(whiteout_name(rel, name.as_bytes()), 0, 0, 0)?;
                    }
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    let name = &unames[i];
                    let (ufull, lfull) = (upper.join(name), lower.map(|l| l.join(name)));
                    let crel = child(rel, name.as_bytes());
                    if self.excluded(&crel) {
                        i += 1;
                        j += 1;
                        continue;
                    }
                    self.compare(lfull.as_deref(), &ufull, &crel, depth + 1)?;
                    i += 1;
                    j += 1;
                }
            }
        }
        Ok(())
    }

    /// An entry present on both sides.
    fn compare(
        &mut self,
        lower: Option<&Path>,
        upper: &Path,
        rel: &[u8],
        depth: usize,
    ) -> Result<(), DiffError> {
        let Some(lower) = lower else {
            return self.added(upper, rel);
        };
        let umd = lstat(upper)?;
        let lmd = lstat(lower)?;
        let Some((ue, _)) = describe(upper, rel, &umd)? else {
            self.stats.sockets_skipped += 1;
            return Ok(());
        };
        let le = describe(lower, rel, &lmd)?.map(|(e, _)| e);
        let same_kind = le.as_ref().is_some_and(|l| l.kind == ue.kind);
        if !same_kind {
            return self.added(upper, rel);
        }
        let Some(le) = le else {
            return self.added(upper, rel);
        };
        let changed = ue.mode != le.mode
            || ue.uid != le.uid
            || ue.gid != le.gid
            || umd.mtime() != lmd.mtime()
            || umd.mtime_nsec() != lmd.mtime_nsec()
            || ue.size != le.size
            || ue.link != le.link
            || (ue.dev_major, ue.dev_minor) != (le.dev_major, le.dev_minor)
            || ue.xattrs != le.xattrs;
        if ue.kind == EntryKind::Directory {
            if changed {
                self.emit(ue, Some((upper, &umd)))?;
            } else {
                self.pending.push((depth, ue));
            }
            self.tree_dir(Some(lower), upper, rel, depth)?;
            if self.pending.last().is_some_and(|(d, _)| *d == depth) {
                self.pending.pop();
            }
        } else if changed {
            self.emit(ue, Some((upper, &umd)))?;
        }
        Ok(())
    }
}
