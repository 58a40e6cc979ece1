//! berthd's domain: everything the Docker Engine API acts on — images now;
//! containers, volumes and networks as they land — with its state in SQLite
//! ([`db`]), the content store and the snapshotter, and the event bus
//! ([`events`]).
//!
//! The engine is synchronous: the API layer calls it from blocking threads
//! and streams what it reports (progress, events) to clients. It knows
//! nothing of HTTP; its errors carry a [`error::Kind`] that the API maps to
//! a status code.
#![forbid(unsafe_code)]

pub mod build;
pub mod config;
pub mod containers;
pub mod db;
pub mod error;
pub mod events;
pub mod images;
pub mod login;
pub mod networks;
pub mod progress;
mod system;
pub mod time;
pub mod volumes;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::SystemTime;

pub use config::{Config, StorageDriver};
pub use error::{ErrorKind, Kind};
pub use system::{BERTH_VERSION, host_arch};

use berth_image::content::LocalStore;
use berth_snapshot::{NativeSnapshotter, OverlaySnapshotter, Snapshotter};
use db::{Db, DbError};
use events::Events;

/// A failure to bring the engine up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("creating {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("reading or writing the engine id at {path}")]
    EngineId {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("another berthd is using the data root {0} (it holds {0}/berthd.lock)")]
    DataRootInUse(PathBuf),
    #[error("locking {path}")]
    Lock {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("opening the content store")]
    Content(#[from] berth_image::content::ContentError),
    #[error("opening the snapshotter")]
    Snapshot(#[from] berth_snapshot::SnapshotError),
    #[error("recovering the image store")]
    Recover(#[from] images::ImageError),
}

/// The engine: one per berthd, shared by every request.
#[derive(Debug)]
pub struct Engine {
    config: Config,
    id: String,
    db: Db,
    events: Events,
    content: LocalStore,
    snapshotter: Box<dyn Snapshotter>,
    /// The snapshotter's name as `/info` reports it: dockerd's driver names
    /// (`overlay2`, `vfs`), which scripts and tools check.
    driver: &'static str,
    leases: images::gc::Leases,
    registry: berth_registry::Client,
    started: SystemTime,
    /// Every container's record.
    containers: containers::Table,
    /// The shims of running containers.
    shims: Mutex<HashMap<String, Arc<berth_shim::Client>>>,
    /// Attachers waiting for their container to start.
    attaches: containers::attach::Attaches,
    /// Exec instances.
    execs: containers::exec::Execs,
    /// Networks: the bridge driver on the host and the lock of their changes.
    networks: networks::Networking,
    /// One lock per container serialising start, stop, restart and remove.
    container_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// The engine itself, once shared ([`Engine::run_containers`]): what
    /// the threads following containers hold.
    this: OnceLock<Weak<Engine>>,
    /// Held for the engine's life: one engine per data root.
    _lock: std::fs::File,
}

impl Engine {
    /// Opens the state under `config.data_root` (creating it on first use).
    pub fn open(config: Config) -> Result<Engine, OpenError> {
        for dir in [&config.data_root, &config.exec_root] {
            create_private_dir(dir)?;
        }
        let lock = lock_data_root(&config.data_root)?;
        let id = engine_id(&config.data_root)?;
        let db = Db::open(&config.data_root.join("berth.db"))?;
        let content = LocalStore::open(config.data_root.join("content"))?;
        let (snapshotter, driver) = open_snapshotter(&config)?;
        let registry = berth_registry::Client::new(registry_config(&config));
        let networks = networks::Networking::new(&config.nft_table);
        let engine = Engine {
            config,
            id,
            db,
            events: Events::default(),
            content,
            snapshotter,
            driver,
            leases: images::gc::Leases::default(),
            registry,
            started: SystemTime::now(),
            containers: containers::Table::default(),
            shims: Mutex::new(HashMap::new()),
            attaches: Default::default(),
            execs: Default::default(),
            container_locks: Mutex::new(HashMap::new()),
            networks,
            this: OnceLock::new(),
            _lock: lock,
        };
        build::remove_leftovers(&engine.config.data_root, &engine.config.exec_root);
        engine.recover_images()?;
        Ok(engine)
    }

    /// Loads the containers and re-adopts the running ones; the shared
    /// engine is what their followers keep.
    pub fn run_containers(self: &Arc<Self>) -> Result<(), containers::ContainerError> {
        let _ = self.this.set(Arc::downgrade(self));
        self.start_dns();
        if let Err(e) = self.init_networks() {
            tracing::error!("setting up networks: {e}");
        }
        let live = self.load_containers()?;
        self.adopt_containers(live);
        self.reap_endpoints();
        self.readopt_dns();
        Ok(())
    }

    /// The shared engine, if [`Engine::run_containers`] made it so.
    pub(crate) fn this(&self) -> Option<Weak<Engine>> {
        self.this.get().cloned()
    }

    /// The operation lock of container `id`.
    pub(crate) fn container_lock(&self, id: &str) -> Arc<Mutex<()>> {
        self.container_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    pub(crate) fn forget_container_lock(&self, id: &str) {
        self.container_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// When berthd stops: the parent cgroup (`/berth`) goes if no
    /// container is left in it (running containers keep it, and their
    /// shims carry on without berthd); so do the bridges and the nftables
    /// table when no container runs ([`Engine::shutdown_networks`]); the
    /// layer images' mounts are detached (running containers' overlays keep
    /// their own references).
    pub fn shutdown(&self) {
        self.shutdown_networks();
        self.snapshotter.close();
        let parent = std::path::Path::new(&self.config.cgroup_parent);
        match berth_cgroups::Manager::new(Some(parent), "") {
            Ok(cgroup) => {
                cgroup.remove_if_empty();
            }
            Err(e) => tracing::debug!("parent cgroup {}: {e}", parent.display()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn events(&self) -> &Events {
        &self.events
    }

    /// When this engine was opened.
    pub fn started(&self) -> SystemTime {
        self.started
    }

    fn image_count(&self) -> usize {
        self.db
            .conn()
            .query_row("SELECT count(*) FROM images", [], |r| r.get::<_, i64>(0))
            .map_or(0, |n| n as usize)
    }

    fn storage_driver_name(&self) -> &'static str {
        self.driver
    }
}

/// The snapshotter the configuration asks for: overlay where the data root
/// supports it (or when asked), the copying one otherwise.
fn open_snapshotter(config: &Config) -> Result<(Box<dyn Snapshotter>, &'static str), OpenError> {
    let root = config.data_root.join("snapshots");
    let overlay = match config.storage_driver {
        StorageDriver::Overlay => true,
        StorageDriver::Native => false,
        StorageDriver::Auto => {
            create_private_dir(&root)?;
            berth_snapshot::overlay_supported(&root)
        }
    };
    Ok(if overlay {
        let root = root.join("overlay");
        let images = match berth_snapshot::erofs::probe(&root) {
            Ok(()) if !config.layer_images => {
                tracing::info!("layers are unpacked as directories: overlay2.layer_images=false");
                false
            }
            Ok(()) => true,
            Err(e) => {
                tracing::info!("layers are unpacked as directories: no EROFS image mounts: {e}");
                false
            }
        };
        (
            Box::new(OverlaySnapshotter::open_with_layer_images(&root, images)?),
            "overlay2",
        )
    } else {
        (
            Box::new(NativeSnapshotter::open(&root.join("native"))?),
            "vfs",
        )
    })
}

/// How the registry client reaches registries, from the engine's settings.
fn registry_config(config: &Config) -> berth_registry::RegistryConfig {
    berth_registry::RegistryConfig {
        insecure: config.insecure_registries.clone(),
        certs_dirs: config.registry_certs_dirs.clone(),
        ..Default::default()
    }
}

/// Creates `dir` (and parents) readable by root only, like dockerd's roots.
fn create_private_dir(dir: &Path) -> Result<(), OpenError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o711)
        .create(dir)
        .map_err(|source| OpenError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })
}

/// Takes the data root's lock, or says who holds it.
fn lock_data_root(data_root: &Path) -> Result<std::fs::File, OpenError> {
    let path = data_root.join("berthd.lock");
    let err = |source| OpenError::Lock {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => {
            Err(OpenError::DataRootInUse(data_root.to_path_buf()))
        }
        Err(e) => Err(err(e.into())),
    }
}

/// The engine's stable identity (`/info` ID): made once, kept in the data
/// root.
fn engine_id(data_root: &Path) -> Result<String, OpenError> {
    let path = data_root.join("engine-id");
    let err = |source| OpenError::EngineId {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let mut bytes = [0u8; 16];
    let n = rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty())
        .map_err(|e| err(e.into()))?;
    if n != bytes.len() {
        return Err(err(io::Error::other("short read from getrandom")));
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    let tmp = data_root.join(".engine-id.tmp");
    std::fs::write(&tmp, &id).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_twice_with_the_same_id() {
        let dir = tempfile::tempdir().unwrap();
        let config = || Config::new(dir.path().join("data"), dir.path().join("exec"));
        let first = Engine::open(config()).unwrap();
        let id = first.info().id;
        assert_eq!(id.len(), 36);
        assert!(matches!(
            Engine::open(config()),
            Err(OpenError::DataRootInUse(_))
        ));
        drop(first);
        assert_eq!(Engine::open(config()).unwrap().info().id, id);
        let v = Engine::open(config()).unwrap().version();
        assert_eq!(v.api_version, berth_models::version::CURRENT.to_string());
        assert_eq!(v.os, "linux");
    }
}
