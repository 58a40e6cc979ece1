//! The rdma controller (`rdma.max`); the file format is the same in v1 and v2.

use std::collections::HashMap;
use std::path::Path;

use oci_spec::runtime::LinuxRdma;

use crate::error::Result;
use crate::knob;

pub(crate) fn apply(dir: &Path, rdma: &HashMap<String, LinuxRdma>) -> Result<()> {
    let mut devices: Vec<_> = rdma.iter().collect();
    devices.sort_by(|a, b| a.0.cmp(b.0));
    for (dev, l) in devices {
        let n = |v: Option<u32>| v.map_or_else(|| "max".to_owned(), |v| v.to_string());
        let line = format!(
            "{dev} hca_handle={} hca_object={}",
            n(l.hca_handles()),
            n(l.hca_objects())
        );
        knob::set(
            dir,
            "rdma.max",
            &line,
            &format!("linux.resources.rdma[{dev:?}]"),
        )?;
    }
    Ok(())
}
