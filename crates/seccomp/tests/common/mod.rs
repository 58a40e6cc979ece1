//! Helpers shared by the integration tests: running a closure in a forked
//! child that installs a filter and reports numbers back over a pipe, raw
//! syscalls that return `-errno`, and building profiles from JSON.
//!
//! A forked child of the (multi-threaded) test harness must not take locks
//! another thread may hold: children only make raw syscalls and `_exit`, and
//! never print or panic out of the closure.
#![allow(dead_code)]

pub mod docker_profile;

use std::{
    os::fd::{AsRawFd, OwnedFd},
    path::Path,
    time::Duration,
};

use berth_seccomp::LinuxSeccomp;
use rustix::{
    event::{PollFd, PollFlags, Timespec, poll},
    pipe::{PipeFlags, pipe_with},
};

/// How long a child may take before it is killed and the test fails.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// Exit code of a child whose closure panicked.
pub const CHILD_PANICKED: i32 = 101;

/// A `berth-seccomp-test-*` temp directory, removed on drop; failing to
/// remove it fails the test.
pub struct TestDir(Option<tempfile::TempDir>);

impl TestDir {
    pub fn new() -> TestDir {
        let dir = tempfile::Builder::new()
            .prefix("berth-seccomp-test-")
            .tempdir()
            .expect("create temp dir");
        TestDir(Some(dir))
    }

    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("live temp dir").path()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if let Some(d) = self.0.take() {
            let path = d.path().to_path_buf();
            if let Err(e) = d.close()
                && !std::thread::panicking()
            {
                panic!("cannot remove test dir {}: {e}", path.display());
            }
        }
    }
}

/// Parses a `linux.seccomp` object.
pub fn profile(json: &str) -> LinuxSeccomp {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bad test profile: {e}\n{json}"))
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// What a child reported, and how it ended.
#[derive(Debug)]
pub struct ChildResult {
    pub exit: Exit,
    pub values: Vec<i64>,
}

/// The child's side: numbers written to the parent as they are recorded, so
/// they survive the child being killed.
pub struct Reporter {
    fd: OwnedFd,
}

impl Reporter {
    /// Sends one value to the parent (a raw `write`, no allocation).
    pub fn push(&self, v: i64) {
        let b = v.to_ne_bytes();
        // SAFETY: writes 8 bytes from a live stack buffer to an fd we own.
        unsafe { libc::write(self.fd.as_raw_fd(), b.as_ptr().cast(), b.len()) };
    }

    /// The fd values go to (e.g. to dup2 onto stdout before an exec).
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }
}

/// Makes a syscall and returns its result, or `-errno` on failure.
pub fn raw(nr: libc::c_long, args: [u64; 3]) -> i64 {
    // SAFETY: the tests only pass syscalls whose arguments are plain integers
    // or pointers they own; an invalid pointer is answered with EFAULT.
    let r = unsafe { libc::syscall(nr, args[0], args[1], args[2]) };
    if r < 0 {
        -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        r
    }
}

/// Sets `no_new_privs`, so installing a filter needs no `CAP_SYS_ADMIN`.
pub fn set_no_new_privs() -> i64 {
    raw(libc::SYS_prctl, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0])
}

/// Forks; the child makes itself undumpable (a SIGSYS must not leave a core
/// file in the crate directory), runs `body` and exits 0. The parent collects
/// the values the child pushed and its exit status.
pub fn run_in_child(body: impl FnOnce(&Reporter)) -> ChildResult {
    spawn_child(body).finish()
}

/// A forked child still running; [`finish`](Child::finish) collects it.
pub struct Child {
    pub pid: libc::pid_t,
    rd: OwnedFd,
}

impl Child {
    /// Reads the child's values until it exits (killing it after a timeout)
    /// and reaps it.
    pub fn finish(self) -> ChildResult {
        let values = read_values(&self.rd, self.pid);
        ChildResult {
            exit: wait(self.pid),
            values,
        }
    }
}

/// [`run_in_child`] without waiting, for tests that act as the child's peer.
pub fn spawn_child(body: impl FnOnce(&Reporter)) -> Child {
    let (rd, wr) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
    // SAFETY: the child only runs `body` (raw syscalls, see the module doc)
    // and leaves with _exit, never returning into the harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        drop(rd);
        raw(libc::SYS_prctl, [libc::PR_SET_DUMPABLE as u64, 0, 0]);
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: passes a live rlimit struct.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
        let r = Reporter { fd: wr };
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&r))).is_ok();
        // SAFETY: ends the child without running the harness's destructors.
        unsafe { libc::_exit(if ok { 0 } else { CHILD_PANICKED }) };
    }
    drop(wr);
    Child { pid, rd }
}

/// Waits until `fd` is readable, failing the test after the child timeout.
pub fn wait_readable(fd: &impl std::os::fd::AsFd, what: &str) {
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    let timeout = Timespec::try_from(CHILD_TIMEOUT).expect("timeout");
    let n = poll(&mut fds, Some(&timeout)).expect("poll");
    assert!(n > 0, "{what}: nothing within {CHILD_TIMEOUT:?}");
}

fn read_values(rd: &OwnedFd, pid: libc::pid_t) -> Vec<i64> {
    let mut bytes = Vec::new();
    let deadline = std::time::Instant::now() + CHILD_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let mut fds = [PollFd::new(rd, PollFlags::IN)];
        let timeout = Timespec::try_from(left).expect("timeout");
        let n = poll(&mut fds, Some(&timeout)).expect("poll");
        if n == 0 {
            // SAFETY: kills the child this test forked, by pid.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            wait(pid);
            panic!("child {pid} did not finish within {CHILD_TIMEOUT:?}");
        }
        let mut buf = [0u8; 4096];
        match rustix::io::read(rd, &mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("read from child: {e}"),
        }
    }
    bytes
        .chunks_exact(8)
        .map(|c| i64::from_ne_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// Reaps `pid`.
pub fn wait(pid: libc::pid_t) -> Exit {
    let mut status = 0;
    loop {
        // SAFETY: waits for a child this test forked, by pid.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.raw_os_error(), Some(libc::EINTR), "waitpid({pid}): {e}");
    }
    if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    }
}

/// Installs `p` in the child (after `no_new_privs`) and reports 1 if that
/// worked, 0 if not.
pub fn install_or_report(r: &Reporter, p: &berth_seccomp::Program) -> bool {
    set_no_new_privs();
    let ok = p.install().is_ok();
    r.push(i64::from(ok));
    ok
}

/// Runs `/bin/sh -c script` in a child under `p`; the child's result (1
/// reported if the filter went in, minus errno if exec failed) and its
/// stdout.
pub fn shell_under(p: &berth_seccomp::Program, script: &str) -> (ChildResult, String) {
    let argv: Vec<std::ffi::CString> = ["/bin/sh", "-c", script]
        .iter()
        .map(|a| std::ffi::CString::new(*a).expect("cstr"))
        .collect();
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let (out_rd, out_wr) = rustix::pipe::pipe().expect("pipe");
    let res = run_in_child(|r| {
        if !install_or_report(r, p) {
            return;
        }
        // SAFETY: dup2 onto stdout, then execv with a NULL-terminated argv
        // of live C strings; only returns on failure.
        unsafe {
            libc::dup2(out_wr.as_raw_fd(), 1);
            libc::execv(argv_ptrs[0], argv_ptrs.as_ptr());
        }
        r.push(-i64::from(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ));
    });
    drop(out_wr);
    (res, read_all(out_rd))
}

/// Everything readable from `fd` until EOF.
fn read_all(fd: OwnedFd) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match rustix::io::read(&fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("read child output: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
