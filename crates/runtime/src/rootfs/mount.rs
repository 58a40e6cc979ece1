//! One entry of `mounts`: resolve its destination inside the root, mount it
//! with its flags and data, then apply propagation and recursive attributes.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::Mount;
use rustix::mount::MountFlags;

use super::options::{self, Options};
use super::resolve::{self, Create};
use crate::error::OsContext;
use crate::sys::MountAttr;
use crate::{Error, Result};

/// What every mount needs to know about the container.
#[derive(Debug)]
pub struct MountContext<'a> {
    /// `O_PATH` fd of the container's root (the bind mount of the rootfs).
    pub root: BorrowedFd<'a>,
    /// The bundle directory: relative bind sources are relative to it.
    pub bundle: &'a Path,
    /// SELinux mount label, added as `context=` to filesystem mounts.
    pub mount_label: Option<&'a str>,
    /// The container has its own user namespace.
    pub userns: bool,
    /// The container's cgroup, for `cgroup` mounts.
    pub cgroup: Option<&'a berth_cgroups::CgroupState>,
    /// The container has its own cgroup namespace.
    pub cgroupns: bool,
    /// Idmapped trees the runtime prepared, by mount index.
    pub idmapped: &'a super::idmap::Prepared,
}

/// `mount(2)` with flags as plain bits (`MS_REMOUNT`, `MS_BIND`, ...).
pub fn sys_mount(
    source: Option<&str>,
    target: &str,
    fstype: Option<&str>,
    flags: u64,
    data: &str,
) -> rustix::io::Result<()> {
    let data = (!data.is_empty()).then(|| CString::new(data).unwrap_or_default());
    rustix::mount::mount(
        source.unwrap_or(""),
        target,
        fstype.unwrap_or(""),
        MountFlags::from_bits_retain(flags as u32),
        data.as_deref(),
    )
}

/// Mount entry number `index` of the config.
pub fn mount_one(cx: &MountContext<'_>, index: usize, m: &Mount) -> Result<()> {
    let dest = m.destination();
    let fs_type = m.typ().as_deref();
    let opts = options::parse(m.options().as_deref().unwrap_or_default(), fs_type);
    let what = || format!("mounts[{index}] ({})", dest.display());

    if fs_type == Some("cgroup") || fs_type == Some("cgroup2") {
        return super::cgroup_mount::mount(cx, dest, &opts).map_err(|e| prefix(e, &what()));
    }
    if opts.is_bind() {
        return bind(cx, index, m, &opts).map_err(|e| prefix(e, &what()));
    }

    // Filesystem mounts (proc, sysfs, tmpfs, devpts, mqueue, ...).
    let special = matches!(fs_type, Some("proc" | "sysfs"));
    let target = if special {
        open_no_symlinks(cx.root, dest).map_err(|e| {
            Error::config(
                format!("mounts[{index}].destination"),
                format!(
                    "{} must be a real directory inside the root (no symlinks): {e}",
                    dest.display()
                ),
            )
        })?
    } else {
        resolve::open_in_root(cx.root, dest, Create::Dir)
            .step(|| format!("{}: create mount point", what()))?
    };
    let mut data = opts.data.clone();
    if let (Some(label), false) = (cx.mount_label, special) {
        if !data.is_empty() {
            data.push(',');
        }
        data.push_str(&format!("context=\"{label}\""));
    }
    let source = m.source().as_ref().map(|s| s.display().to_string());
    let flags = opts.flags & !libc::MS_REMOUNT;
    let previous = if opts.tmpcopyup {
        Some(resolve::reopen_dir(&target).step(|| format!("{}: open for tmpcopyup", what()))?)
    } else {
        None
    };
    let res = sys_mount(
        source.as_deref(),
        &resolve::fd_path(&target),
        fs_type,
        flags,
        &data,
    );
    match res {
        Ok(()) => {}
        // sysfs cannot be mounted in a user namespace that does not own the
        // network namespace: give it the host's /sys, read-only, like runc.
        Err(rustix::io::Errno::PERM) if fs_type == Some("sysfs") && cx.userns => {
            sys_mount(
                Some("/sys"),
                &resolve::fd_path(&target),
                None,
                libc::MS_BIND | libc::MS_REC,
                "",
            )
            .step(|| format!("{}: bind /sys", what()))?;
            let mounted = reopen(cx, dest, &what)?;
            remount(
                &mounted,
                libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            )
            .step(|| format!("{}: remount read-only", what()))?;
            return Ok(());
        }
        Err(e) => {
            return Err(Error::os(
                format!(
                    "{}: mount {} (type {}, options {:?})",
                    what(),
                    source.as_deref().unwrap_or("none"),
                    fs_type.unwrap_or("none"),
                    m.options().as_deref().unwrap_or_default().join(",")
                ),
                e,
            ));
        }
    }
    let mounted = reopen(cx, dest, &what)?;
    if let Some(prev) = previous {
        super::copyup::copy_tree(&prev, &resolve::reopen_dir(&mounted).step(what)?)
            .step(|| format!("{}: tmpcopyup", what()))?;
    }
    finish(&mounted, &opts).step(|| format!("{}: set propagation/attributes", what()))
}

fn prefix(e: Error, what: &str) -> Error {
    match e {
        Error::Os { step, source } => Error::Os {
            step: format!("{what}: {step}"),
            source,
        },
        other => other,
    }
}

fn reopen(cx: &MountContext<'_>, dest: &Path, what: &dyn Fn() -> String) -> Result<OwnedFd> {
    resolve::open_in_root(cx.root, dest, Create::Nothing)
        .step(|| format!("{}: reopen after mount", what()))
}

fn open_no_symlinks(root: BorrowedFd<'_>, dest: &Path) -> rustix::io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let rel = resolve::relative(dest);
    match rustix::fs::openat2(
        root,
        &rel,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS,
    ) {
        Err(rustix::io::Errno::NOENT) => {
            resolve::open_in_root(root, dest, Create::Dir)?;
            rustix::fs::openat2(
                root,
                &rel,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS,
            )
        }
        other => other,
    }
}

/// A bind mount: source on the host, destination inside the root.
fn bind(cx: &MountContext<'_>, index: usize, m: &Mount, opts: &Options) -> Result<()> {
    let dest = m.destination();
    let source = m
        .source()
        .as_ref()
        .map(|s| crate::config::absolute_in(cx.bundle, s))
        .ok_or_else(|| Error::config("mounts[].source", "a bind mount needs a source"))?;
    let meta = std::fs::metadata(&source).step(|| format!("bind source {}", source.display()))?;
    let create = if meta.is_dir() {
        Create::Dir
    } else {
        Create::File
    };
    let target =
        resolve::open_in_root(cx.root, dest, create).step(|| "create mount point".to_string())?;
    let rec = if opts.is_recursive() { libc::MS_REC } else { 0 };
    if let Some(tree) = cx.idmapped.get(&index) {
        super::idmap::attach(tree, &target)
            .step(|| format!("attach idmapped {}", source.display()))?;
    } else {
        sys_mount(
            Some(&source.display().to_string()),
            &resolve::fd_path(&target),
            None,
            libc::MS_BIND | rec,
            "",
        )
        .step(|| format!("bind {}", source.display()))?;
    }
    let mounted = resolve::open_in_root(cx.root, dest, Create::Nothing)
        .step(|| "reopen after bind".to_string())?;
    // Flags other than the bind itself need a remount of the new mount.
    let extra = opts.flags & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
    if extra != 0 || opts.cleared != 0 {
        remount(&mounted, extra).step(|| "remount with the requested flags".to_string())?;
    }
    finish(&mounted, opts).step(|| "set propagation/attributes".to_string())
}

/// Remount with `flags` plus every flag the mount has now (for making an
/// existing mount read-only without losing its nosuid/nodev/noexec).
pub fn remount_keeping(mounted: &OwnedFd, flags: u64) -> rustix::io::Result<()> {
    let current = locked_flags(mounted)?;
    sys_mount(
        None,
        &resolve::fd_path(mounted),
        None,
        libc::MS_REMOUNT | libc::MS_BIND | flags | current,
        "",
    )
}

/// Remount a bind mount with `flags`, keeping the flags the kernel locks
/// (those inherited from a more privileged mount namespace) when asked.
pub fn remount(mounted: &OwnedFd, flags: u64) -> rustix::io::Result<()> {
    let path = resolve::fd_path(mounted);
    let base = libc::MS_REMOUNT | libc::MS_BIND;
    match sys_mount(None, &path, None, base | flags, "") {
        Err(rustix::io::Errno::PERM) => {
            let locked = locked_flags(mounted)?;
            sys_mount(None, &path, None, base | flags | locked, "")
        }
        other => other,
    }
}

/// The flags currently on the mount `fd` lives on, as `MS_*` bits.
fn locked_flags(fd: &OwnedFd) -> rustix::io::Result<u64> {
    use rustix::fs::StatVfsMountFlags as F;
    let st = rustix::fs::fstatvfs(fd)?;
    let mut out = 0;
    for (f, ms) in [
        (F::RDONLY, libc::MS_RDONLY),
        (F::NOSUID, libc::MS_NOSUID),
        (F::NODEV, libc::MS_NODEV),
        (F::NOEXEC, libc::MS_NOEXEC),
        (F::NOATIME, libc::MS_NOATIME),
        (F::NODIRATIME, libc::MS_NODIRATIME),
        (F::RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag.contains(f) {
            out |= ms;
        }
    }
    Ok(out)
}

/// Propagation and recursive attributes, once the mount exists.
fn finish(mounted: &OwnedFd, opts: &Options) -> rustix::io::Result<()> {
    let path = resolve::fd_path(mounted);
    for &p in &opts.propagation {
        sys_mount(None, &path, None, p, "")?;
    }
    if opts.rec_set != 0 || opts.rec_clear != 0 || opts.rec_atime.is_some() {
        let mut attr = MountAttr {
            attr_set: opts.rec_set,
            attr_clr: opts.rec_clear,
            ..Default::default()
        };
        if let Some(atime) = opts.rec_atime {
            attr.attr_clr |= options::ATTR_ATIME;
            attr.attr_set |= atime;
        }
        crate::sys::mount_setattr(mounted.as_fd(), true, &attr)
            .map_err(|e| rustix::io::Errno::from_io_error(&e).unwrap_or(rustix::io::Errno::IO))?;
    }
    Ok(())
}
