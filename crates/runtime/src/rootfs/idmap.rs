//! Idmapped bind mounts (`"idmap"`/`"ridmap"` options with the mount's
//! `uidMappings`/`gidMappings`).
//!
//! The kernel lets only a caller privileged over the filesystem's own user
//! namespace idmap a mount, which the container's init (possibly inside its
//! own user namespace) is not. So the runtime prepares each idmapped tree
//! before the clone, as a detached mount (`open_tree(OPEN_TREE_CLONE)` +
//! `mount_setattr(MOUNT_ATTR_IDMAP)`), and the init only attaches it at its
//! destination with `move_mount`.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::{LinuxIdMapping, Spec};
use rustix::mount::{MoveMountFlags, OpenTreeFlags};

use crate::error::OsContext;
use crate::sys::{CloneArgs, Forked, MountAttr};
use crate::{Error, Result};

/// Detached idmapped trees, by index in `mounts`.
pub type Prepared = HashMap<usize, OwnedFd>;

/// Prepare every idmapped mount of `spec` (runtime side, before the clone).
pub fn prepare(spec: &Spec, bundle: &Path) -> Result<Prepared> {
    let mut out = Prepared::new();
    for (i, m) in spec
        .mounts()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let opts = m.options().as_deref().unwrap_or_default();
        let recursive = opts.iter().any(|o| o == "ridmap" || o == "rbind");
        if !opts.iter().any(|o| o == "idmap" || o == "ridmap") {
            continue;
        }
        let field = format!("mounts[{i}]");
        let (Some(uid), Some(gid)) = (m.uid_mappings(), m.gid_mappings()) else {
            return Err(Error::config(
                field,
                "idmap needs uidMappings and gidMappings",
            ));
        };
        let source = m
            .source()
            .as_ref()
            .map(|s| crate::config::absolute_in(bundle, s))
            .ok_or_else(|| Error::config(&field, "an idmapped mount needs a source"))?;
        let userns = userns_with_maps(uid, gid)
            .step(|| format!("{field}: make the idmap user namespace"))?;
        let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
        if recursive {
            flags |= OpenTreeFlags::AT_RECURSIVE;
        }
        let tree = rustix::mount::open_tree(rustix::fs::CWD, &source, flags)
            .step(|| format!("{field}: open_tree {}", source.display()))?;
        use std::os::fd::AsRawFd;
        let attr = MountAttr {
            attr_set: MountAttr::IDMAP,
            userns_fd: userns.as_raw_fd() as u64,
            ..Default::default()
        };
        crate::sys::mount_setattr(tree.as_fd(), recursive, &attr).step(|| {
            format!(
                "{field}: idmap {} (the filesystem may not support idmapped mounts)",
                source.display()
            )
        })?;
        out.insert(i, tree);
    }
    Ok(out)
}

/// Attach a prepared tree at `target` (init side).
pub fn attach(tree: &OwnedFd, target: &OwnedFd) -> rustix::io::Result<()> {
    rustix::mount::move_mount(
        tree,
        "",
        target,
        "",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
}

/// A user namespace carrying the given maps: made by a short-lived child
/// that waits while its maps are written and its namespace opened.
fn userns_with_maps(uid: &[LinuxIdMapping], gid: &[LinuxIdMapping]) -> std::io::Result<OwnedFd> {
    let (keep, wait) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    match crate::sys::clone3(&CloneArgs {
        flags: libc::CLONE_NEWUSER as u64,
        ..Default::default()
    })? {
        Forked::Child => {
            drop(keep);
            // Block until the parent closes its end, then leave.
            let _ = rustix::io::read(&wait, &mut [0u8; 1]);
            // SAFETY: _exit ends this forked child without running the
            // parent's exit handlers or flushing its copied stdio buffers.
            unsafe { libc::_exit(0) }
        }
        Forked::Parent { pid, .. } => {
            drop(wait);
            let result = crate::namespaces::write_id_maps(pid, uid, gid)
                .map_err(std::io::Error::other)
                .and_then(|()| {
                    Ok(rustix::fs::open(
                        format!("/proc/{pid}/ns/user"),
                        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
                        rustix::fs::Mode::empty(),
                    )?)
                });
            drop(keep);
            let _ = rustix::process::waitpid(
                rustix::process::Pid::from_raw(pid),
                rustix::process::WaitOptions::empty(),
            );
            result
        }
    }
}
