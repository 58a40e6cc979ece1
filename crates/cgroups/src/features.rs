//! What this crate and host support, for the runtime's `features` command.

use serde::{Deserialize, Serialize};

use crate::CgroupMode;
use crate::mountinfo::{self, MountKind};
use crate::v2;

/// cgroup support. `v1`, `v2`, `rdma` say what the code supports (as the OCI features document
/// defines them); `mode` and `controllers` describe this host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    pub v1: bool,
    pub v2: bool,
    pub systemd: bool,
    pub systemd_user: bool,
    pub rdma: bool,
    /// The host's layout, `None` if it could not be detected.
    pub mode: Option<CgroupMode>,
    /// Controllers available on the host (v1 hierarchies plus the cgroup2 root's
    /// `cgroup.controllers`), sorted.
    pub controllers: Vec<String>,
}

impl Features {
    /// The OCI `linux.cgroup` features object.
    pub fn to_oci(&self) -> oci_spec::runtime::Cgroup {
        let mut c = oci_spec::runtime::Cgroup::default();
        c.set_v1(Some(self.v1));
        c.set_v2(Some(self.v2));
        c.set_systemd(Some(self.systemd));
        c.set_systemd_user(Some(self.systemd_user));
        c.set_rdma(Some(self.rdma));
        c
    }
}

/// Detect what the host offers. Never fails: unknown parts are left empty.
pub fn features() -> Features {
    let mode = crate::mode().ok();
    let mut controllers = Vec::new();
    if let Ok(mounts) = mountinfo::cgroup_mounts() {
        for m in &mounts {
            match m.kind {
                MountKind::V1 => controllers.extend(
                    m.controllers
                        .iter()
                        .filter(|c| !c.starts_with("name="))
                        .cloned(),
                ),
                MountKind::V2 => {
                    if let Ok(c) = v2::controllers::available(&m.mountpoint) {
                        controllers.extend(c);
                    }
                }
            }
        }
    }
    controllers.sort();
    controllers.dedup();
    Features {
        v1: true,
        v2: true,
        systemd: false,
        systemd_user: false,
        rdma: true,
        mode,
        controllers,
    }
}
