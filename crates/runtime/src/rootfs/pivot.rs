//! Making the prepared rootfs the process's `/`: `pivot_root` (the default),
//! or a move-mount plus `chroot` for `--no-pivot` (ramfs roots, where
//! pivot_root is impossible; weaker isolation, as with runc).

use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::mount::UnmountFlags;

use super::mount::sys_mount;
use crate::Result;
use crate::error::OsContext;

/// `pivot_root(".", ".")` into `rootfs`, then detach the old root.
pub fn pivot_root(rootfs: &Path) -> Result<()> {
    let open_dir = |p: &Path| {
        rustix::fs::open(
            p,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .step(|| format!("open {}", p.display()))
    };
    let old_root = open_dir(Path::new("/"))?;
    let new_root = open_dir(rootfs)?;
    rustix::process::fchdir(&new_root).step(|| "chdir to rootfs".to_string())?;
    // With new_root == put_old the old root ends up stacked on top of the
    // new one at "/"; unmounting it then uncovers the new root.
    rustix::process::pivot_root(".", ".")
        .step(|| format!("pivot_root into {}", rootfs.display()))?;
    // The kernel does not promise where our cwd is now: go to the old root
    // explicitly, make it (only it) rslave so its unmount does not reach
    // the host, and detach it.
    rustix::process::fchdir(&old_root).step(|| "chdir to the old root".to_string())?;
    sys_mount(None, ".", None, libc::MS_SLAVE | libc::MS_REC, "")
        .step(|| "make the old root rslave".to_string())?;
    rustix::mount::unmount(".", UnmountFlags::DETACH).step(|| "detach the old root".to_string())?;
    rustix::process::chdir("/").step(|| "chdir /".to_string())
}

/// `--no-pivot`: move the rootfs mount onto `/` and chroot into it.
pub fn move_root(rootfs: &Path) -> Result<()> {
    rustix::process::chdir(rootfs).step(|| format!("chdir to {}", rootfs.display()))?;
    sys_mount(Some("."), "/", None, libc::MS_MOVE, "")
        .step(|| "move the rootfs onto /".to_string())?;
    rustix::process::chroot(".").step(|| "chroot".to_string())?;
    rustix::process::chdir("/").step(|| "chdir /".to_string())
}
