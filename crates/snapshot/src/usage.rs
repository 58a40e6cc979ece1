//! Disk usage of a directory tree, like `du`: allocated blocks of every inode counted once
//! (hard links), symbolic links not followed.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::snapshotter::Usage;

/// The usage of everything below `root` (the root itself included).
pub fn disk_usage(root: &Path) -> io::Result<Usage> {
    let mut seen = HashSet::new();
    let mut usage = Usage::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = fs::symlink_metadata(&p)?;
        if seen.insert((md.dev(), md.ino())) {
            usage.inodes += 1;
            usage.size += md.blocks() * 512;
        }
        if md.is_dir() {
            for e in fs::read_dir(&p)? {
                stack.push(e?.path());
            }
        }
    }
    Ok(usage)
}
