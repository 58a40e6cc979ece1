//! The runtime's record of a container between invocations.
//!
//! On-disk layout under the runtime root (`--root`, default
//! `/run/berth-runtime`):
//!
//! ```text
//! <root>/                  0700
//!   <id>/                  0711; mkdir claims the id atomically
//!     state.json           ContainerState; replaced atomically (temp + rename)
//!     config.json          the spec the container was created from (exec,
//!                          update and delete read it; state does not)
//!     exec.fifo            exists from create until start (runc's protocol:
//!                          the init blocks opening it for writing)
//! ```
//!
//! The status is never stored: it is derived from the init's liveness (pid
//! plus start time, so a reused pid is not mistaken for the container), the
//! presence of `exec.fifo` and the freezer.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File names inside a container's state directory.
pub const STATE_FILE: &str = "state.json";
/// The spec copy.
pub const CONFIG_FILE: &str = "config.json";
/// The exec FIFO.
pub const FIFO_FILE: &str = "exec.fifo";

/// Errors reading or writing runtime state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A state file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A state file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A state file is not valid JSON of the expected shape.
    #[error("corrupt state file {path}: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

/// A container's status, as the runtime-spec names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being created: the state directory exists, state.json not yet.
    Creating,
    /// Created, waiting for `start`.
    Created,
    /// The user process runs.
    Running,
    /// Frozen by `pause`.
    Paused,
    /// The init has exited.
    Stopped,
}

impl Status {
    /// The lowercase name used in `state` and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the runtime remembers about a container (`state.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContainerState {
    /// Container id.
    pub id: String,
    /// The init's pid in the runtime's pid namespace.
    pub pid: i32,
    /// The init's start time (field 22 of /proc/pid/stat) to detect pid reuse.
    pub pid_start: u64,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The root filesystem on the host.
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339.
    pub created: String,
    /// `annotations` from the config.
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// The spec version the container was created with.
    pub oci_version: String,
    /// The container's cgroup.
    pub cgroup: berth_cgroups::CgroupState,
    /// Whether the container has its own user namespace.
    #[serde(default)]
    pub userns: bool,
    /// Intel RDT group directory made for the container, if any.
    #[serde(default)]
    pub resctrl: Option<PathBuf>,
    /// Created with `--no-new-keyring` (exec'd processes keep the caller's
    /// session keyring too).
    #[serde(default)]
    pub no_new_keyring: bool,
    /// The config has a `process` (start fails without one).
    #[serde(default = "yes")]
    pub has_process: bool,
    /// The config has poststart or poststop hooks (start and delete read
    /// the stored config only then).
    #[serde(default = "yes")]
    pub post_hooks: bool,
}

fn yes() -> bool {
    true
}

/// Write `bytes` to `path` atomically: a temp file in the same directory,
/// then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let err = |source| StateError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)
}

impl ContainerState {
    /// Save to `<dir>/state.json`.
    pub fn save(&self, dir: &Path) -> Result<(), StateError> {
        let bytes = serde_json::to_vec(self).map_err(|source| StateError::Corrupt {
            path: dir.join(STATE_FILE),
            source,
        })?;
        write_atomic(&dir.join(STATE_FILE), &bytes)
    }

    /// Load `<dir>/state.json`; `Ok(None)` when it does not exist (yet).
    pub fn load(dir: &Path) -> Result<Option<ContainerState>, StateError> {
        let path = dir.join(STATE_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StateError::Read { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StateError::Corrupt { path, source })
    }
}

/// Liveness of a process recorded as (pid, start time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// The same process is alive.
    Alive,
    /// It exited but nobody reaped it yet.
    Zombie,
    /// Gone (or the pid now belongs to another process).
    Gone,
}

/// The start time (clock ticks after boot) and state letter of `pid`.
pub fn proc_stat(pid: i32) -> Option<(u64, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces and ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    // `rest` starts at field 3 (state); start time is field 22.
    let start = fields.nth(18)?.parse().ok()?;
    Some((start, state))
}

/// Is the process (pid, start time) still the one we created?
pub fn liveness(pid: i32, start: u64) -> Liveness {
    match proc_stat(pid) {
        Some((s, _)) if s != start => Liveness::Gone,
        Some((_, 'Z' | 'X')) => Liveness::Zombie,
        Some(_) => Liveness::Alive,
        None => Liveness::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_stat() {
        let (start, state) = proc_stat(std::process::id() as i32).unwrap();
        assert!(start > 0);
        // The test harness's main thread waits while this one runs.
        assert!("RS".contains(state), "{state}");
        assert_eq!(liveness(std::process::id() as i32, start), Liveness::Alive);
        assert_eq!(
            liveness(std::process::id() as i32, start + 1),
            Liveness::Gone
        );
    }

    #[test]
    fn atomic_write_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert!(!dir.path().join("f.tmp").exists());
    }
}
