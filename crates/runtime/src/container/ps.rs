//! `ps`: the processes of the container (its cgroup).

use super::Container;
use crate::Result;

impl Container {
    /// Pids (in the runtime's pid namespace) of every process in the container.
    pub fn pids(&self) -> Result<Vec<i32>> {
        Ok(self.cgroup()?.pids()?)
    }
}
