//! `clone3(2)`: one call that creates the container's process with all its new
//! namespaces, optionally straight into a cgroup (v2) and with a pidfd.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// What to create the child with.
#[derive(Debug, Default)]
pub struct CloneArgs<'a> {
    /// `CLONE_NEW*` and other `CLONE_*` flags (never `CLONE_VM`).
    pub flags: u64,
    /// Put the child into this cgroup v2 directory (`CLONE_INTO_CGROUP`).
    pub cgroup: Option<BorrowedFd<'a>>,
    /// Ask for a pidfd for the child (`CLONE_PIDFD`).
    pub pidfd: bool,
}

/// Which side of the clone we are on.
#[derive(Debug)]
pub enum Forked {
    /// In the new process.
    Child,
    /// In the caller: the child's pid (in our pid namespace) and its pidfd.
    Parent {
        /// The child's pid.
        pid: i32,
        /// The child's pidfd, when asked for.
        pidfd: Option<OwnedFd>,
    },
}

#[repr(C)]
#[derive(Default)]
struct RawCloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_PIDFD: u64 = 0x1000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Fork-like `clone3` (a copy of the address space, SIGCHLD on exit).
///
/// The caller must be single-threaded: the child continues with a copy of
/// the whole address space, and only the calling thread exists in it.
/// Falls back to `clone(2)` when the kernel has no `clone3` (before 5.3);
/// `CLONE_INTO_CGROUP` is then refused with `ENOSYS` so the caller can place
/// the child itself.
pub fn clone3(args: &CloneArgs<'_>) -> io::Result<Forked> {
    let mut pidfd: RawFd = -1;
    // clone3 refuses an exit signal with CLONE_PARENT (the signal would go
    // to a parent that did not ask for it); such a child is reaped with
    // __WALL.
    let exit_signal = if args.flags & libc::CLONE_PARENT as u64 != 0 {
        0
    } else {
        libc::SIGCHLD as u64
    };
    let mut raw = RawCloneArgs {
        flags: args.flags,
        exit_signal,
        ..Default::default()
    };
    if args.pidfd {
        raw.flags |= CLONE_PIDFD;
        raw.pidfd = &mut pidfd as *mut RawFd as u64;
    }
    if let Some(fd) = args.cgroup {
        raw.flags |= CLONE_INTO_CGROUP;
        raw.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: clone3 without CLONE_VM behaves like fork: the child gets a
    // copy-on-write copy of the address space and its own stack (stack = 0
    // means "same stack pointer, copied pages"). `raw` lives across the call
    // and has the size we pass. The caller is single-threaded, so no lock
    // held by another thread can be left locked in the child.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut raw as *mut RawCloneArgs,
            std::mem::size_of::<RawCloneArgs>(),
        )
    };
    if ret == -1 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ENOSYS) && args.cgroup.is_none() {
            return legacy_clone(args.flags);
        }
        return Err(err);
    }
    if ret == 0 {
        return Ok(Forked::Child);
    }
    let pidfd = (pidfd >= 0).then(|| {
        // SAFETY: the kernel stored a new, owned pidfd at `pidfd`.
        unsafe { OwnedFd::from_raw_fd(pidfd) }
    });
    Ok(Forked::Parent {
        pid: ret as i32,
        pidfd,
    })
}

fn legacy_clone(flags: u64) -> io::Result<Forked> {
    let flags = (flags & !CLONE_PIDFD) | libc::SIGCHLD as u64;
    // SAFETY: as for clone3: fork semantics (no CLONE_VM, null stack means
    // the copied stack), single-threaded caller; the remaining arguments
    // (parent_tid, child_tid, tls) are unused without the matching flags.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    match ret {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent {
            pid: pid as i32,
            pidfd: None,
        }),
    }
}

/// `__WALL`: wait for every kind of child, including those created with
/// `CLONE_PARENT` and no exit signal (the init made by an intermediate).
pub const WALL: rustix::process::WaitOptions =
    rustix::process::WaitOptions::from_bits_retain(libc::__WALL as u32);
