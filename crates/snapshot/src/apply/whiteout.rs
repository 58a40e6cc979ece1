//! Whiteouts: the AUFS-style markers layers use for deletions.
//!
//! - `dir/.wh.name` deletes `dir/name` from the layers below;
//! - `dir/.wh..wh..opq` makes `dir` opaque: nothing of the layers below shows through it.
//!
//! In an overlay layer directory ([`ApplyMode::OverlayLayer`](super::ApplyMode)) they become
//! overlayfs' own markers: a `0:0` character device named `name`, and the
//! `trusted.overlay.opaque=y` attribute (`user.overlay.opaque` for an overlay mounted with
//! `userxattr`) on `dir`. In a full root filesystem ([`ApplyMode::Rootfs`](super::ApplyMode))
//! they delete: `name` with everything under it, or every entry of `dir` that this layer did
//! not itself create. Other `.wh..wh.*` names are AUFS bookkeeping and are skipped (as Docker
//! does).

use std::os::fd::BorrowedFd;

use rustix::fs::{AtFlags, FileType, Gid, Mode, Uid};
use rustix::io::Errno;

use super::create::{Ctx, Outcome};
use super::error::ApplyError;
use super::layer_path::show;
use crate::remove_tree::{list_names, remove_all_at};
use crate::tar::Entry;

/// The whiteout prefix.
pub const PREFIX: &[u8] = b".wh.";
/// The name of the opaque-directory marker.
pub const OPAQUE: &[u8] = b".wh..wh..opq";

/// What a member's final name means.
pub enum Whiteout<'a> {
    /// A normal member.
    No,
    /// `.wh..wh..opq`.
    Opaque,
    /// `.wh.<name>`: delete `<name>`.
    Delete(&'a [u8]),
    /// Other AUFS metadata (`.wh..wh.plnk`, ...): skipped.
    Skip,
}

/// Classify `name`; `Err` for a whiteout of nothing, `.` or `..`.
pub fn classify(name: &[u8]) -> Result<Whiteout<'_>, ()> {
    let Some(target) = name.strip_prefix(PREFIX) else {
        return Ok(Whiteout::No);
    };
    if name == OPAQUE {
        return Ok(Whiteout::Opaque);
    }
    if target.starts_with(PREFIX) {
        return Ok(Whiteout::Skip);
    }
    if target.is_empty() || target == b"." || target == b".." {
        return Err(());
    }
    Ok(Whiteout::Delete(target))
}

impl Ctx<'_> {
    /// `.wh.<name>` in an overlay layer: a 0:0 character device, owned as the member.
    pub fn overlay_whiteout(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        path: &[u8],
        e: &Entry,
    ) -> Result<Outcome, ApplyError> {
        let mut out = Outcome::default();
        let mk = || {
            rustix::fs::mknodat(
                parent,
                name,
                FileType::CharacterDevice,
                Mode::empty(),
                rustix::fs::makedev(0, 0),
            )
        };
        let err = |err: Errno| ApplyError::CreateWhiteout {
            path: show(path),
            source: err.into(),
        };
        match mk() {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                self.remove_existing(parent, name, path, None, &mut out)?;
                mk().map_err(err)?;
            }
            Err(e) => return Err(err(e)),
        }
        let uid = u32::try_from(e.uid.saturating_add(u64::from(self.opts.uid_shift)));
        let gid = u32::try_from(e.gid.saturating_add(u64::from(self.opts.gid_shift)));
        if let (Ok(uid), Ok(gid)) = (uid, gid)
            && (uid, gid) != (self.euid, self.egid)
        {
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
        self.stats.whiteouts += 1;
        self.stats.entries += 1;
        Ok(out)
    }

    /// `.wh..wh..opq` in an overlay layer: mark the parent directory opaque.
    pub fn overlay_opaque(
        &mut self,
        parent: BorrowedFd<'_>,
        dir_path: &[u8],
    ) -> Result<(), ApplyError> {
        let name: &[u8] = if self.opts.userxattr {
            b"user.overlay.opaque"
        } else {
            b"trusted.overlay.opaque"
        };
        crate::xattr::set_fd(parent, name, b"y").map_err(|source| ApplyError::MarkOpaque {
            path: show(dir_path),
            source,
        })?;
        self.stats.opaque_dirs += 1;
        self.stats.entries += 1;
        Ok(())
    }

    /// `.wh.<name>` in a full root filesystem: remove `<name>`.
    pub fn delete_whiteout(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        path: &[u8],
    ) -> Result<Outcome, ApplyError> {
        let mut out = Outcome::default();
        self.remove_existing(parent, name, path, None, &mut out)?;
        self.stats.whiteouts += 1;
        self.stats.entries += 1;
        Ok(out)
    }

    /// `.wh..wh..opq` in a full root filesystem: remove every entry of the directory that
    /// this layer did not create.
    pub fn delete_opaque(
        &mut self,
        parent: BorrowedFd<'_>,
        parent_id: super::dir_stack::DirId,
        dir_path: &[u8],
    ) -> Result<Outcome, ApplyError> {
        let mut out = Outcome::default();
        let err = |existing: &[u8], source: std::io::Error| ApplyError::RemoveExisting {
            path: show(dir_path),
            existing: show(existing),
            source,
        };
        let names = list_names(parent).map_err(|e| err(dir_path, e))?;
        for name in names {
            let mut child = dir_path.to_vec();
            if !child.is_empty() {
                child.push(b'/');
            }
            child.extend_from_slice(&name);
            if self
                .created
                .as_ref()
                .is_some_and(|c| c.contains(&(parent_id, name.clone())))
            {
                continue;
            }
            remove_all_at(parent, &name).map_err(|e| err(&child, e))?;
            self.forget_dir_times(&child);
            out.removed_dir_or_link = true;
        }
        self.stats.opaque_dirs += 1;
        self.stats.entries += 1;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(matches!(classify(b"file"), Ok(Whiteout::No)));
        assert!(matches!(classify(b".whfile"), Ok(Whiteout::No)));
        assert!(matches!(classify(b".wh..wh..opq"), Ok(Whiteout::Opaque)));
        assert!(matches!(classify(b".wh..wh.plnk"), Ok(Whiteout::Skip)));
        assert!(matches!(classify(b".wh.x"), Ok(Whiteout::Delete(b"x"))));
        assert!(classify(b".wh.").is_err());
        assert!(classify(b".wh..").is_err());
        assert!(classify(b".wh...").is_err());
    }
}
