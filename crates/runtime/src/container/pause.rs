//! `pause` and `resume`: freeze and thaw the container's cgroup.

use super::Container;
use crate::Result;
use crate::state::Status;

impl Container {
    /// Freeze every process of a running container.
    pub fn pause(&self) -> Result<()> {
        match self.status() {
            Status::Running | Status::Created => Ok(self.cgroup()?.freeze()?),
            s => Err(self.bad_state("pause", s)),
        }
    }

    /// Thaw a paused container.
    pub fn resume(&self) -> Result<()> {
        match self.status() {
            Status::Paused => Ok(self.cgroup()?.thaw()?),
            s => Err(self.bad_state("resume", s)),
        }
    }
}
