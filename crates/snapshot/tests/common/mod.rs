//! Helpers shared by the integration tests: layer tars built with the `tar` crate (and raw
//! hand-made headers for what it refuses to write), and a tree snapshot to compare two
//! directories entry by entry (kind, mode, owner, times, content, link target, device number,
//! extended attributes, hard link grouping).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// True when running as root; otherwise prints a loud SKIP line.
pub fn require_root(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    eprintln!("SKIP: {test}: needs root (devices, owners, trusted xattrs, mounts)");
    false
}

/// A temporary directory named with the `berth` prefix.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("berth-snapshot-test-")
        .tempdir()
        .expect("create a temporary directory")
}

/// Builds a layer tar with the `tar` crate.
pub struct Layer {
    b: tar::Builder<Vec<u8>>,
}

pub const MTIME: u64 = 1_600_000_000;

impl Default for Layer {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer {
    pub fn new() -> Layer {
        let mut b = tar::Builder::new(Vec::new());
        b.mode(tar::HeaderMode::Complete);
        Layer { b }
    }

    fn header(kind: tar::EntryType, mode: u32, uid: u64, gid: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(MTIME);
        h.set_size(0);
        h
    }

    fn xattrs(&mut self, xattrs: &[(&str, &[u8])]) {
        if xattrs.is_empty() {
            return;
        }
        let keys: Vec<(String, &[u8])> = xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), *v))
            .collect();
        self.b
            .append_pax_extensions(keys.iter().map(|(k, v)| (k.as_str(), *v)))
            .unwrap();
    }

    pub fn file(&mut self, path: &str, data: &[u8], mode: u32) -> &mut Layer {
        self.file_full(path, data, mode, 0, 0, &[])
    }

    pub fn file_full(
        &mut self,
        path: &str,
        data: &[u8],
        mode: u32,
        uid: u64,
        gid: u64,
        xattrs: &[(&str, &[u8])],
    ) -> &mut Layer {
        self.xattrs(xattrs);
        let mut h = Self::header(tar::EntryType::Regular, mode, uid, gid);
        h.set_size(data.len() as u64);
        self.b.append_data(&mut h, path, data).unwrap();
        self
    }

    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Layer {
        self.dir_full(path, mode, 0, 0, &[])
    }

    pub fn dir_full(
        &mut self,
        path: &str,
        mode: u32,
        uid: u64,
        gid: u64,
        xattrs: &[(&str, &[u8])],
    ) -> &mut Layer {
        self.xattrs(xattrs);
        let mut h = Self::header(tar::EntryType::Directory, mode, uid, gid);
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Layer {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0, 0);
        self.b.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Layer {
        let mut h = Self::header(tar::EntryType::Link, 0o644, 0, 0);
        self.b.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn device(&mut self, path: &str, block: bool, major: u32, minor: u32) -> &mut Layer {
        let kind = if block {
            tar::EntryType::Block
        } else {
            tar::EntryType::Char
        };
        let mut h = Self::header(kind, 0o660, 0, 6);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    pub fn fifo(&mut self, path: &str) -> &mut Layer {
        let mut h = Self::header(tar::EntryType::Fifo, 0o600, 0, 0);
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    /// `dir/.wh.name`.
    pub fn whiteout(&mut self, dir_and_name: &str) -> &mut Layer {
        let p = Path::new(dir_and_name);
        let name = p.file_name().unwrap().to_str().unwrap();
        let wh = p.with_file_name(format!(".wh.{name}"));
        self.file(wh.to_str().unwrap(), b"", 0o644)
    }

    /// `dir/.wh..wh..opq`.
    pub fn opaque(&mut self, dir: &str) -> &mut Layer {
        self.file(&format!("{dir}/.wh..wh..opq"), b"", 0o644)
    }

    /// Append a raw member (see [`raw_header`]).
    pub fn raw(&mut self, block: &[u8; 512], data: &[u8]) -> &mut Layer {
        let out = self.b.get_mut();
        out.extend_from_slice(block);
        out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.b.into_inner().unwrap()
    }

    /// The archive so far plus the end marker, from a `&mut` chain.
    pub fn clone_finish(&mut self) -> Vec<u8> {
        let mut v = self.b.get_ref().clone();
        v.extend_from_slice(&[0u8; 1024]);
        v
    }
}

/// A hand-made USTAR header with any name and link bytes (the `tar` crate refuses `..`).
pub fn raw_header(kind: u8, name: &[u8], link: &[u8], size: u64, mode: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    assert!(name.len() <= 100 && link.len() <= 100);
    h[..name.len()].copy_from_slice(name);
    let oct = |f: &mut [u8], v: u64| {
        let w = f.len() - 1;
        let s = format!("{v:0w$o}");
        f[..w].copy_from_slice(s.as_bytes());
    };
    oct(&mut h[100..108], u64::from(mode));
    oct(&mut h[108..116], 0);
    oct(&mut h[116..124], 0);
    oct(&mut h[124..136], size);
    oct(&mut h[136..148], MTIME);
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    h
}

/// A layer made only of raw members.
pub fn raw_layer(members: &[([u8; 512], Vec<u8>)]) -> Vec<u8> {
    let mut l = Layer::new();
    for (h, d) in members {
        l.raw(h, d);
    }
    l.finish()
}

/// One filesystem entry as the comparisons see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub mtime_nsec: i64,
    pub content: Option<Vec<u8>>,
    pub link: Option<PathBuf>,
    pub rdev: Option<(u32, u32)>,
    pub xattrs: BTreeMap<String, Vec<u8>>,
    /// The first path (in sorted order) sharing this inode, for hard links.
    pub inode_group: PathBuf,
}

/// What to compare.
#[derive(Clone, Copy, Debug)]
pub struct Compare {
    pub mtime: bool,
    pub mtime_nsec: bool,
    pub dir_mtime: bool,
    pub root: bool,
    pub hardlinks: bool,
}

impl Default for Compare {
    fn default() -> Self {
        Compare {
            mtime: true,
            mtime_nsec: true,
            dir_mtime: true,
            root: false,
            hardlinks: true,
        }
    }
}

fn xattrs_of(p: &Path) -> BTreeMap<String, Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let mut buf = vec![0u8; 65536];
    let n = match rustix::fs::llistxattr(c.as_c_str(), &mut buf[..]) {
        Ok(n) => n,
        Err(_) => return BTreeMap::new(),
    };
    let mut out = BTreeMap::new();
    for name in buf[..n].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let cn = std::ffi::CString::new(name).unwrap();
        let mut v = vec![0u8; 65536];
        if let Ok(m) = rustix::fs::lgetxattr(c.as_c_str(), cn.as_c_str(), &mut v[..]) {
            v.truncate(m);
            out.insert(String::from_utf8_lossy(name).into_owned(), v);
        }
    }
    out
}

/// Every entry below `root` (relative paths; `""` for the root itself).
pub fn tree(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut paths = Vec::new();
    walk(root, Path::new(""), &mut paths);
    paths.sort();
    let mut first_of_inode: BTreeMap<(u64, u64), PathBuf> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for rel in paths {
        let full = if rel.as_os_str().is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let md = fs::symlink_metadata(&full).unwrap();
        let ft = md.file_type();
        let kind = if ft.is_dir() {
            "dir"
        } else if ft.is_file() {
            "file"
        } else if ft.is_symlink() {
            "symlink"
        } else if ft.is_char_device() {
            "char"
        } else if ft.is_block_device() {
            "block"
        } else if ft.is_fifo() {
            "fifo"
        } else {
            "socket"
        };
        let group = first_of_inode
            .entry((md.dev(), md.ino()))
            .or_insert_with(|| rel.clone())
            .clone();
        let node = Node {
            kind,
            mode: md.mode() & 0o7777,
            uid: md.uid(),
            gid: md.gid(),
            mtime: md.mtime(),
            mtime_nsec: md.mtime_nsec(),
            content: ft.is_file().then(|| fs::read(&full).unwrap()),
            link: ft.is_symlink().then(|| fs::read_link(&full).unwrap()),
            rdev: (ft.is_char_device() || ft.is_block_device()).then(|| {
                let d = md.rdev();
                (rustix::fs::major(d), rustix::fs::minor(d))
            }),
            xattrs: xattrs_of(&full),
            inode_group: group,
        };
        out.insert(rel, node);
    }
    out
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    out.push(rel.to_path_buf());
    let full = root.join(rel);
    if !fs::symlink_metadata(&full).unwrap().is_dir() {
        return;
    }
    for e in fs::read_dir(&full).unwrap() {
        let e = e.unwrap();
        walk(root, &rel.join(e.file_name()), out);
    }
}

/// Assert two trees are equal under `cmp`, listing every difference.
pub fn assert_same_tree(a: &Path, b: &Path, cmp: Compare) {
    let ta = tree(a);
    let tb = tree(b);
    let mut diffs = Vec::new();
    for (p, na) in &ta {
        if p.as_os_str().is_empty() && !cmp.root {
            continue;
        }
        let Some(nb) = tb.get(p) else {
            diffs.push(format!("{}: only in {}", p.display(), a.display()));
            continue;
        };
        let mut na = na.clone();
        let mut nb = nb.clone();
        if !cmp.mtime || (na.kind == "dir" && !cmp.dir_mtime) {
            na.mtime = 0;
            nb.mtime = 0;
        }
        if !cmp.mtime_nsec || !cmp.mtime || (na.kind == "dir" && !cmp.dir_mtime) {
            na.mtime_nsec = 0;
            nb.mtime_nsec = 0;
        }
        if !cmp.hardlinks {
            na.inode_group = PathBuf::new();
            nb.inode_group = PathBuf::new();
        }
        if na != nb {
            diffs.push(format!("{}:\n  {:?}\n  {:?}", p.display(), na, nb));
        }
    }
    for p in tb.keys() {
        if !ta.contains_key(p) && (cmp.root || !p.as_os_str().is_empty()) {
            diffs.push(format!("{}: only in {}", p.display(), b.display()));
        }
    }
    assert!(
        diffs.is_empty(),
        "trees differ ({} vs {}):\n{}",
        a.display(),
        b.display(),
        diffs.join("\n")
    );
}

/// gzip `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// List every path below `dir` (for "nothing landed outside" checks).
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    tree(dir).into_keys().collect()
}

/// Run `f` on a new thread in a private mount namespace (`unshare(CLONE_NEWNS)` and `/` made
/// recursively private), so mounts made by `f` are never seen by the host and vanish with the
/// thread even if `f` panics. Panics of `f` are propagated.
pub fn in_private_mount_ns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = std::thread::spawn(move || {
        // SAFETY: only NEWNS (which implies unsharing fs attributes, not the fd table), so no
        // thread can be left with file descriptors it cannot use.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNS) }
            .expect("unshare(CLONE_NEWNS)");
        rustix::mount::mount_change(
            "/",
            rustix::mount::MountPropagationFlags::REC
                | rustix::mount::MountPropagationFlags::PRIVATE,
        )
        .expect("make / rprivate");
        f()
    });
    match handle.join() {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e),
    }
}
