//! The one raw syscall this crate makes: `seccomp(SECCOMP_SET_MODE_FILTER)`.
//! rustix does not wrap seccomp(2), and libseccomp's loader would choose the
//! flags itself.

use std::os::fd::RawFd;

use rustix::io::Errno;

use crate::bpf::SockFilter;

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const SockFilter,
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)`. With `filter: None` a
/// NULL program is passed, which the kernel answers with `EFAULT` once it has
/// accepted the flags and `EINVAL` otherwise: that is how flag support is
/// probed without installing anything.
///
/// Returns the syscall's non-negative result (a listener fd when
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER` is set). Does not allocate.
pub(crate) fn set_mode_filter(flags: u32, filter: Option<&[SockFilter]>) -> Result<RawFd, Errno> {
    let prog = filter.map(|f| SockFprog {
        // Programs are at most BPF_MAXINSNS (4096) long; the kernel rejects
        // a truncated length rather than misreading memory.
        len: f.len().min(libc::c_ushort::MAX as usize) as libc::c_ushort,
        filter: f.as_ptr(),
    });
    let ptr = prog
        .as_ref()
        .map_or(std::ptr::null(), |p| p as *const SockFprog);
    // SAFETY: `ptr` is NULL or points at a live `SockFprog` whose `filter`
    // points at `len` initialized instructions borrowed for this call; the
    // kernel only reads them. The remaining arguments are plain integers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            ptr,
        )
    };
    if ret < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        Err(Errno::from_raw_os_error(errno))
    } else {
        Ok(ret as RawFd)
    }
}
