//! cgroup v1 net_prio controller (`net_prio.ifpriomap`, one `ifname priority` per write).

use std::path::Path;

use oci_spec::runtime::LinuxInterfacePriority;

use crate::error::Result;
use crate::knob;

pub(crate) fn apply(dir: &Path, priorities: &[LinuxInterfacePriority]) -> Result<()> {
    for (i, p) in priorities.iter().enumerate() {
        knob::set(
            dir,
            "net_prio.ifpriomap",
            &format!("{} {}", p.name(), p.priority()),
            &format!("linux.resources.network.priorities[{i}]"),
        )?;
    }
    Ok(())
}
