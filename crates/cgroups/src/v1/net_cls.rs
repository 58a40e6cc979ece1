//! cgroup v1 net_cls controller (`net_cls.classid`).

use std::path::Path;

use crate::error::Result;
use crate::knob;

pub(crate) fn apply(dir: &Path, class_id: u32) -> Result<()> {
    knob::set(
        dir,
        "net_cls.classid",
        &class_id.to_string(),
        "linux.resources.network.classID",
    )
}
