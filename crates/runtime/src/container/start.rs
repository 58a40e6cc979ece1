//! `start`: release an init waiting on its exec FIFO, then run the
//! poststart hooks.

use super::Container;
use crate::error::OsContext;
use crate::hooks::{self, HookError, HookKind};
use crate::state::{self, Liveness, Status};
use crate::{Error, Result};

impl Container {
    /// Start a created container. Returns the poststart hooks that failed
    /// (the spec says to warn about those and go on).
    pub fn start(&self) -> Result<Vec<HookError>> {
        match self.status() {
            Status::Created => {}
            s => return Err(self.bad_state("start", s)),
        }
        if !self.state.has_process {
            // The spec: start MUST fail when process is not set. The init
            // has nothing to run; end it so the container is stopped.
            let _ = self.kill(libc::SIGKILL, false);
            return Err(Error::InvalidArgument(format!(
                "cannot start container {}: config.json has no process",
                self.state.id
            )));
        }
        let fifo_path = self.dir.join(state::FIFO_FILE);
        let fifo = rustix::fs::open(
            &fifo_path,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .step(|| format!("open {}", fifo_path.display()))?;
        // Opening for reading releases the init blocked opening for writing;
        // it then writes one byte and goes on to execve.
        loop {
            let mut fds = [rustix::event::PollFd::new(
                &fifo,
                rustix::event::PollFlags::IN,
            )];
            let ts = rustix::time::Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            };
            match rustix::event::poll(&mut fds, Some(&ts)) {
                Ok(0) | Err(rustix::io::Errno::INTR) => {}
                Ok(_) => {
                    // The init's verdict after its startContainer hooks:
                    // "0", or "1" and the failure.
                    let mut b = [0u8; 4096];
                    match rustix::io::read(&fifo, &mut b) {
                        Ok(0) => {
                            return Err(Error::Init(
                                "the container init exited before starting its process".into(),
                            ));
                        }
                        Ok(_) if b[0] == b'0' => break,
                        Ok(n) => {
                            let msg = String::from_utf8_lossy(&b[1..n]).into_owned();
                            let _ = std::fs::remove_file(&fifo_path);
                            return Err(Error::Init(msg));
                        }
                        Err(rustix::io::Errno::AGAIN) => {}
                        Err(e) => return Err(Error::os("read the exec fifo", e)),
                    }
                }
                Err(e) => return Err(Error::os("wait on the exec fifo", e)),
            }
            if state::liveness(self.state.pid, self.state.pid_start) != Liveness::Alive {
                return Err(Error::Init("the container init exited before start".into()));
            }
        }
        std::fs::remove_file(&fifo_path).step(|| format!("remove {}", fifo_path.display()))?;
        Ok(self.poststart())
    }

    /// Run the poststart hooks.
    pub(super) fn poststart(&self) -> Vec<HookError> {
        if !self.state.post_hooks {
            return Vec::new();
        }
        let Ok(spec) = self.spec() else {
            return Vec::new();
        };
        match spec.hooks().as_ref().and_then(|h| h.poststart().as_ref()) {
            Some(list) => {
                hooks::run_all_warn(HookKind::Poststart, list, &self.hook_state(Status::Running))
            }
            None => Vec::new(),
        }
    }
}
