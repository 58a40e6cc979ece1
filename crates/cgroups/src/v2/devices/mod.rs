//! The cgroup v2 device controller: there is no `devices.*` file in cgroup v2; access is
//! checked by an eBPF program attached to the cgroup. [`program`] emits it from the rules,
//! [`attach`] loads it and swaps it in.

pub mod attach;
pub mod program;

use std::path::Path;

use oci_spec::runtime::LinuxDeviceCgroup;

use crate::device_rule::DeviceRule;
use crate::error::{Error, Result};

/// Install the filter for `rules` on the cgroup directory `dir` (replacing a previous one).
pub(crate) fn apply(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<()> {
    let rules = DeviceRule::parse_all(rules)?;
    let program = program::Program::from_rules(&rules)?;
    attach::install(dir, &program).map_err(|source| Error::DeviceFilter { source })
}
