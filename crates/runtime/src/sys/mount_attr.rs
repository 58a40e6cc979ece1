//! `mount_setattr(2)`: change mount attributes, including idmapping a mount.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `struct mount_attr`.
#[repr(C)]
#[derive(Debug, Default)]
pub struct MountAttr {
    /// `MOUNT_ATTR_*` to set.
    pub attr_set: u64,
    /// `MOUNT_ATTR_*` to clear.
    pub attr_clr: u64,
    /// Propagation type (`MS_SHARED`, ...), or 0.
    pub propagation: u64,
    /// A user namespace fd for `MOUNT_ATTR_IDMAP`.
    pub userns_fd: u64,
}

impl MountAttr {
    /// `MOUNT_ATTR_IDMAP`.
    pub const IDMAP: u64 = 0x0010_0000;
}

/// Apply `attr` to the mount `dirfd` refers to (`AT_EMPTY_PATH`), and to the
/// whole subtree with `recursive`.
pub fn mount_setattr(dirfd: BorrowedFd<'_>, recursive: bool, attr: &MountAttr) -> io::Result<()> {
    const AT_RECURSIVE: libc::c_uint = 0x8000;
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= AT_RECURSIVE;
    }
    // SAFETY: `attr` is a valid mount_attr of the size passed; the path is an
    // empty NUL-terminated string, which AT_EMPTY_PATH allows.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
