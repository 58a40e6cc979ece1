//! `linux.maskedPaths` and `linux.readonlyPaths`, applied once the container's
//! root is `/` (so every path is already confined to it). Paths that do not
//! exist are skipped, as runc does.

use rustix::io::Errno;

use super::mount::{remount_keeping, sys_mount};
use crate::Result;
use crate::error::OsContext;

/// Hide each path: `/dev/null` over a file, an empty read-only tmpfs over a
/// directory.
pub fn mask(paths: &[String], mount_label: Option<&str>) -> Result<()> {
    for p in paths {
        let st = match rustix::fs::stat(p.as_str()) {
            Ok(st) => st,
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(crate::Error::os(format!("masked path {p}"), e)),
        };
        if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory {
            let data = mount_label
                .map(|l| format!("context=\"{l}\""))
                .unwrap_or_default();
            sys_mount(Some("tmpfs"), p, Some("tmpfs"), libc::MS_RDONLY, &data)
                .step(|| format!("mask {p} with a read-only tmpfs"))?;
        } else {
            sys_mount(Some("/dev/null"), p, None, libc::MS_BIND, "")
                .step(|| format!("mask {p} with /dev/null"))?;
        }
    }
    Ok(())
}

/// Make each path read-only (a recursive bind onto itself, remounted).
pub fn readonly(paths: &[String]) -> Result<()> {
    for p in paths {
        match sys_mount(Some(p), p, None, libc::MS_BIND | libc::MS_REC, "") {
            Ok(()) => {}
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(crate::Error::os(format!("bind read-only path {p}"), e)),
        }
        let fd = rustix::fs::open(
            p.as_str(),
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .step(|| format!("open {p}"))?;
        remount_keeping(&fd, libc::MS_RDONLY | libc::MS_REC)
            .step(|| format!("remount {p} read-only"))?;
    }
    Ok(())
}

/// Remount `/` read-only (`root.readonly`).
pub fn readonly_root() -> Result<()> {
    let fd = rustix::fs::open(
        "/",
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .step(|| "open /".to_string())?;
    remount_keeping(&fd, libc::MS_RDONLY).step(|| "remount / read-only".to_string())
}
