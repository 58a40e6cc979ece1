//! Marking every inherited descriptor close-on-exec, so only what the spec
//! names (stdio, `--preserve-fds`) reaches the container (CVE-2024-21626).

use std::io;

/// Set `FD_CLOEXEC` on every descriptor from `first` up.
pub fn close_range_cloexec(first: u32) -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes descriptor flags; no memory is passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if ret == 0 {
        return Ok(());
    }
    // Kernels before 5.11, or a seccomp profile that denies close_range:
    // walk /proc/self/fd.
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd: &i32| fd >= first as i32)
        .collect();
    for fd in fds {
        // SAFETY: F_SETFD on a descriptor number; an invalid one fails with EBADF.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Close every descriptor from `first` up (for a process that keeps
/// running without executing anything: nothing it inherited may stay open).
pub fn close_from(first: u32) {
    // SAFETY: close_range only closes descriptor numbers; no memory is passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            0 as libc::c_uint,
        )
    };
    if ret == 0 {
        return;
    }
    let fds: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(rd) => rd
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|&fd: &i32| fd >= first as i32)
            .collect(),
        Err(_) => (first as i32..1024).collect(),
    };
    for fd in fds {
        // SAFETY: closing a descriptor number we own (nothing else in this
        // single-threaded process refers to it afterwards); EBADF is harmless.
        unsafe { libc::close(fd) };
    }
}

/// Clear `FD_CLOEXEC` on `fd` so it survives `execve` (a preserved fd).
/// A descriptor that is not open is ignored.
pub fn clear_cloexec(fd: i32) {
    // SAFETY: F_SETFD on a descriptor number; a closed one fails with EBADF.
    unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
}

/// If descriptor `fd` is not open, make it an fd of `/dev/null`.
pub fn ensure_open(fd: i32) -> io::Result<()> {
    // SAFETY: F_GETFD only queries a descriptor number.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1 {
        return Ok(());
    }
    // SAFETY: open returns a new descriptor we own; dup2 targets a free
    // number; the temporary descriptor is closed once duplicated.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null < 0 {
            return Err(io::Error::last_os_error());
        }
        if null != fd {
            let r = libc::dup2(null, fd);
            libc::close(null);
            if r < 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}
