//! The measured scenarios, one sample each:
//!
//! - `run`: `<rt> --root R run --bundle B <id>` of `true`, wall time of the
//!   whole command and its peak RSS.
//! - `cycle`: `create` (with `--pid-file`), open a pidfd on the container's
//!   init, `start`, wait for the init to exit on the pidfd, reap it if it
//!   was reparented to us (the benchmark is a child subreaper, as a shim is),
//!   `delete`; total wall time and each step's, and the largest peak RSS of
//!   the three runtime commands.
//! - the floors: `unshare --pid --fork --mount --uts --ipc --net true` (the
//!   cost the kernel imposes for the same namespaces, no rootfs, no cgroup)
//!   and a plain `busybox true`, which also shows the smallest peak RSS this
//!   harness can report (see `crate::spawn`).
//!
//! Every sample ends by checking that the runtime really removed the
//! container: its state directory and its cgroup in every hierarchy.

use std::os::fd::AsFd;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::event::{PollFd, PollFlags};
use rustix::process::{Pid, PidfdFlags, WaitId, WaitIdOptions};

use super::leftovers;
use super::under_test::RuntimeUnderTest;
use crate::spawn::{self, Measured};

/// How long a container running `true` may take to exit after `start`.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// One sample of a single command.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Wall time.
    pub wall: Duration,
    /// Peak RSS, KiB.
    pub max_rss_kib: u64,
}

/// One create/start/wait/delete cycle.
#[derive(Debug, Clone, Copy)]
pub struct CycleSample {
    /// From spawning `create` to `delete` reaped.
    pub total: Duration,
    /// `create`.
    pub create: Duration,
    /// `start`.
    pub start: Duration,
    /// From `start` returning to the init's exit seen on the pidfd.
    pub wait: Duration,
    /// `delete`.
    pub delete: Duration,
    /// The largest peak RSS of create, start and delete, KiB.
    pub max_rss_kib: u64,
    /// Peak RSS of `create`, KiB.
    pub create_rss_kib: u64,
}

impl RuntimeUnderTest {
    /// Run one command of this runtime and fail with its stderr if it fails.
    fn step(&self, what: &str, id: &str, cmd: &mut Command) -> anyhow::Result<Measured> {
        let m = spawn::measure(cmd)?;
        if !m.status.success() {
            bail!(
                "{} {what} {id} failed ({}): {}",
                self.name,
                m.status,
                self.last_stderr()
            );
        }
        Ok(m)
    }

    /// The `run` scenario.
    pub fn run_once(&self, id: &str) -> anyhow::Result<Sample> {
        self.prepare(id)?;
        let mut cmd = self.run_command(id)?;
        let m = self.step("run", id, &mut cmd)?;
        leftovers::check_container_removed(self, id)?;
        Ok(Sample {
            wall: m.wall,
            max_rss_kib: m.max_rss_kib,
        })
    }

    /// The `cycle` scenario.
    pub fn cycle_once(&self, id: &str) -> anyhow::Result<CycleSample> {
        self.prepare(id)?;
        let _ = std::fs::remove_file(&self.pid_file);
        let mut create = self.create_command(id)?;
        let mut start = self.command(&["start", id])?;
        let mut delete = self.command(&["delete", id])?;

        let begin = Instant::now();
        let created = self.step("create", id, &mut create)?;
        let init = self.open_init(id);
        let init = match init {
            Ok(fd) => fd,
            Err(e) => {
                self.force_delete(id);
                return Err(e);
            }
        };
        let started = match self.step("start", id, &mut start) {
            Ok(m) => m,
            Err(e) => {
                self.force_delete(id);
                return Err(e);
            }
        };
        let wait_begin = Instant::now();
        if let Err(e) = wait_for_exit(init.as_fd(), EXIT_TIMEOUT) {
            self.force_delete(id);
            return Err(e.context(format!("{}: wait for the init of {id}", self.name)));
        }
        let wait = wait_begin.elapsed();
        let deleted = self.step("delete", id, &mut delete)?;
        let total = begin.elapsed();

        leftovers::check_container_removed(self, id)?;
        Ok(CycleSample {
            total,
            create: created.wall,
            start: started.wall,
            wait,
            delete: deleted.wall,
            max_rss_kib: created
                .max_rss_kib
                .max(started.max_rss_kib)
                .max(deleted.max_rss_kib),
            create_rss_kib: created.max_rss_kib,
        })
    }

    /// A pidfd on the init whose pid `create` wrote to the pid file.
    fn open_init(&self, id: &str) -> anyhow::Result<std::os::fd::OwnedFd> {
        let text = std::fs::read_to_string(&self.pid_file).with_context(|| {
            format!(
                "{} create {id}: read the pid file {}",
                self.name,
                self.pid_file.display()
            )
        })?;
        let raw: i32 = text
            .trim()
            .parse()
            .with_context(|| format!("{} create {id}: pid file holds {text:?}", self.name))?;
        let pid = Pid::from_raw(raw)
            .with_context(|| format!("{} create {id}: pid file holds {raw}", self.name))?;
        rustix::process::pidfd_open(pid, PidfdFlags::empty())
            .with_context(|| format!("{}: pidfd_open({raw}) for the init of {id}", self.name))
    }

    /// Best effort `delete --force` after a failed step (the final cleanup
    /// reports anything it leaves).
    fn force_delete(&self, id: &str) {
        if let Ok(mut cmd) = self.command(&["delete", "--force", id]) {
            let _ = spawn::measure(&mut cmd);
        }
    }
}

/// Wait until the process behind `pidfd` has exited, then reap it if it is
/// our child (it is when it was reparented to us as the subreaper; when a
/// runtime keeps a monitor as its parent, that monitor reaps it).
fn wait_for_exit(pidfd: std::os::fd::BorrowedFd<'_>, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!("the container's init did not exit within {timeout:?}");
        }
        let ts = rustix::event::Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&ts)) {
            Ok(0) => continue,
            Ok(_) => break,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e).context("poll the pidfd"),
        }
    }
    match rustix::process::waitid(
        WaitId::PidFd(pidfd),
        WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
    ) {
        Ok(_) | Err(rustix::io::Errno::CHILD) => Ok(()),
        Err(e) => Err(e).context("reap the container's init"),
    }
}

/// `unshare --pid --fork --mount --uts --ipc --net true`.
pub fn unshare_floor() -> anyhow::Result<Sample> {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "true",
    ]);
    floor(cmd)
}

/// `busybox true`.
pub fn busybox_floor() -> anyhow::Result<Sample> {
    let mut cmd = Command::new(berth_testutil::BUSYBOX);
    cmd.arg("true");
    floor(cmd)
}

fn floor(mut cmd: Command) -> anyhow::Result<Sample> {
    cmd.stdout(std::process::Stdio::null());
    let shown = format!("{cmd:?}");
    let m = spawn::measure(&mut cmd)?;
    if !m.status.success() {
        bail!("{shown} failed: {}", m.status);
    }
    Ok(Sample {
        wall: m.wall,
        max_rss_kib: m.max_rss_kib,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floors_run() {
        if !berth_testutil::require_root("the_floors_run") {
            return;
        }
        let u = unshare_floor().unwrap();
        let b = busybox_floor().unwrap();
        assert!(u.wall > Duration::ZERO && b.wall > Duration::ZERO);
        assert!(u.max_rss_kib > 0 && b.max_rss_kib > 0);
    }
}
