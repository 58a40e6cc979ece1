//! `update`: change the resources of a running container.

use oci_spec::runtime::LinuxResources;

use super::Container;
use crate::Result;
use crate::state::Status;

impl Container {
    /// Apply `resources` (only the fields set change).
    pub fn update(&self, resources: &LinuxResources) -> Result<()> {
        let status = self.status();
        if status == Status::Stopped {
            return Err(self.bad_state("update", status));
        }
        let cgroup = self.cgroup()?;
        cgroup.validate(resources)?;
        cgroup.apply(resources)?;
        Ok(())
    }
}
