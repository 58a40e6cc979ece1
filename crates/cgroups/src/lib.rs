//! cgroup management for one Berth container, on cgroup v1 (legacy), hybrid (v1 controllers plus
//! a cgroup2 mount at `/sys/fs/cgroup/unified`) and cgroup v2 (unified) hosts.
//!
//! This crate owns the container's cgroup directories and everything written to or read from
//! them: creating them, applying `linux.resources` (at create time and for `update`), moving
//! processes in, freezing, listing and signalling processes, statistics in runc's `events`
//! format, OOM notifications, and removal. It does not start processes, read the OCI bundle, or
//! talk to systemd (systemd cgroup paths are refused).
//!
//! # Lifecycle
//!
//! ```no_run
//! use berth_cgroups::{LinuxResources, Manager};
//! # fn main() -> berth_cgroups::Result<()> {
//! # let resources = LinuxResources::default();
//! # let child_pid = 1234;
//! // `create`: resolve the path (nothing touched yet), check the resources, make the cgroup.
//! let mut cg = Manager::new(None, "abc")?;            // -> /berth-abc in every hierarchy
//! cg.validate(&resources)?;                           // before anything exists
//! cg.create()?;                                       // mkdir -p, records what it made
//! cg.apply(&resources)?;
//! cg.add_task(child_pid)?;                            // or leaf_dir_fd() + CLONE_INTO_CGROUP on v2
//! let saved = serde_json::to_string(&cg.state()).unwrap(); // into the runtime's state.json
//!
//! // Later, in another process (`update`, `pause`, `kill`, `events`, `delete`):
//! let cg = Manager::from_state(&serde_json::from_str(&saved).unwrap())?;
//! cg.apply(&resources)?;                              // update: only what is set changes
//! cg.freeze()?; cg.thaw()?;
//! cg.signal_all(9)?;
//! let stats = cg.stats()?;                            // serde_json::to_value -> runc's "data"
//! cg.destroy()?;                                      // removes only the dirs create() made
//! # let _ = stats; Ok(()) }
//! ```
//!
//! # Layout
//!
//! `v1/` and `v2/` hold one file per controller; [`Manager`] dispatches to them. Shared pieces:
//! path resolution ([`cgroups_path`](crate::DEFAULT_PREFIX)), the state file format
//! ([`CgroupState`]), file I/O, validation, stats types ([`Stats`]), OOM watching
//! ([`OomWatcher`]). The cgroup v2 device filter (eBPF) is public as [`device_filter`] for
//! tests and tools.
//!
//! # Performance
//!
//! On the container start path: `Manager::new` is one `statfs` (two on a tmpfs root) and one
//! read of `/proc/self/mountinfo` (plus `/proc/self/cgroup` for a relative path); every knob
//! is one `open` + one `write`; only settings that are present are written.

mod cgroup_file;
mod cgroups_path;
mod cpu_list;
mod device_rule;
mod dir_tree;
mod error;
mod features;
mod headroom;
mod hugepage_size;
mod knob;
mod manager;
mod mode;
mod mountinfo;
mod oom;
mod own_cgroup;
mod signal;
mod state;
mod stats;
mod v1;
mod v2;
mod validate;

pub use oci_spec::runtime::LinuxResources;

pub use cgroup_file::FileError;
pub use cgroups_path::DEFAULT_PREFIX;
pub use device_rule::DeviceRuleError;
pub use error::{Category, Error, ErrorList, Result};
pub use features::{Features, features};
pub use headroom::memory_headroom;
pub use manager::Manager;
pub use mode::{CgroupMode, mode};
pub use mountinfo::MountinfoError;
pub use oom::{OomError, OomEvent, OomWatcher};
pub use own_cgroup::OwnCgroupError;
pub use state::{CgroupState, CgroupVersion, HierarchyState};
pub use stats::{
    BlkioEntry, BlkioStats, CpuStats, CpuUsage, CpusetStats, HugetlbStats, IntelRdtStats,
    MemoryEntry, MemoryStats, NetworkInterface, PidsStats, PsiData, PsiStats, Stats, Throttling,
};
pub use v2::cpu::shares_to_weight;
pub use v2::io::blkio_weight_to_io_weight;

/// The cgroup v2 device filter: an eBPF program built from `linux.resources.devices` and
/// attached to a cgroup2 directory. [`Manager::apply`] uses it on v2 hosts; it is public so
/// that it can be tested and used on any cgroup2 directory (also the unified part of a hybrid
/// host).
pub mod device_filter {
    pub use crate::v2::devices::attach::{BpfError, attached_program_ids, install, load};
    pub use crate::v2::devices::program::{
        DEV_BLOCK, DEV_CHAR, Instruction, LICENSE, Program, ProgramError, opcode,
    };
}

use serde::{Deserialize, Serialize};

/// The freezer state of a cgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FreezerState {
    /// Processes run.
    Thawed,
    /// Freezing was requested and is not complete yet.
    Freezing,
    /// Every process is frozen.
    Frozen,
}
