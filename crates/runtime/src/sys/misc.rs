//! Process attributes without a `rustix` wrapper: session keyring,
//! personality, I/O priority and scheduler.

use std::ffi::CString;
use std::io;

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Join a new session keyring named `name` (`KEYCTL_JOIN_SESSION_KEYRING`).
pub fn join_session_keyring(name: &str) -> io::Result<()> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: the name is a valid NUL-terminated string that outlives the call.
    check(unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.as_ptr()) })?;
    Ok(())
}

/// Gives the free pages of the heap back to the kernel (glibc's
/// `malloc_trim(0)`): for a long-lived process after a burst of
/// allocation it will not repeat (the shim after creating its container:
/// the parsed spec and seccomp filter are gone, their pages stay
/// resident otherwise). A no-op off glibc.
pub fn trim_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes a plain integer (the padding to keep) and
    // only works on glibc's own allocator state, under its own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `personality(2)`.
pub fn personality(persona: libc::c_ulong) -> io::Result<()> {
    // SAFETY: personality takes a plain integer.
    check(unsafe { libc::personality(persona) } as libc::c_long)?;
    Ok(())
}

/// `ioprio_set(IOPRIO_WHO_PROCESS, 0, prio)` for the calling process.
pub fn ioprio_set(class: u32, level: u32) -> io::Result<()> {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    let prio = ((class << 13) | level) as libc::c_long;
    // SAFETY: ioprio_set takes plain integers.
    check(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) })?;
    Ok(())
}

#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

/// `sched_setattr(2)` for the calling process.
#[allow(clippy::too_many_arguments)]
pub fn sched_setattr(
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
) -> io::Result<()> {
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy,
        flags,
        nice,
        priority,
        runtime,
        deadline,
        period,
    };
    // SAFETY: `attr` is a properly sized sched_attr that outlives the call.
    check(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) })?;
    Ok(())
}

/// Drop capability `n` from the bounding set (`PR_CAPBSET_DROP`).
pub fn capbset_drop(n: u32) -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, n as libc::c_ulong, 0, 0, 0) };
    check(ret as libc::c_long).map(drop)
}

/// Raise capability `n` in the ambient set (`PR_CAP_AMBIENT_RAISE`).
pub fn ambient_raise(n: u32) -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            n as libc::c_ulong,
            0,
            0,
        )
    };
    check(ret as libc::c_long).map(drop)
}

/// The `CLONE_NEW*` type of a namespace file (`NS_GET_NSTYPE`).
pub fn ns_type(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<i32> {
    use std::os::fd::AsRawFd;
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    // SAFETY: NS_GET_NSTYPE takes no argument and returns an integer.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE) };
    check(ret as libc::c_long).map(|v| v as i32)
}

/// `set_mempolicy(2)` with a node bitmap.
pub fn set_mempolicy(mode: i32, mask: &[u64]) -> io::Result<()> {
    let maxnode = (mask.len() * 64) as libc::c_ulong;
    // SAFETY: the bitmap pointer and its size in bits describe `mask`.
    check(unsafe { libc::syscall(libc::SYS_set_mempolicy, mode, mask.as_ptr(), maxnode) })?;
    Ok(())
}

/// `unshare(2)` for namespaces only.
pub fn unshare(flags: rustix::thread::UnshareFlags) -> io::Result<()> {
    debug_assert!(!flags.contains(rustix::thread::UnshareFlags::FILES));
    // SAFETY: the runtime is single-threaded and never unshares the file
    // table (CLONE_FILES), the case rustix marks unsafe.
    Ok(unsafe { rustix::thread::unshare_unsafe(flags) }?)
}

/// Bring the loopback interface of our network namespace up (as runc does
/// for a new network namespace).
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: socket() returns a new descriptor or -1; nothing is passed.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `sock` is the socket we just made; we own it from here.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(sock) };
    use std::os::fd::AsRawFd;
    // SAFETY: ifreq is plain data; zeroed is a valid value. The name "lo"
    // fits in IFNAMSIZ with its NUL. Both ioctls read and write only `ifr`.
    unsafe {
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (d, s) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *d = *s as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
