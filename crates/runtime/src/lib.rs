//! The Berth OCI runtime library: turns an OCI bundle (`config.json` plus a root
//! filesystem) into an isolated process, and manages it through the lifecycle
//! the runtime-spec defines (create, start, kill, delete) plus the operations
//! runc offers on top (exec, pause/resume, update, ps, events).
//!
//! What lives where:
//! - [`config`] loads and parses `config.json`; [`validate`] refuses a bad
//!   configuration before anything is created, naming the field at fault.
//! - [`container`] is the lifecycle, one file per verb; [`state`] is the
//!   on-disk record of a container between two runtime invocations.
//! - [`process`] creates processes: the runtime side (`parent`) and the
//!   container side (`init`, `exec_child`) exchange typed messages over a
//!   socket pair ([`process::channel`]).
//! - [`rootfs`] builds the container's mount namespace: mounts, devices,
//!   pivot_root, masked and read-only paths.
//! - Process attributes each have a module: [`capabilities`], [`identity`],
//!   [`rlimits`], [`namespaces`], [`lsm`], [`sysctl`], [`hooks`], [`console`].
//! - [`sys`] holds the few raw syscalls `rustix` does not wrap.
//!
//! cgroups and seccomp are separate crates (`berth-cgroups`, `berth-seccomp`).
//! The runtime is single-threaded and never re-executes itself on the hot
//! path: the container's init is a direct clone of the runtime process (see
//! [`process`] for the topology and [`exeseal`] for the one exception).

pub mod capabilities;
pub mod config;
pub mod console;
pub mod container;
pub mod device_rules;
pub mod error;
pub mod exeseal;
pub mod features;
pub mod hooks;
pub mod identity;
pub mod lsm;
pub mod namespaces;
pub mod process;
pub mod resctrl;
pub mod rlimits;
pub mod rootfs;
pub mod spec_default;
pub mod state;
pub mod sys;
pub mod sysctl;
pub mod time;
pub mod validate;

pub use berth_cgroups as cgroups;
pub use berth_seccomp as seccomp;
pub use error::{Error, ErrorKind, Result};
pub use oci_spec;
