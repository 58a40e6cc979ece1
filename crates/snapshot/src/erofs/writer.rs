//! Writing an uncompressed EROFS image of a directory tree (the kernel's on-disk format,
//! `fs/erofs/erofs_fs.h`): 4 KiB blocks, 64-byte extended inodes (32-bit ids, mtimes with
//! nanoseconds, 64-bit sizes), inline extended attributes, small files and symbolic links
//! stored right after their inode (`FLAT_INLINE`), everything else in whole blocks
//! (`FLAT_PLAIN`).
//!
//! Layout of the image, in this order:
//!
//! ```text
//! block 0              the superblock at byte 1024
//! data blocks          regular files and long symbolic links, copied while the tree is walked
//! directory blocks     sorted dirents, one directory after the other
//! metadata blocks      the inodes (nid = offset from the metadata start / 32), root first
//! ```
//!
//! The tree is read by descriptor, never by path (`openat` with `O_NOFOLLOW`), so nothing
//! outside it is ever looked at. Hard links inside the tree become one inode with its link
//! count. Extended attributes whose namespace EROFS cannot name without long-prefix tables
//! (anything but `user.`, `trusted.`, `security.` and the two POSIX ACLs) are skipped and
//! counted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::xattr;

const BLOCK: u64 = 4096;
const BLOCK_BITS: u8 = 12;
const MAGIC: u32 = 0xE0F5_E1E2;
const SUPER_OFFSET: u64 = 1024;
const INODE_SIZE: usize = 64;
const DIRENT_SIZE: usize = 12;
const XATTR_HEADER: usize = 12;
/// The most file data kept in memory for inline storage; beyond it small files get blocks.
const INLINE_BUDGET: usize = 64 << 20;
/// Deeper trees are refused (the walk recurses once per level).
const MAX_DEPTH: usize = 4096;

const FORMAT_EXTENDED: u16 = 1;
const LAYOUT_FLAT_PLAIN: u16 = 0;
const LAYOUT_FLAT_INLINE: u16 = 2;

/// What [`write_image`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImageStats {
    /// Inodes in the image.
    pub inodes: u64,
    /// Size of the image in bytes.
    pub bytes: u64,
    /// Extended attributes left out (a namespace EROFS cannot name, or a 64 KiB value).
    pub xattrs_skipped: u64,
}

/// Why an image could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Reading the source tree failed.
    #[error("EROFS image: read '{path}'")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    /// Writing the image file failed.
    #[error("EROFS image: write")]
    Write(#[source] io::Error),
    /// The tree does not fit the format (more than 16 TiB, a directory nested too deep).
    #[error("EROFS image: {0}")]
    TooLarge(String),
}

/// A directory member: name, node index.
type Dirent = (Vec<u8>, usize);
/// The members one directory block holds.
type DirBlock = Vec<Dirent>;

enum Data {
    /// Nothing stored (empty files, devices, fifos, sockets) or, for a directory, its blocks
    /// once laid out.
    None,
    /// Whole blocks from this block address.
    Blocks(u32),
    /// Stored right after the inode: `len` bytes at `at` in the builder's inline arena.
    Inline { at: usize, len: usize },
}

struct Node {
    mode: u16,
    uid: u32,
    gid: u32,
    mtime: i64,
    mtime_nsec: u32,
    size: u64,
    rdev: u32,
    nlink: u32,
    /// The encoded inline xattr body (header and entries), empty when there are none.
    xattrs: Vec<u8>,
    data: Data,
    /// A directory's members.
    children: Vec<Dirent>,
    parent: usize,
    nid: u64,
}

impl Node {
    fn file_type(&self) -> FileType {
        FileType::from_raw_mode(u32::from(self.mode))
    }

    /// Bytes this inode takes in the metadata area.
    fn meta_len(&self) -> usize {
        let inline = match &self.data {
            Data::Inline { len, .. } => *len,
            _ => 0,
        };
        INODE_SIZE + self.xattrs.len() + inline
    }
}

struct Builder<'a> {
    image: &'a File,
    nodes: Vec<Node>,
    /// Inode number in the source tree → node, for hard links.
    links: HashMap<u64, usize>,
    /// Next free block.
    cursor: u64,
    inline_left: usize,
    /// The content of every inline file and symbolic link, one after the other (one
    /// allocation, given back whole when the image is written).
    inline: Vec<u8>,
    xattrs_skipped: u64,
    path: Vec<u8>,
}

/// Write an EROFS image of the tree below `root` (an open directory) into `image` (an empty
/// file opened for writing).
pub fn write_image(root: BorrowedFd<'_>, image: &File) -> Result<ImageStats, ImageError> {
    let mut b = Builder {
        image,
        nodes: Vec::new(),
        links: HashMap::new(),
        cursor: 1,
        inline_left: INLINE_BUDGET,
        inline: Vec::new(),
        xattrs_skipped: 0,
        path: Vec::new(),
    };
    let st = rustix::fs::fstat(root).map_err(|e| b.read_err(e.into()))?;
    let xattrs = xattr::list_fd(root).map_err(|e| b.read_err(e))?;
    let node = b.node(&st, &xattrs, 0);
    b.nodes.push(node);
    b.walk_dir(root, 0, 0)?;
    b.finish()
}

impl Builder<'_> {
    fn read_err(&self, source: io::Error) -> ImageError {
        ImageError::Read {
            path: format!("/{}", String::from_utf8_lossy(&self.path)),
            source,
        }
    }

    fn node(&mut self, st: &rustix::fs::Stat, xattrs: &xattr::Xattrs, parent: usize) -> Node {
        let (body, skipped) = encode_xattrs(xattrs);
        self.xattrs_skipped += skipped;
        let ft = FileType::from_raw_mode(st.st_mode);
        let rdev = match ft {
            FileType::CharacterDevice | FileType::BlockDevice => encode_dev(st.st_rdev),
            _ => 0,
        };
        Node {
            mode: st.st_mode as u16,
            uid: st.st_uid,
            gid: st.st_gid,
            mtime: st.st_mtime,
            mtime_nsec: st.st_mtime_nsec as u32,
            size: 0,
            rdev,
            nlink: if ft == FileType::Directory { 2 } else { 1 },
            xattrs: body,
            data: Data::None,
            children: Vec::new(),
            parent,
            nid: 0,
        }
    }

    /// Add the members of the directory `dir` (node `idx`), then recurse into its
    /// subdirectories one at a time (so one descriptor per level is open).
    fn walk_dir(
        &mut self,
        dir: BorrowedFd<'_>,
        idx: usize,
        depth: usize,
    ) -> Result<(), ImageError> {
        if depth > MAX_DEPTH {
            return Err(ImageError::TooLarge(format!(
                "directories nested deeper than {MAX_DEPTH}"
            )));
        }
        let mut names = Vec::new();
        let dup = rustix::io::fcntl_dupfd_cloexec(dir, 0).map_err(|e| self.read_err(e.into()))?;
        let entries = rustix::fs::Dir::read_from(&dup).map_err(|e| self.read_err(e.into()))?;
        for entry in entries {
            let entry = entry.map_err(|e| self.read_err(e.into()))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
        }
        let mut subdirs = Vec::new();
        for name in names {
            let plen = self.path.len();
            if plen > 0 {
                self.path.push(b'/');
            }
            self.path.extend_from_slice(&name);
            let child = self.add_member(dir, &name, idx)?;
            if let Some(c) = child {
                self.nodes[idx].children.push((name.clone(), c));
                if self.nodes[c].file_type() == FileType::Directory {
                    self.nodes[idx].nlink += 1;
                    subdirs.push((name, c));
                }
            }
            self.path.truncate(plen);
        }
        for (name, c) in subdirs {
            let plen = self.path.len();
            if plen > 0 {
                self.path.push(b'/');
            }
            self.path.extend_from_slice(&name);
            let fd = rustix::fs::openat(
                dir,
                name.as_slice(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| self.read_err(e.into()))?;
            self.walk_dir(fd.as_fd(), c, depth + 1)?;
            self.path.truncate(plen);
        }
        Ok(())
    }

    /// One member of `dir`: its node (a new one, or the existing inode of a hard link).
    fn add_member(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        parent: usize,
    ) -> Result<Option<usize>, ImageError> {
        let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| self.read_err(e.into()))?;
        let ft = FileType::from_raw_mode(st.st_mode);
        if ft != FileType::Directory
            && st.st_nlink > 1
            && let Some(&existing) = self.links.get(&st.st_ino)
        {
            self.nodes[existing].nlink += 1;
            return Ok(Some(existing));
        }
        let (opened, xattrs) = match ft {
            FileType::RegularFile | FileType::Directory => {
                let fd = rustix::fs::openat(
                    dir,
                    name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY,
                    Mode::empty(),
                )
                .map_err(|e| self.read_err(e.into()))?;
                let x = xattr::list_fd(fd.as_fd()).map_err(|e| self.read_err(e))?;
                (Some(fd), x)
            }
            _ => (
                None,
                xattr::list_at(dir, name).map_err(|e| self.read_err(e))?,
            ),
        };
        let mut node = self.node(&st, &xattrs, parent);
        match ft {
            FileType::RegularFile => {
                let size = st.st_size as u64;
                node.size = size;
                if let Some(fd) = opened {
                    node.data = self.file_data(fd, size, node.xattrs.len())?;
                }
            }
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(dir, name, Vec::new())
                    .map_err(|e| self.read_err(e.into()))?
                    .into_bytes();
                node.size = target.len() as u64;
                node.data = if INODE_SIZE + node.xattrs.len() + target.len() <= BLOCK as usize {
                    let at = self.inline.len();
                    self.inline.extend_from_slice(&target);
                    Data::Inline {
                        at,
                        len: target.len(),
                    }
                } else {
                    let at = self.append(&mut target.as_slice(), node.size)?;
                    Data::Blocks(at)
                };
            }
            _ => {}
        }
        let idx = self.nodes.len();
        self.nodes.push(node);
        if ft != FileType::Directory && st.st_nlink > 1 {
            self.links.insert(st.st_ino, idx);
        }
        Ok(Some(idx))
    }

    /// A regular file's content: inline when it fits in the inode's block, else copied to the
    /// data area now.
    fn file_data(&mut self, fd: OwnedFd, size: u64, xattr_len: usize) -> Result<Data, ImageError> {
        if size == 0 {
            return Ok(Data::None);
        }
        let mut file = File::from(fd);
        if INODE_SIZE + xattr_len + size as usize <= BLOCK as usize
            && size as usize <= self.inline_left
        {
            let at = self.inline.len();
            let read = (&mut file)
                .take(size)
                .read_to_end(&mut self.inline)
                .map_err(|e| self.read_err(e))?;
            if read as u64 != size {
                return Err(self.read_err(io::ErrorKind::UnexpectedEof.into()));
            }
            self.inline_left -= read;
            return Ok(Data::Inline { at, len: read });
        }
        Ok(Data::Blocks(self.append(&mut file, size)?))
    }

    /// Copy `size` bytes from `src` to the next free blocks; returns the first block's address.
    fn append(&mut self, src: &mut impl Read, size: u64) -> Result<u32, ImageError> {
        let start = self.cursor;
        let blocks = size.div_ceil(BLOCK);
        let end = start + blocks;
        if end > u64::from(u32::MAX) {
            return Err(ImageError::TooLarge("more than 16 TiB of data".into()));
        }
        let mut image = self.image;
        let copied = {
            use std::io::Seek;
            image
                .seek(io::SeekFrom::Start(start * BLOCK))
                .map_err(ImageError::Write)?;
            io::copy(&mut src.take(size), &mut image).map_err(ImageError::Write)?
        };
        if copied != size {
            return Err(self.read_err(io::ErrorKind::UnexpectedEof.into()));
        }
        self.cursor = end;
        Ok(start as u32)
    }

    /// Lay out directories and inodes, then write them and the superblock.
    fn finish(mut self) -> Result<ImageStats, ImageError> {
        // Directory blocks: each directory's sorted entries, "." and ".." included.
        let mut dir_blocks: Vec<(usize, Vec<DirBlock>)> = Vec::new();
        for idx in 0..self.nodes.len() {
            if self.nodes[idx].file_type() != FileType::Directory {
                continue;
            }
            let mut entries = std::mem::take(&mut self.nodes[idx].children);
            entries.push((b".".to_vec(), idx));
            entries.push((b"..".to_vec(), self.nodes[idx].parent));
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let blocks = pack_dirents(entries);
            let last_used: usize = blocks.last().map_or(0, |b| {
                b.len() * DIRENT_SIZE + b.iter().map(|(n, _)| n.len()).sum::<usize>()
            });
            let n = blocks.len() as u64;
            let node = &mut self.nodes[idx];
            node.size = (n - 1) * BLOCK + last_used as u64;
            node.data = Data::Blocks(self.cursor as u32);
            self.cursor += n;
            dir_blocks.push((idx, blocks));
        }
        if self.cursor > u64::from(u32::MAX) {
            return Err(ImageError::TooLarge("more than 16 TiB".into()));
        }

        // Inodes: root first (its nid must fit the superblock's 16 bits), 32-byte aligned, an
        // inode with its xattrs and inline data never crossing a block boundary. The nid is the
        // inode number userspace sees, and nid 0 would be inode 0, which readdir(3) skips as a
        // deleted entry (the root's "." and every top-level ".." would vanish): slot 0 stays
        // empty.
        let meta_blkaddr = self.cursor;
        let mut pos = 32usize;
        for node in &mut self.nodes {
            let len = node.meta_len();
            pos = pos.next_multiple_of(32);
            let in_block = pos % BLOCK as usize;
            if in_block + len > BLOCK as usize && in_block != 0 {
                pos = pos.next_multiple_of(BLOCK as usize);
            }
            node.nid = (pos / 32) as u64;
            pos += len;
        }
        let meta_len = pos.next_multiple_of(BLOCK as usize);

        for (idx, blocks) in &dir_blocks {
            let Data::Blocks(start) = self.nodes[*idx].data else {
                unreachable!("directories were given blocks above")
            };
            for (i, block) in blocks.iter().enumerate() {
                let bytes = self.dirent_block(block);
                self.image
                    .write_all_at(&bytes, (u64::from(start) + i as u64) * BLOCK)
                    .map_err(ImageError::Write)?;
            }
        }

        let mut meta = vec![0u8; meta_len];
        for (i, node) in self.nodes.iter().enumerate() {
            let at = node.nid as usize * 32;
            encode_inode(
                node,
                &self.inline,
                i as u32 + 1,
                &mut meta[at..at + node.meta_len()],
            );
        }
        self.image
            .write_all_at(&meta, meta_blkaddr * BLOCK)
            .map_err(ImageError::Write)?;

        let blocks = meta_blkaddr + (meta_len as u64) / BLOCK;
        if blocks > u64::from(u32::MAX) {
            return Err(ImageError::TooLarge("more than 16 TiB".into()));
        }
        let sb = superblock(
            self.nodes[0].nid,
            self.nodes.len() as u64,
            blocks as u32,
            meta_blkaddr as u32,
        );
        self.image
            .write_all_at(&sb, SUPER_OFFSET)
            .map_err(ImageError::Write)?;
        self.image
            .set_len(blocks * BLOCK)
            .map_err(ImageError::Write)?;
        Ok(ImageStats {
            inodes: self.nodes.len() as u64,
            bytes: blocks * BLOCK,
            xattrs_skipped: self.xattrs_skipped,
        })
    }

    /// One directory block: the dirents, then their names, zero-padded.
    fn dirent_block(&self, entries: &[Dirent]) -> Vec<u8> {
        let mut out = vec![0u8; BLOCK as usize];
        let mut nameoff = entries.len() * DIRENT_SIZE;
        for (i, (name, idx)) in entries.iter().enumerate() {
            let node = &self.nodes[*idx];
            let d = &mut out[i * DIRENT_SIZE..(i + 1) * DIRENT_SIZE];
            d[0..8].copy_from_slice(&node.nid.to_le_bytes());
            d[8..10].copy_from_slice(&(nameoff as u16).to_le_bytes());
            d[10] = dirent_type(node.file_type());
            out[nameoff..nameoff + name.len()].copy_from_slice(name);
            nameoff += name.len();
        }
        out
    }
}

/// Split sorted entries into blocks: a block holds its dirents and all their names.
fn pack_dirents(entries: Vec<Dirent>) -> Vec<DirBlock> {
    let mut blocks = Vec::new();
    let mut cur: DirBlock = Vec::new();
    let mut used = 0usize;
    for e in entries {
        let need = DIRENT_SIZE + e.0.len();
        if used + need > BLOCK as usize {
            blocks.push(std::mem::take(&mut cur));
            used = 0;
        }
        used += need;
        cur.push(e);
    }
    blocks.push(cur);
    blocks
}

fn dirent_type(ft: FileType) -> u8 {
    match ft {
        FileType::RegularFile => 1,
        FileType::Directory => 2,
        FileType::CharacterDevice => 3,
        FileType::BlockDevice => 4,
        FileType::Fifo => 5,
        FileType::Socket => 6,
        FileType::Symlink => 7,
        FileType::Unknown => 0,
    }
}

/// The kernel's `new_encode_dev`.
fn encode_dev(dev: u64) -> u32 {
    let major = rustix::fs::major(dev);
    let minor = rustix::fs::minor(dev);
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// The inline xattr body: a 12-byte header (no shared xattrs) and the entries, each padded to
/// 4 bytes. Returns it and the number of attributes left out.
fn encode_xattrs(xattrs: &xattr::Xattrs) -> (Vec<u8>, u64) {
    let mut body = Vec::new();
    let mut skipped = 0;
    for (name, value) in xattrs {
        let Some((index, suffix)) = xattr_index(name) else {
            skipped += 1;
            continue;
        };
        let (Ok(name_len), Ok(value_len)) =
            (u8::try_from(suffix.len()), u16::try_from(value.len()))
        else {
            skipped += 1;
            continue;
        };
        if body.is_empty() {
            body.resize(XATTR_HEADER, 0);
        }
        body.push(name_len);
        body.push(index);
        body.extend_from_slice(&value_len.to_le_bytes());
        body.extend_from_slice(suffix);
        body.extend_from_slice(value);
        body.resize(body.len().next_multiple_of(4), 0);
    }
    (body, skipped)
}

/// EROFS's short name prefixes (`EROFS_XATTR_INDEX_*`).
fn xattr_index(name: &[u8]) -> Option<(u8, &[u8])> {
    match name {
        b"system.posix_acl_access" => Some((2, b"")),
        b"system.posix_acl_default" => Some((3, b"")),
        _ => [
            (&b"user."[..], 1),
            (&b"trusted."[..], 4),
            (&b"security."[..], 6),
        ]
        .into_iter()
        .find_map(|(p, i)| name.strip_prefix(p).map(|s| (i, s))),
    }
}

/// `struct erofs_inode_extended`, then the xattr body and any inline data, into `out`.
fn encode_inode(node: &Node, inline: &[u8], ino: u32, out: &mut [u8]) {
    let (layout, raw) = match &node.data {
        Data::Inline { .. } => (LAYOUT_FLAT_INLINE, 0),
        Data::Blocks(b) => (LAYOUT_FLAT_PLAIN, *b),
        Data::None => (LAYOUT_FLAT_PLAIN, node.rdev),
    };
    let icount: u16 = if node.xattrs.is_empty() {
        0
    } else {
        ((node.xattrs.len() - XATTR_HEADER) / 4 + 1) as u16
    };
    out[0..2].copy_from_slice(&(FORMAT_EXTENDED | (layout << 1)).to_le_bytes());
    out[2..4].copy_from_slice(&icount.to_le_bytes());
    out[4..6].copy_from_slice(&node.mode.to_le_bytes());
    out[8..16].copy_from_slice(&node.size.to_le_bytes());
    out[16..20].copy_from_slice(&raw.to_le_bytes());
    out[20..24].copy_from_slice(&ino.to_le_bytes());
    out[24..28].copy_from_slice(&node.uid.to_le_bytes());
    out[28..32].copy_from_slice(&node.gid.to_le_bytes());
    out[32..40].copy_from_slice(&(node.mtime as u64).to_le_bytes());
    out[40..44].copy_from_slice(&node.mtime_nsec.to_le_bytes());
    out[44..48].copy_from_slice(&node.nlink.to_le_bytes());
    let x = INODE_SIZE + node.xattrs.len();
    out[INODE_SIZE..x].copy_from_slice(&node.xattrs);
    if let Data::Inline { at, len } = node.data {
        out[x..x + len].copy_from_slice(&inline[at..at + len]);
    }
}

/// `struct erofs_super_block` (128 bytes): no optional features.
fn superblock(root_nid: u64, inodes: u64, blocks: u32, meta_blkaddr: u32) -> [u8; 128] {
    let mut sb = [0u8; 128];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    sb[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    sb[12] = BLOCK_BITS;
    sb[14..16].copy_from_slice(&(root_nid as u16).to_le_bytes());
    sb[16..24].copy_from_slice(&inodes.to_le_bytes());
    sb[24..32].copy_from_slice(&now.as_secs().to_le_bytes());
    sb[32..36].copy_from_slice(&now.subsec_nanos().to_le_bytes());
    sb[36..40].copy_from_slice(&blocks.to_le_bytes());
    sb[40..44].copy_from_slice(&meta_blkaddr.to_le_bytes());
    sb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirents_pack_by_block() {
        let entries: Vec<Dirent> = (0..400)
            .map(|i| (format!("name-{i:05}").into_bytes(), i))
            .collect();
        let blocks = pack_dirents(entries);
        // 12 + 10 bytes each: 186 per block.
        assert_eq!(
            blocks.iter().map(Vec::len).collect::<Vec<_>>(),
            [186, 186, 28]
        );
    }

    #[test]
    fn xattr_names_map_to_short_prefixes() {
        assert_eq!(xattr_index(b"user.a"), Some((1, &b"a"[..])));
        assert_eq!(
            xattr_index(b"trusted.overlay.opaque"),
            Some((4, &b"overlay.opaque"[..]))
        );
        assert_eq!(
            xattr_index(b"security.capability"),
            Some((6, &b"capability"[..]))
        );
        assert_eq!(xattr_index(b"system.posix_acl_access"), Some((2, &b""[..])));
        assert_eq!(xattr_index(b"system.nfs4_acl"), None);
        let (body, skipped) = encode_xattrs(&vec![
            (b"user.a".to_vec(), b"xyz".to_vec()),
            (b"system.other".to_vec(), b"1".to_vec()),
        ]);
        assert_eq!(skipped, 1);
        // header, then 4 + 1 + 3 = 8 bytes.
        assert_eq!(body.len(), 12 + 8);
        assert_eq!(&body[12..16], &[1, 1, 3, 0]);
    }

    #[test]
    fn devices_encode_like_the_kernel() {
        assert_eq!(encode_dev(rustix::fs::makedev(1, 3)), 0x103);
        assert_eq!(encode_dev(rustix::fs::makedev(8, 0x123)), 0x10_0823);
    }
}
