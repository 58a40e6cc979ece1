//! The crate's error type: one enum whose variants are named after the step that failed, carrying the
//! path or value involved and the cause as `#[source]`. Lower modules keep their own error enums
//! ([`FileError`], [`MountinfoError`], [`OwnCgroupError`], [`DeviceRuleError`], [`ProgramError`],
//! [`BpfError`], [`OomError`]); they are wrapped here. [`Error::category`] maps every error to the
//! category an API layer turns into a status code.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::CgroupMode;
use crate::cgroup_file::FileError;
use crate::device_rule::DeviceRuleError;
use crate::mountinfo::MountinfoError;
use crate::oom::OomError;
use crate::own_cgroup::OwnCgroupError;
use crate::v2::devices::attach::BpfError;
use crate::v2::devices::program::ProgramError;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is, for callers that map errors to statuses
/// (not found → 404, invalid → 400, other → 500).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// The cgroup (or a file of it) does not exist.
    NotFound,
    /// The request is malformed or asks for something this host cannot do.
    Invalid,
    /// Anything else: the kernel refused, I/O failed.
    Other,
}

/// Several errors from one best-effort operation (destroy, signal all, create rollback).
#[derive(Debug, Default)]
pub struct ErrorList(pub Vec<Error>);

impl fmt::Display for ErrorList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            // Print each error with its whole cause chain: these errors are not reachable
            // through `source()`, so this is the only place their causes are shown.
            write!(f, "{e}")?;
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                write!(f, ": {c}")?;
                cause = c.source();
            }
        }
        Ok(())
    }
}

/// Everything that can go wrong while managing a container's cgroup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `statfs` of the cgroup mount point failed.
    #[error("detect cgroup mode: statfs {path}")]
    DetectMode {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `/sys/fs/cgroup` is neither a cgroup2 mount nor a tmpfs holding v1 hierarchies.
    #[error(
        "detect cgroup mode: {path} has filesystem magic {magic:#x}, neither cgroup2 nor tmpfs"
    )]
    UnknownCgroupFs { path: PathBuf, magic: u64 },
    /// Reading the mount table failed.
    #[error(transparent)]
    Mountinfo(#[from] MountinfoError),
    /// The mount table has no hierarchy of the kind the detected mode needs.
    #[error("no {kind} hierarchy is mounted (cgroup mode {mode})")]
    NoHierarchy {
        kind: &'static str,
        mode: CgroupMode,
    },
    /// Reading the calling process's own cgroup failed (needed for relative cgroupsPath).
    #[error(transparent)]
    OwnCgroup(#[from] OwnCgroupError),
    /// `linux.cgroupsPath` uses the systemd form `slice:prefix:name`.
    #[error(
        "linux.cgroupsPath {path:?}: systemd cgroup paths (\"slice:prefix:name\") are not supported; \
         berth manages cgroups through cgroupfs, use a path such as \"/berth-<id>\""
    )]
    SystemdUnsupported { path: String },
    /// `..` components of `linux.cgroupsPath` climb above the root of a hierarchy.
    #[error(
        "linux.cgroupsPath {path:?}: \"..\" climbs above the root of the {hierarchy} hierarchy"
    )]
    PathEscapesRoot { path: String, hierarchy: String },
    /// `linux.cgroupsPath` cannot be used for another reason.
    #[error("linux.cgroupsPath {path:?}: {reason}")]
    InvalidCgroupsPath { path: String, reason: &'static str },
    /// The container id cannot be a directory name (used when cgroupsPath is not set).
    #[error("container id {id:?} cannot name a cgroup directory: {reason}")]
    InvalidId { id: String, reason: &'static str },
    /// A [`CgroupState`](crate::CgroupState) given to `from_state` is inconsistent.
    #[error("invalid cgroup state: {reason}: {path}")]
    InvalidState { path: PathBuf, reason: &'static str },
    /// A resource value is malformed or out of range. `field` is the OCI field path.
    #[error("{field}: {reason}")]
    InvalidResource { field: String, reason: String },
    /// A resource is set but the controller that implements it is not available.
    #[error(
        "{field}: the {controller} cgroup controller is not available on this host (cgroup mode {mode})"
    )]
    ControllerUnavailable {
        field: String,
        controller: String,
        mode: CgroupMode,
    },
    /// A resource is set whose knob does not exist on this kernel.
    #[error("{field}: not supported by this kernel ({file} does not exist)")]
    KnobUnavailable { field: String, file: PathBuf },
    /// A memory limit below what the cgroup already uses.
    #[error("{field}: cannot set limit {limit}: the cgroup already uses {usage} bytes")]
    MemoryBelowUsage {
        field: &'static str,
        limit: i64,
        usage: u64,
    },
    /// A device rule of `linux.resources.devices` is malformed.
    #[error(transparent)]
    DeviceRule(#[from] DeviceRuleError),
    /// Emitting the cgroup v2 device filter program failed.
    #[error(transparent)]
    DeviceProgram(#[from] ProgramError),
    /// Loading or attaching the cgroup v2 device filter program failed.
    #[error("linux.resources.devices: install the eBPF device filter")]
    DeviceFilter {
        #[source]
        source: BpfError,
    },
    /// `mkdir` of a cgroup directory failed.
    #[error("create cgroup directory {path}")]
    Mkdir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Creating failed and removing what was already created failed too.
    #[error(
        "create cgroup: {source}; removing the directories already created also failed: {cleanup}"
    )]
    CreateRollback {
        source: Box<Error>,
        cleanup: ErrorList,
    },
    /// Copying `cpuset.cpus`/`cpuset.mems` into a new v1 cpuset cgroup failed.
    #[error("initialise cpuset of new cgroup {path}")]
    InitCpuset {
        path: PathBuf,
        #[source]
        source: FileError,
    },
    /// Enabling controllers in a cgroup v2 `cgroup.subtree_control` failed.
    #[error("enable controllers {controllers:?} in {path}/cgroup.subtree_control")]
    EnableControllers {
        path: PathBuf,
        controllers: String,
        #[source]
        source: FileError,
    },
    /// A cgroup v2 ancestor does not offer a controller that is required.
    #[error("the {controller} controller is not offered in {path}/cgroup.controllers")]
    ControllerNotOffered { path: PathBuf, controller: String },
    /// Writing a resource to the kernel failed. `field` is the OCI field path.
    #[error("apply {field}")]
    Apply {
        field: String,
        #[source]
        source: FileError,
    },
    /// `pid` must be a positive process id.
    #[error("invalid pid {pid}: must be positive")]
    InvalidPid { pid: i32 },
    /// Writing a pid into `cgroup.procs` failed (pid 0: the calling thread into `tasks`, see
    /// `Manager::join_v1_self`).
    #[error("add process {pid} to cgroup {path}")]
    AddTask {
        pid: i32,
        path: PathBuf,
        #[source]
        source: FileError,
    },
    /// Opening the leaf cgroup directory failed.
    #[error("open cgroup directory {path}")]
    OpenDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An operation needs a controller that is not mounted.
    #[error("{operation}: the {controller} controller is not available (cgroup mode {mode})")]
    NoController {
        operation: &'static str,
        controller: &'static str,
        mode: CgroupMode,
    },
    /// Reading or writing a cgroup file outside of `apply`.
    #[error(transparent)]
    File(#[from] FileError),
    /// The freezer did not reach the requested state in time (the cgroup was thawed again).
    #[error("freeze cgroup {path}: still {state} after {waited:?}; thawed it again")]
    FreezeTimeout {
        path: PathBuf,
        state: String,
        waited: Duration,
    },
    /// Listing the sub-cgroups of a directory failed.
    #[error("list cgroup directory {path}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `sig` is not a signal number.
    #[error("invalid signal {signal}")]
    InvalidSignal { signal: i32 },
    /// Sending a signal to one process failed.
    #[error("send signal {signal} to pid {pid}")]
    Signal {
        pid: i32,
        signal: i32,
        #[source]
        source: std::io::Error,
    },
    /// `signal_all` reached some processes but not all.
    #[error("signal all processes of the cgroup: {0}")]
    SignalAll(ErrorList),
    /// `rmdir` of a cgroup directory failed (after retries on EBUSY).
    #[error("remove cgroup directory {path}")]
    Rmdir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `destroy` could not remove everything; every failure is listed.
    #[error("destroy cgroup: {0}")]
    Destroy(ErrorList),
    /// Setting up or reading the OOM notification failed.
    #[error(transparent)]
    Oom(#[from] OomError),
}

impl Error {
    /// The category of this error, for mapping to API statuses.
    pub fn category(&self) -> Category {
        match self {
            Error::SystemdUnsupported { .. }
            | Error::PathEscapesRoot { .. }
            | Error::InvalidCgroupsPath { .. }
            | Error::InvalidId { .. }
            | Error::InvalidState { .. }
            | Error::InvalidResource { .. }
            | Error::ControllerUnavailable { .. }
            | Error::KnobUnavailable { .. }
            | Error::MemoryBelowUsage { .. }
            | Error::DeviceRule(_)
            | Error::DeviceProgram(_)
            | Error::InvalidPid { .. }
            | Error::InvalidSignal { .. }
            | Error::NoController { .. }
            | Error::ControllerNotOffered { .. } => Category::Invalid,
            // The kernel refusing a value (a cpuset outside the parent's, a period out of
            // range) is the request's fault.
            Error::Apply { source, .. } if source.errno() == Some(libc::EINVAL) => {
                Category::Invalid
            }
            Error::File(e) | Error::AddTask { source: e, .. } | Error::Apply { source: e, .. } => {
                if e.is_not_found() {
                    Category::NotFound
                } else {
                    Category::Other
                }
            }
            Error::OpenDir { source, .. } | Error::ReadDir { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Category::NotFound
            }
            Error::Oom(e) if e.is_not_found() => Category::NotFound,
            _ => Category::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn write_err(errno: i32) -> FileError {
        FileError::Write {
            path: "/sys/fs/cgroup/x/cpuset.cpus".into(),
            value: "7".into(),
            source: io::Error::from_raw_os_error(errno),
        }
    }

    #[test]
    fn categories() {
        let apply = |errno| Error::Apply {
            field: "linux.resources.cpu.cpus".into(),
            source: write_err(errno),
        };
        assert_eq!(apply(libc::EINVAL).category(), Category::Invalid);
        assert_eq!(apply(libc::EBUSY).category(), Category::Other);
        let missing = Error::File(FileError::Open {
            path: "/x".into(),
            source: io::Error::from_raw_os_error(libc::ENOENT),
        });
        assert_eq!(missing.category(), Category::NotFound);
        assert_eq!(
            Error::SystemdUnsupported {
                path: "a:b:c".into()
            }
            .category(),
            Category::Invalid
        );
        assert_eq!(
            Error::Destroy(ErrorList::default()).category(),
            Category::Other
        );
    }

    #[test]
    fn messages_name_the_step_and_lists_show_causes() {
        let e = Error::Apply {
            field: "linux.resources.cpu.cpus".into(),
            source: write_err(libc::EINVAL),
        };
        assert_eq!(e.to_string(), "apply linux.resources.cpu.cpus");
        let src = std::error::Error::source(&e).unwrap().to_string();
        assert_eq!(src, "write \"7\" to /sys/fs/cgroup/x/cpuset.cpus");
        let list = Error::Destroy(ErrorList(vec![
            Error::Rmdir {
                path: "/a".into(),
                source: io::Error::from_raw_os_error(libc::EBUSY),
            },
            e,
        ]));
        let text = list.to_string();
        assert!(
            text.starts_with("destroy cgroup: remove cgroup directory /a: "),
            "{text}"
        );
        assert!(
            text.contains("; apply linux.resources.cpu.cpus: write \"7\""),
            "{text}"
        );
    }
}
