//! A container as the runtime sees it between invocations: its id, state
//! directory and recorded state, with one file per operation
//! (`create.rs`, `start.rs`, `kill.rs`, ...).

mod create;
mod delete;
mod events;
mod exec;
mod foreground;
mod kill;
mod pause;
mod ps;
mod run;
mod spawn;
mod start;
mod update;

use std::path::{Path, PathBuf};

pub use create::CreateOptions;
pub use events::Event;
pub use exec::{ExecOptions, ExecProcess};
pub use foreground::Supervised;
pub use run::RunOptions;
pub use spawn::Held;

use crate::state::{self, ContainerState, Liveness, Status};
use crate::{Error, Result};

/// The default runtime root.
pub const DEFAULT_ROOT: &str = "/run/berth-runtime";

/// A container known to the runtime.
#[derive(Debug, Clone)]
pub struct Container {
    /// The runtime root it lives under.
    pub root: PathBuf,
    /// Its state directory (`<root>/<id>`).
    pub dir: PathBuf,
    /// What was recorded at create.
    pub state: ContainerState,
}

/// Check a container id the way runc does.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.to_string()))
    }
}

impl Container {
    /// Load the container `id` under `root`.
    pub fn load(root: &Path, id: &str) -> Result<Container> {
        check_id(id)?;
        let dir = root.join(id);
        match ContainerState::load(&dir)? {
            Some(state) => Ok(Container {
                root: root.to_path_buf(),
                dir,
                state,
            }),
            None => Err(Error::NotFound(id.to_string())),
        }
    }

    /// Every container under `root`, with the ids still being created.
    pub fn list(root: &Path) -> Result<Vec<(String, Option<Container>)>> {
        let entries = match std::fs::read_dir(root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::os(format!("read {}", root.display()), e)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            out.push((name.clone(), Container::load(root, &name).ok()));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Container id.
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// The current status (derived, see [`crate::state`]).
    pub fn status(&self) -> Status {
        match state::liveness(self.state.pid, self.state.pid_start) {
            Liveness::Gone | Liveness::Zombie => return Status::Stopped,
            Liveness::Alive => {}
        }
        if self.dir.join(state::FIFO_FILE).exists() {
            return Status::Created;
        }
        if let Ok(m) = berth_cgroups::Manager::from_state(&self.state.cgroup)
            && matches!(m.freezer_state(), Ok(berth_cgroups::FreezerState::Frozen))
        {
            return Status::Paused;
        }
        Status::Running
    }

    /// The runtime-spec state, as `state` prints it (plus runc's extra
    /// fields: rootfs, created, owner).
    pub fn oci_state(&self) -> serde_json::Value {
        let status = self.status();
        let pid = if status == Status::Stopped {
            0
        } else {
            self.state.pid
        };
        let mut v = serde_json::json!({
            "ociVersion": self.state.oci_version,
            "id": self.state.id,
            "pid": pid,
            "status": status.as_str(),
            "bundle": self.state.bundle,
            "rootfs": self.state.rootfs,
            "created": self.state.created,
            "owner": "",
        });
        if !self.state.annotations.is_empty() {
            v["annotations"] = serde_json::to_value(&self.state.annotations).unwrap_or_default();
        }
        v
    }

    /// The spec the container was created from.
    pub fn spec(&self) -> Result<oci_spec::runtime::Spec> {
        let path = self.dir.join(state::CONFIG_FILE);
        let bytes = std::fs::read(&path).map_err(|source| state::StateError::Read {
            path: path.clone(),
            source,
        })?;
        Ok(crate::config::parse(&bytes, &path)?)
    }

    /// The container's cgroup.
    pub fn cgroup(&self) -> Result<berth_cgroups::Manager> {
        Ok(berth_cgroups::Manager::from_state(&self.state.cgroup)?)
    }

    fn bad_state(&self, op: &'static str, status: Status) -> Error {
        Error::BadState {
            op,
            id: self.state.id.clone(),
            status: status.to_string(),
        }
    }

    /// The hook state JSON for this container.
    fn hook_state(&self, status: Status) -> Vec<u8> {
        crate::hooks::state_json(
            &self.state.id,
            status,
            if status == Status::Stopped {
                0
            } else {
                self.state.pid
            },
            &self.state.bundle,
            &self.state.annotations,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for ok in ["a", "abc-DEF_1.2+3", &"x".repeat(1024)] {
            assert!(check_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "ü", &"x".repeat(1025)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
