//! The lower layers of an overlay stack, consulted when a layer puts a member below a directory
//! it does not contain itself (an *implicit* parent).
//!
//! Creating such a parent as a plain `0755` directory (what Docker's overlay2 does) would make
//! the merged view lose the lower directory's owner, mode, times and extended attributes — an
//! upper directory's attributes win — and would turn a lower *symbolic link* (`lib -> usr/lib`
//! on merged-/usr systems) into a directory that hides its target. So the path is looked up in
//! the lowers as overlayfs would merge them (uppermost first; a whiteout or a non-directory
//! hides what is below; an opaque directory stops the search), and:
//! - a lower directory: the implicit parent is created with its attributes (as containerd's
//!   `mkparent`);
//! - a lower symbolic link: the member's path is rewritten through the link (resolved
//!   lexically, clamped at the root), exactly as extracting into the merged tree would do.
//!
//! Lookups never follow a symbolic link: each component is opened `O_NOFOLLOW` from the lower's
//! root fd; a link on the way ends the lookup for that layer.

use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use crate::xattr;

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// What the merged lowers hold at a path.
pub enum Found {
    /// A directory: its attributes.
    Dir {
        stat: Box<Stat>,
        xattrs: xattr::Xattrs,
    },
    /// A symbolic link: its target.
    Symlink(Vec<u8>),
    /// Nothing (absent, deleted by a whiteout, hidden by an opaque directory) or a
    /// non-directory.
    Nothing,
}

/// Open lower layer directories, uppermost first.
pub struct Lowers {
    fds: Vec<OwnedFd>,
    opaque_attr: &'static [u8],
}

impl Lowers {
    /// Over the open lower roots, with the opaque attribute overlay uses.
    pub fn new(fds: Vec<OwnedFd>, userxattr: bool) -> Lowers {
        Lowers {
            fds,
            opaque_attr: if userxattr {
                b"user.overlay.opaque"
            } else {
                b"trusted.overlay.opaque"
            },
        }
    }

    /// Are there any lowers?
    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }

    /// The root of the uppermost lower.
    pub fn first_root(&self) -> Option<&OwnedFd> {
        self.fds.first()
    }

    fn is_opaque(&self, dir: &OwnedFd) -> bool {
        let mut buf = [0u8; 4];
        let name = std::ffi::CString::new(self.opaque_attr).unwrap_or_default();
        matches!(rustix::fs::fgetxattr(dir, name.as_c_str(), &mut buf[..]), Ok(1) if buf[0] == b'y')
    }

    /// What the merged lowers hold at `comps` (not empty).
    pub fn lookup(&self, comps: &[&[u8]]) -> std::io::Result<Found> {
        let Some((last, ancestors)) = comps.split_last() else {
            return Ok(Found::Nothing);
        };
        'layers: for root in &self.fds {
            let mut opaque = false;
            let mut dir: Option<OwnedFd> = None;
            for comp in ancestors {
                let base = dir.as_ref().map_or(root.as_fd(), |d| d.as_fd());
                match rustix::fs::openat(base, *comp, DIR_FLAGS, Mode::empty()) {
                    Ok(fd) => {
                        opaque |= self.is_opaque(&fd);
                        dir = Some(fd);
                    }
                    Err(Errno::NOENT) if opaque => return Ok(Found::Nothing),
                    Err(Errno::NOENT) => continue 'layers,
                    // A whiteout, file or link hides everything of the lower layers below it.
                    Err(Errno::NOTDIR) | Err(Errno::LOOP) => return Ok(Found::Nothing),
                    Err(e) => return Err(e.into()),
                }
            }
            let base = dir.as_ref().map_or(root.as_fd(), |d| d.as_fd());
            let st = match rustix::fs::statat(base, *last, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::NOENT) if opaque => return Ok(Found::Nothing),
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            };
            return Ok(match FileType::from_raw_mode(st.st_mode) {
                FileType::Directory => {
                    let fd = rustix::fs::openat(base, *last, DIR_FLAGS, Mode::empty())?;
                    let xattrs = xattr::list_fd(fd.as_fd())?
                        .into_iter()
                        .filter(|(n, _)| !xattr::is_overlay_private(n))
                        .collect();
                    Found::Dir {
                        stat: Box::new(st),
                        xattrs,
                    }
                }
                FileType::Symlink => {
                    Found::Symlink(rustix::fs::readlinkat(base, *last, Vec::new())?.into_bytes())
                }
                _ => Found::Nothing,
            });
        }
        Ok(Found::Nothing)
    }
}
