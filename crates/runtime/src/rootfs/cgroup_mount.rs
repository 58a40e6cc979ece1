//! Mounts of type `cgroup`: the container's view of its cgroups at the
//! destination (usually `/sys/fs/cgroup`).
//!
//! - cgroup v2: with a cgroup namespace, a fresh `cgroup2` mount (its root is
//!   the container's cgroup); without one, a bind of the container's cgroup
//!   directory.
//! - v1 and hybrid: a tmpfs, and in it one directory per hierarchy named like
//!   the host's mount point, each a `cgroup` mount (with a cgroup namespace)
//!   or a bind of the container's directory; symlinks for the controllers of
//!   a co-mounted hierarchy (`cpu -> cpu,cpuacct`).

use std::path::Path;

use std::os::fd::AsFd;

use berth_cgroups::CgroupVersion;

use super::mount::{MountContext, remount, sys_mount};
use super::options;
use super::options::Options;
use super::resolve::{self, Create};
use crate::error::OsContext;
use crate::{Error, Result};

const FS_FLAGS: u64 = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

/// Mount the cgroup view at `dest`.
pub fn mount(cx: &MountContext<'_>, dest: &Path, opts: &Options) -> Result<()> {
    let state = cx
        .cgroup
        .ok_or_else(|| Error::config("mounts", "a cgroup mount needs the container's cgroup"))?;
    let flags = opts.flags & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
    let target = resolve::open_in_root(cx.root, dest, Create::Dir)
        .step(|| "create the cgroup mount point".to_string())?;

    if state.mode == berth_cgroups::CgroupMode::Unified {
        let h = &state.hierarchies[0];
        return one(cx, &resolve::fd_path(&target), h, flags, true, || {
            resolve::open_in_root(cx.root, dest, Create::Nothing)
        });
    }

    sys_mount(
        Some("tmpfs"),
        &resolve::fd_path(&target),
        Some("tmpfs"),
        FS_FLAGS,
        "mode=755",
    )
    .step(|| "mount tmpfs for cgroup v1".to_string())?;
    let tmpfs = resolve::open_in_root(cx.root, dest, Create::Nothing)
        .step(|| "open the cgroup tmpfs".to_string())?;
    let dir = resolve::reopen_dir(&tmpfs).step(|| "open the cgroup tmpfs".to_string())?;
    for h in &state.hierarchies {
        let name = hierarchy_dir_name(h);
        rustix::fs::mkdirat(&dir, name.as_str(), rustix::fs::Mode::from_raw_mode(0o755))
            .step(|| format!("mkdir {name} in the cgroup tmpfs"))?;
        let sub = rustix::fs::openat(
            &dir,
            name.as_str(),
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .step(|| format!("open {name}"))?;
        one(cx, &resolve::fd_path(&sub), h, flags, false, || {
            rustix::fs::openat(
                &dir,
                name.as_str(),
                rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
        })?;
        for c in &h.controllers {
            let c = c.strip_prefix("name=").unwrap_or(c);
            if c != name {
                let _ = rustix::fs::symlinkat(name.as_str(), &dir, c);
            }
        }
    }
    // One recursive attribute change for the tmpfs and every bind under
    // it, instead of a remount per hierarchy (ten on a v1 host).
    let mut attrs = options::ATTR_NOSUID | options::ATTR_NODEV | options::ATTR_NOEXEC;
    if flags & libc::MS_RDONLY != 0 {
        attrs |= options::ATTR_RDONLY;
    }
    let attr = crate::sys::MountAttr {
        attr_set: attrs,
        ..Default::default()
    };
    match crate::sys::mount_setattr(tmpfs.as_fd(), true, &attr) {
        Ok(()) => Ok(()),
        // Kernels before 5.12: remount each mount.
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            for h in &state.hierarchies {
                let name = hierarchy_dir_name(h);
                let sub = rustix::fs::openat(
                    &dir,
                    name.as_str(),
                    rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .step(|| format!("open {name}"))?;
                remount(&sub, flags | FS_FLAGS).step(|| format!("remount cgroup {}", h.name()))?;
            }
            if flags & libc::MS_RDONLY != 0 {
                remount(&tmpfs, FS_FLAGS | libc::MS_RDONLY)
                    .step(|| "remount the cgroup tmpfs read-only".to_string())?;
            }
            Ok(())
        }
        Err(e) => Err(crate::Error::os("set the cgroup mounts' flags", e)),
    }
}

/// The directory a hierarchy gets: named like the host's mount point.
fn hierarchy_dir_name(h: &berth_cgroups::HierarchyState) -> String {
    h.mountpoint
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| h.name())
}

/// One hierarchy at `target`; `reopen` walks to it again once mounted (a
/// `/proc/self/fd` link would still name the directory underneath). A bind
/// gets its flags by a remount only with `remount_bind` (otherwise the
/// caller sets them on the whole tree at once).
fn one(
    cx: &MountContext<'_>,
    target: &str,
    h: &berth_cgroups::HierarchyState,
    flags: u64,
    remount_bind: bool,
    reopen: impl Fn() -> rustix::io::Result<std::os::fd::OwnedFd>,
) -> Result<()> {
    if cx.cgroupns {
        let (fstype, data) = match h.version {
            CgroupVersion::V2 => ("cgroup2", String::new()),
            CgroupVersion::V1 => ("cgroup", h.controllers.join(",")),
        };
        return sys_mount(Some(fstype), target, Some(fstype), flags | FS_FLAGS, &data)
            .step(|| format!("mount {} at {target}", h.name()));
    }
    sys_mount(
        Some(&h.path.display().to_string()),
        target,
        None,
        libc::MS_BIND | libc::MS_REC,
        "",
    )
    .step(|| format!("bind cgroup {}", h.path.display()))?;
    if !remount_bind {
        return Ok(());
    }
    let fd = reopen().step(|| format!("reopen the {} mount", h.name()))?;
    remount(&fd, flags | FS_FLAGS).step(|| format!("remount cgroup {}", h.name()))
}
