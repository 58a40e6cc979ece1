//! `delete`: remove a stopped container (or, with `force`, kill it first):
//! its cgroup, its resctrl group and its state, then the poststop hooks.

use std::time::{Duration, Instant};

use super::Container;
use crate::hooks::{self, HookError, HookKind};
use crate::state::{self, Liveness, Status};
use crate::{Error, Result};

impl Container {
    /// Delete. Returns the poststop hooks that failed (warnings).
    pub fn delete(&self, force: bool) -> Result<Vec<HookError>> {
        let status = self.status();
        match status {
            Status::Stopped | Status::Created => {}
            Status::Running | Status::Paused | Status::Creating if force => {}
            s => {
                return Err(Error::BadState {
                    op: "delete",
                    id: self.state.id.clone(),
                    status: format!("{s} (use --force to kill it first)"),
                });
            }
        }
        let spec = if self.state.post_hooks {
            self.spec().ok()
        } else {
            None
        };
        let cgroup = self.cgroup()?;
        if status != Status::Stopped {
            cgroup.signal_all(libc::SIGKILL)?;
            self.wait_gone(Duration::from_secs(10))?;
        } else if cgroup.pids().map(|p| !p.is_empty()).unwrap_or(false) {
            // A container without its own pid namespace can leave processes
            // behind when its init exits.
            cgroup.signal_all(libc::SIGKILL)?;
        }
        let mut errors = Vec::new();
        if let Err(e) = cgroup.destroy() {
            errors.push(e.to_string());
        }
        if let Some(dir) = &self.state.resctrl
            && let Err(e) = crate::resctrl::remove(dir)
        {
            errors.push(e.to_string());
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            errors.push(format!("remove {}: {e}", self.dir.display()));
        }
        if !errors.is_empty() {
            return Err(Error::Init(format!(
                "delete {}: {}",
                self.state.id,
                errors.join("; ")
            )));
        }
        let warnings = match spec
            .as_ref()
            .and_then(|s| s.hooks().as_ref())
            .and_then(|h| h.poststop().as_ref())
        {
            Some(list) => {
                hooks::run_all_warn(HookKind::Poststop, list, &self.hook_state(Status::Stopped))
            }
            None => Vec::new(),
        };
        Ok(warnings)
    }

    /// Wait until the init is gone (zombie counts: its parent reaps it).
    fn wait_gone(&self, limit: Duration) -> Result<()> {
        let t0 = Instant::now();
        while state::liveness(self.state.pid, self.state.pid_start) == Liveness::Alive {
            if t0.elapsed() > limit {
                return Err(Error::Init(format!(
                    "container {} did not die after SIGKILL within {limit:?}",
                    self.state.id
                )));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }
}
