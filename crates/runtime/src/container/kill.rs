//! `kill`: a signal to the init, or with `all` to every process of the
//! container's cgroup.

use super::Container;
use crate::Result;
use crate::error::OsContext;
use crate::state::Status;

impl Container {
    /// Send `signal` to the init (pid-reuse safe, through a pidfd), or to
    /// every process in the container with `all`.
    pub fn kill(&self, signal: i32, all: bool) -> Result<()> {
        let status = self.status();
        if status == Status::Stopped && !all {
            return Err(self.bad_state("kill", status));
        }
        if all {
            return Ok(self.cgroup()?.signal_all(signal)?);
        }
        let pid = rustix::process::Pid::from_raw(self.state.pid)
            .ok_or_else(|| self.bad_state("kill", Status::Stopped))?;
        let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
            .step(|| format!("open a pidfd for pid {pid}"))?;
        // The pidfd pins this process; make sure it is still ours.
        if crate::state::liveness(self.state.pid, self.state.pid_start)
            != crate::state::Liveness::Alive
        {
            return Err(self.bad_state("kill", Status::Stopped));
        }
        let sig = rustix::process::Signal::from_named_raw(signal)
            .ok_or_else(|| crate::Error::InvalidArgument(format!("invalid signal {signal}")))?;
        rustix::process::pidfd_send_signal(&pidfd, sig)
            .step(|| format!("send {} to pid {pid}", crate::sys::signal_name(signal)))
    }
}
