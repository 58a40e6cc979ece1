//! Running one command and measuring it: the wall time from just before the
//! fork to just after `wait4` returns, and the peak resident set size the
//! kernel reports in `wait4`'s `rusage`.
//!
//! What `ru_maxrss` is: the largest resident set any single process of the
//! waited-for tree reached — the command itself and every descendant that it
//! (or one of its descendants) waited for. It is a maximum, not a sum of
//! processes alive at the same time, and it does not see descendants that were
//! reparented and reaped by someone else.
//!
//! Why a real `fork` and not `posix_spawn` (which std uses when it can, with
//! `vfork` semantics): at `execve` the kernel folds the high-water mark of the
//! memory image being replaced into `ru_maxrss`. After a `vfork` that image is
//! the benchmark's whole address space, which would put a floor of several MiB
//! under every figure. After a real `fork` the child holds only copies of the
//! benchmark's private pages; the `busybox true` baseline row shows that floor.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// One measured command.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Fork to reaped.
    pub wall: Duration,
    /// `ru_maxrss` from `wait4`, in KiB.
    pub max_rss_kib: u64,
    /// How it ended.
    pub status: ExitStatus,
}

/// Run `cmd` to completion and measure it. Stdin and stdout are `/dev/null`
/// unless the caller set them; the child gets its own process group, so a
/// Ctrl-C on the terminal reaches the benchmark (which stops between
/// samples) and never a runtime half-way through creating a container.
pub fn measure(cmd: &mut Command) -> anyhow::Result<Measured> {
    cmd.stdin(Stdio::null()).process_group(0);
    // SAFETY: the hook does nothing, so it trivially keeps to what is allowed
    // between fork and exec. Its only purpose is to make std fork instead of
    // posix_spawn (see the module doc).
    unsafe {
        cmd.pre_exec(|| Ok(()));
    }
    let program = cmd.get_program().to_string_lossy().into_owned();
    let start = Instant::now();
    let child = cmd.spawn().with_context(|| format!("start {program}"))?;
    let pid = i32::try_from(child.id()).context("child pid does not fit in pid_t")?;
    let (status, rusage) = wait4(pid).with_context(|| format!("wait for {program} (pid {pid})"))?;
    let wall = start.elapsed();
    Ok(Measured {
        wall,
        max_rss_kib: u64::try_from(rusage.ru_maxrss).unwrap_or(0),
        status: ExitStatus::from_raw(status),
    })
}

/// `wait4(pid)`: reap `pid` and return its wait status and resource usage.
fn wait4(pid: i32) -> io::Result<(i32, libc::rusage)> {
    loop {
        let mut status: libc::c_int = 0;
        let mut rusage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: both pointers point at live locals of the right types, which
        // is all wait4 requires; it writes nothing else.
        let r = unsafe { libc::wait4(pid, &mut status, 0, rusage.as_mut_ptr()) };
        if r == pid {
            // SAFETY: zeroed is a valid `rusage` (plain integers), and wait4
            // succeeded, so it is also filled in.
            let rusage = unsafe { rusage.assume_init() };
            return Ok((status, rusage));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUSYBOX: &str = berth_testutil::BUSYBOX;

    #[test]
    fn exit_code_and_wall_time_are_reported() {
        let m = measure(Command::new(BUSYBOX).args(["sh", "-c", "sleep 0.05; exit 3"])).unwrap();
        assert_eq!(m.status.code(), Some(3));
        assert!(m.wall >= Duration::from_millis(50), "{:?}", m.wall);
        assert!(m.max_rss_kib > 0);
    }

    #[test]
    fn peak_rss_sees_what_the_command_touches() {
        // dd reads 32 MiB of zeros into one buffer: the process must have
        // been resident at >= 32 MiB at some point.
        let m = measure(Command::new(BUSYBOX).args([
            "dd",
            "if=/dev/zero",
            "of=/dev/null",
            "bs=32M",
            "count=1",
        ]))
        .unwrap();
        assert!(m.status.success());
        assert!(m.max_rss_kib >= 32 * 1024, "{} KiB", m.max_rss_kib);
    }

    #[test]
    fn peak_rss_includes_waited_for_descendants() {
        // The shell waits for dd, so dd's peak is folded into the shell's.
        let m = measure(Command::new(BUSYBOX).args([
            "sh",
            "-c",
            "busybox dd if=/dev/zero of=/dev/null bs=16M count=1; true",
        ]))
        .unwrap();
        assert!(m.status.success());
        assert!(m.max_rss_kib >= 16 * 1024, "{} KiB", m.max_rss_kib);
    }

    #[test]
    fn the_benchmark_memory_does_not_leak_into_the_measurement() {
        // Make this process 64 MiB bigger with file-backed pages (a private
        // read-only mapping, which fork does not copy). A vfork/posix_spawn
        // child would report all of it; a forked one reports what busybox
        // maps itself (~1.3 MiB) or our few private pages.
        const LEN: usize = 64 << 20;
        let dir = tempfile::Builder::new()
            .prefix("berth-bench-test-")
            .tempdir()
            .unwrap();
        let path = dir.path().join("pages");
        std::fs::write(&path, vec![1u8; LEN]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: a fresh private read-only mapping of a file nobody else
        // writes; it is only read below and unmapped before `file` goes.
        let map = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                LEN,
                rustix::mm::ProtFlags::READ,
                rustix::mm::MapFlags::PRIVATE,
                &file,
                0,
            )
        }
        .unwrap();
        // SAFETY: the mapping is LEN bytes long, readable, and lives until
        // the munmap below.
        let bytes = unsafe { std::slice::from_raw_parts(map.cast::<u8>(), LEN) };
        let sum: u64 = bytes.iter().step_by(4096).map(|b| u64::from(*b)).sum();
        assert_eq!(sum, (LEN / 4096) as u64);
        let resident = own_status_kib("VmRSS:");

        let m = measure(Command::new(BUSYBOX).arg("true")).unwrap();

        // SAFETY: unmaps exactly the mapping made above; `bytes` is dead.
        unsafe { rustix::mm::munmap(map, LEN) }.unwrap();
        eprintln!(
            "busybox true: {} KiB; this process: {resident} KiB resident",
            m.max_rss_kib
        );
        assert!(m.status.success());
        assert!(resident > 64 * 1024);
        assert!(
            m.max_rss_kib < 16 * 1024,
            "busybox true reported {} KiB with this process at {resident} KiB: \
             the measurement includes the parent's memory (vfork?)",
            m.max_rss_kib
        );
    }

    fn own_status_kib(field: &str) -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}
