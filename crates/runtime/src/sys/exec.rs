//! `execve(2)` with argument and environment vectors built up front.

use std::ffi::{CStr, CString};
use std::io;

/// Replace the process image. Returns only on failure.
pub fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut args: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    args.push(std::ptr::null());
    let mut env: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    env.push(std::ptr::null());
    // SAFETY: every pointer points into a live CString owned by the caller,
    // and both arrays are NULL-terminated as execve requires.
    unsafe { libc::execve(path.as_ptr(), args.as_ptr(), env.as_ptr()) };
    io::Error::last_os_error()
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`: execute the file `fd`
/// refers to. Returns only on failure.
pub fn execveat(fd: std::os::fd::BorrowedFd<'_>, argv: &[CString], envp: &[CString]) -> io::Error {
    use std::os::fd::AsRawFd;
    let mut args: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    args.push(std::ptr::null());
    let mut env: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    env.push(std::ptr::null());
    // SAFETY: the path is an empty NUL-terminated string (AT_EMPTY_PATH), the
    // vectors are NULL-terminated and point into CStrings the caller owns.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            args.as_ptr(),
            env.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}
