//! The engine's settings, resolved from berthd's flags (dockerd's names).

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    /// `--data-root`: the database, content store, snapshots.
    pub data_root: PathBuf,
    /// `--exec-root`: sockets and the runtime's state.
    pub exec_root: PathBuf,
    /// `--insecure-registry`: hosts (`host[:port]`) and CIDRs reached over
    /// plain HTTP or with unverified TLS.
    pub insecure_registries: Vec<String>,
    /// Directories of per-registry TLS material (`<dir>/<host[:port]>/ca.crt`).
    pub registry_certs_dirs: Vec<PathBuf>,
    /// `--max-concurrent-downloads` (Docker's default: 3).
    pub max_concurrent_downloads: usize,
    /// `--max-concurrent-uploads` (Docker's default: 5).
    pub max_concurrent_uploads: usize,
    /// `--storage-driver`: which snapshotter holds the layers.
    pub storage_driver: StorageDriver,
    /// `--storage-opt overlay2.layer_images=BOOL`: may the overlay driver keep layers as EROFS
    /// image files where the kernel mounts them (the default), or only as directories?
    pub layer_images: bool,
    /// `-D/--debug`, reported by `/info`.
    pub debug: bool,
    /// `--label`s of the daemon, reported by `/info`.
    pub labels: Vec<String>,
    /// The `berth-shim` executable started for each running container.
    pub shim_binary: PathBuf,
    /// `--cgroup-parent`: where containers' cgroups go unless they say.
    pub cgroup_parent: String,
    /// `--bridge`/`-b`: the Linux bridge of the default `bridge` network.
    pub bridge_name: String,
    /// `--bip`: the default bridge's address and prefix (`172.30.0.1/16`);
    /// `None`: the first default pool no network or host route uses.
    pub bip: Option<String>,
    /// `--nft-table`: Berth's nftables table (`inet <name>`), so that
    /// several berthd on one host keep their rules apart.
    pub nft_table: String,
    /// `--dns`: the DNS servers of containers that name none of their own
    /// (in resolv.conf on the default bridge), and the forwarders of the
    /// embedded DNS on user-defined networks; empty: the host's
    /// resolv.conf.
    pub dns: Vec<std::net::IpAddr>,
}

/// The snapshotter behind images and containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageDriver {
    /// overlayfs if the data root supports it, else copying.
    Auto,
    /// Layers stacked by overlayfs (dockerd's `overlay2`).
    Overlay,
    /// Each snapshot a full copy (dockerd's `vfs`): slow, works anywhere.
    Native,
}

impl StorageDriver {
    /// Parses `--storage-driver` (Berth's names and dockerd's).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "auto" => Some(StorageDriver::Auto),
            "overlay" | "overlayfs" | "overlay2" => Some(StorageDriver::Overlay),
            "native" | "vfs" => Some(StorageDriver::Native),
            _ => None,
        }
    }
}

impl Config {
    /// dockerd's defaults with Berth's paths.
    pub fn new(data_root: PathBuf, exec_root: PathBuf) -> Self {
        Config {
            data_root,
            exec_root,
            insecure_registries: Vec::new(),
            registry_certs_dirs: vec![
                PathBuf::from("/etc/berth/certs.d"),
                PathBuf::from("/etc/docker/certs.d"),
            ],
            max_concurrent_downloads: 3,
            max_concurrent_uploads: 5,
            storage_driver: StorageDriver::Auto,
            layer_images: true,
            debug: false,
            labels: Vec::new(),
            shim_binary: default_shim_binary(),
            cgroup_parent: "/berth".to_string(),
            bridge_name: "berth0".to_string(),
            bip: None,
            nft_table: "berth".to_string(),
            dns: Vec::new(),
        }
    }
}

/// `berth-shim` beside the running executable, else from `PATH`.
fn default_shim_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("berth-shim")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("berth-shim"))
}
