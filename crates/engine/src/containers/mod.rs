//! Containers: their records and lifecycle. A container is a row in the
//! state database (its whole record as JSON, rewritten on each change) and,
//! while it runs, a shim (`berth-shim`) that owns its processes and stdio.
//!
//! One file per operation: [`create`], [`start`], [`stop`] (stop, kill,
//! restart, pause), [`remove`], [`wait`], [`list`], [`inspect`], [`logs`],
//! [`attach`], [`exec`], [`rename`], [`top`] (`docker top`), [`stats`]
//! (`docker stats`: a cgroup reading in Docker's shape), [`update`]
//! (`docker update`: resources and restart policy, live and recorded);
//! [`monitor`] follows a running container
//! until it exits and applies its restart policy; [`recover`] re-adopts the
//! running ones when berthd starts. [`spec`] derives the OCI spec, [`user`]
//! and [`caps`] resolve what it needs, [`names`] makes Docker-style names.
//!
//! Its files: [`archive`] (`docker cp`: stat, tar of a path, extraction
//! into a directory), [`export`] (a tar of its whole filesystem),
//! [`changes`] (`docker diff`), [`commit`] (a new image from its changes);
//! the first two read through `fs_view`, a private mount of its root and
//! volumes. Its writable layer is the snapshot `container-<id>`.
//!
//! Records live in memory behind one lock ([`Table`]) for fast `ps` and
//! inspect; every change is written through to SQLite before the lock is
//! released, so a `kill -9` never loses an acknowledged change.

pub mod archive;
pub mod attach;
pub mod caps;
pub mod changes;
pub mod commit;
pub mod create;
pub mod exec;
pub mod export;
pub(crate) mod fs_view;
pub mod health;
pub mod inspect;
pub mod links;
pub mod list;
pub mod logs;
pub mod monitor;
pub mod mounts;
pub mod names;
pub mod recover;
pub mod remove;
pub mod rename;
pub mod spec;
pub mod start;
pub mod stats;
pub mod stop;
pub mod store;
pub mod top;
pub mod update;
pub mod user;
pub mod wait;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};

use berth_models::container_config::ContainerConfig;
use berth_models::host_config::HostConfig;
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::error::{ErrorKind, Kind};
use crate::images::ImageError;

/// What can go wrong with a container operation.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotModified(String),
    #[error("{0}")]
    NotImplemented(String),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Snapshot(#[from] berth_snapshot::SnapshotError),
    #[error(transparent)]
    Mount(#[from] berth_snapshot::MountError),
    /// The runtime could not start the process (the message says why; the
    /// CLI maps "not found" and "permission denied" to 127 and 126).
    #[error("{0}")]
    Start(String),
    #[error(transparent)]
    Shim(#[from] berth_shim::ShimError),
    /// A path in a container that does not exist (`docker cp`), in dockerd's
    /// words.
    #[error("Could not find the file {path} in container {container}")]
    PathNotFound { path: String, container: String },
    /// Extracting into a container failed (`docker cp`).
    #[error(transparent)]
    Extract(berth_snapshot::ApplyError),
    /// Archiving a container's files failed (`docker cp`, export, commit).
    #[error(transparent)]
    Archive(berth_snapshot::DiffError),
    #[error(transparent)]
    Network(#[from] crate::networks::NetworkError),
    #[error("{0}")]
    Internal(String),
}

impl ContainerError {
    pub fn invalid(message: impl Into<String>) -> ContainerError {
        ContainerError::Invalid(message.into())
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> ContainerError {
        ContainerError::Io {
            context: context.into(),
            source,
        }
    }
}

impl ErrorKind for ContainerError {
    fn kind(&self) -> Kind {
        match self {
            ContainerError::NotFound(_) => Kind::NotFound,
            ContainerError::Invalid(_) => Kind::InvalidArgument,
            ContainerError::Conflict(_) => Kind::Conflict,
            ContainerError::NotModified(_) => Kind::NotModified,
            ContainerError::NotImplemented(_) => Kind::NotImplemented,
            ContainerError::Image(e) => e.kind(),
            ContainerError::PathNotFound { .. } => Kind::NotFound,
            ContainerError::Extract(e) => match e.category() {
                berth_snapshot::Category::Invalid => Kind::InvalidArgument,
                berth_snapshot::Category::NotFound => Kind::NotFound,
                _ => Kind::Internal,
            },
            ContainerError::Archive(e) => match e.category() {
                berth_snapshot::Category::NotFound => Kind::NotFound,
                _ => Kind::Internal,
            },
            ContainerError::Network(e) => e.kind(),
            // dockerd's `translateContainerdStartErr`: a bad command is the
            // request's fault.
            ContainerError::Start(m)
                if m.contains("executable file not found")
                    || m.contains("no such file or directory")
                    || m.contains("permission denied")
                    || m.contains("not a directory") =>
            {
                Kind::InvalidArgument
            }
            _ => Kind::Internal,
        }
    }
}

/// A container's run state, as inspect's `State.Status` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    /// Running or paused: a shim and processes exist.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
    }
}

/// The mutable state of a container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunState {
    pub status: Status,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub oom_killed: bool,
    /// Stopped by the user (stop/kill): `unless-stopped` and `always` do
    /// not bring it back until started again.
    pub manually_stopped: bool,
    pub health: Option<berth_models::container::Health>,
    /// How many times it has exited since created (what `wait
    /// condition=next-exit` counts).
    #[serde(default)]
    pub exits: u64,
}

/// A mount the container gets, resolved at create.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MountRecord {
    /// "bind", "volume" or "tmpfs".
    pub kind: String,
    /// The volume's name.
    pub name: String,
    /// The host path (bind source or volume data dir); empty for tmpfs.
    pub source: String,
    pub destination: String,
    pub rw: bool,
    /// As `docker inspect` shows it ("ro", "z", "" ...).
    pub mode: String,
    pub propagation: String,
    /// tmpfs options (`size=…,mode=…`).
    pub options: Vec<String>,
    /// Copy the image's content into an empty volume on first use.
    pub copy_up: bool,
    /// Made for this container only (`VOLUME` in the image, `-v /path`):
    /// `rm -v` removes it.
    pub anonymous: bool,
}

/// Everything berthd knows about a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// The image as the user named it.
    pub image: String,
    /// `sha256:…`
    pub image_id: String,
    /// The image's config merged with the request's.
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    pub state: RunState,
    pub restart_count: i64,
    pub mounts: Vec<MountRecord>,
    /// The snapshot holding its writable layer.
    pub snapshot: String,
    /// Whether it has ever been started (`docker ps` "Created" vs "Exited").
    pub has_been_started: bool,
    /// The networks it joins, by network id ([`crate::networks`]).
    #[serde(default)]
    pub networks: std::collections::BTreeMap<String, crate::networks::Attachment>,
}

/// Every container, in memory, with a condition variable signalled on
/// every state change (what `wait` sleeps on).
#[derive(Debug, Default)]
pub struct Table {
    records: Mutex<HashMap<String, ContainerRecord>>,
    changed: Condvar,
    /// The exit codes of the last [`REMOVED_KEPT`] containers removed, for a `wait` that slept
    /// through both the exit and the removal (`docker run --rm` waits on `removed`).
    removed: Mutex<std::collections::VecDeque<(String, i64)>>,
}

/// How many removed containers' exit codes [`Table`] keeps.
const REMOVED_KEPT: usize = 256;

impl Table {
    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, ContainerRecord>> {
        // A panicking holder cannot leave a record half-written (records
        // are replaced whole), so poisoning is ignored.
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes `id`'s record out of `records`, keeping its exit code for late waiters.
    pub fn remove(&self, records: &mut HashMap<String, ContainerRecord>, id: &str) {
        if let Some(r) = records.remove(id) {
            let mut removed = self.removed.lock().unwrap_or_else(|p| p.into_inner());
            if removed.len() == REMOVED_KEPT {
                removed.pop_front();
            }
            removed.push_back((r.id, r.state.exit_code));
        }
    }

    /// The exit code of `id` if it was removed lately.
    pub fn removed_exit_code(&self, id: &str) -> Option<i64> {
        let removed = self.removed.lock().unwrap_or_else(|p| p.into_inner());
        removed
            .iter()
            .rev()
            .find(|(r, _)| r == id)
            .map(|(_, code)| *code)
    }

    /// Wakes everything waiting on a state change.
    pub fn notify(&self) {
        self.changed.notify_all();
    }

    /// Waits for the next change (or `timeout`).
    pub fn wait_change<'a>(
        &self,
        guard: MutexGuard<'a, HashMap<String, ContainerRecord>>,
        timeout: std::time::Duration,
    ) -> MutexGuard<'a, HashMap<String, ContainerRecord>> {
        self.changed
            .wait_timeout(guard, timeout)
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0)
    }
}

/// Finds a container by full id, name (with or without `/`) or unique id
/// prefix, as dockerd's `GetContainer`.
pub fn resolve(
    records: &HashMap<String, ContainerRecord>,
    name: &str,
) -> Result<String, ContainerError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ContainerError::NotFound(name.to_string()));
    }
    if records.contains_key(name) {
        return Ok(name.to_string());
    }
    let bare = name.strip_prefix('/').unwrap_or(name);
    if let Some(r) = records.values().find(|r| r.name == bare) {
        return Ok(r.id.clone());
    }
    if let Some(child) = links::resolve_link(records, bare) {
        return Ok(child);
    }
    let matches: Vec<&String> = records.keys().filter(|id| id.starts_with(name)).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ContainerError::NotFound(name.to_string())),
        _ => Err(ContainerError::invalid(format!(
            "Multiple IDs found with provided prefix: {name}"
        ))),
    }
}

/// Where a container's files live.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `<data-root>/containers/<id>`: logs, hostname, hosts, resolv.conf.
    pub data: PathBuf,
    /// `<exec-root>/containers/<id>`: the bundle (config.json, rootfs
    /// mount point) and the shim's socket and exit record.
    pub run: PathBuf,
}

impl Paths {
    pub fn rootfs(&self) -> PathBuf {
        self.run.join("rootfs")
    }

    pub fn log(&self, id: &str) -> PathBuf {
        self.data.join(format!("{id}-json.log"))
    }
}

impl crate::Engine {
    pub fn container_paths(&self, id: &str) -> Paths {
        Paths {
            data: self.config.data_root.join("containers").join(id),
            run: self.config.exec_root.join("containers").join(id),
        }
    }

    /// Publishes a container event with Docker's attributes (image, name,
    /// labels).
    pub(crate) fn container_event(
        &self,
        record: &ContainerRecord,
        action: &str,
        extra: &[(&str, String)],
    ) {
        let mut attributes: std::collections::BTreeMap<String, String> =
            record.config.labels.clone().unwrap_or_default();
        attributes.insert("image".into(), record.image.clone());
        attributes.insert("name".into(), record.name.clone());
        for (k, v) in extra {
            attributes.insert((*k).to_string(), v.clone());
        }
        self.events.publish(crate::events::Event {
            kind: "container",
            action,
            actor: &record.id,
            attributes,
        });
    }

    /// The record of `name`, copied out.
    pub fn container(&self, name: &str) -> Result<ContainerRecord, ContainerError> {
        let records = self.containers.lock();
        let id = resolve(&records, name)?;
        Ok(records[&id].clone())
    }

    /// Applies `f` to the record of `id` and writes it through.
    pub(crate) fn update_container<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut ContainerRecord) -> Result<T, ContainerError>,
    ) -> Result<T, ContainerError> {
        let mut records = self.containers.lock();
        let record = records
            .get_mut(id)
            .ok_or_else(|| ContainerError::NotFound(id.to_string()))?;
        let mut updated = record.clone();
        let value = f(&mut updated)?;
        store::put(&self.db.conn(), &updated)?;
        *record = updated;
        drop(records);
        self.containers.notify();
        Ok(value)
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    fn record(id: &str, exit_code: i64) -> ContainerRecord {
        ContainerRecord {
            id: id.to_string(),
            name: id.to_string(),
            created: String::new(),
            image: String::new(),
            image_id: String::new(),
            config: ContainerConfig::default(),
            host_config: HostConfig::default(),
            state: RunState {
                exit_code,
                ..RunState::default()
            },
            restart_count: 0,
            mounts: Vec::new(),
            snapshot: String::new(),
            has_been_started: true,
            networks: Default::default(),
        }
    }

    #[test]
    fn a_removed_containers_exit_code_outlives_its_record_for_a_while() {
        let table = Table::default();
        table.lock().insert("a".into(), record("a", 3));
        table.remove(&mut table.lock(), "a");
        assert!(table.lock().is_empty());
        assert_eq!(table.removed_exit_code("a"), Some(3));
        assert_eq!(table.removed_exit_code("b"), None);
        for i in 0..REMOVED_KEPT {
            let id = format!("c{i}");
            table.lock().insert(id.clone(), record(&id, 0));
            table.remove(&mut table.lock(), &id);
        }
        assert_eq!(
            table.removed_exit_code("a"),
            None,
            "only the last {REMOVED_KEPT} are kept"
        );
        assert_eq!(table.removed_exit_code("c0"), Some(0));
    }
}
