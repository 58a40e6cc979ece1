//! What the daemon says about itself and its host: `GET /version` and
//! `GET /info`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use berth_models::system::{
    Commit, Component, IndexInfo, Info, Platform, PluginsInfo, RegistryConfig, Runtime, Version,
};
use berth_models::version;

use crate::Engine;
use crate::time::format_rfc3339_nanos;

/// Berth's release, reported as the engine version.
pub const BERTH_VERSION: &str = env!("CARGO_PKG_VERSION");

impl Engine {
    pub fn version(&self) -> Version {
        let uname = rustix::system::uname();
        let kernel = uname.release().to_string_lossy().into_owned();
        let mut details = BTreeMap::new();
        details.insert("ApiVersion".to_string(), version::CURRENT.to_string());
        details.insert("MinAPIVersion".to_string(), version::MINIMUM.to_string());
        details.insert("Os".to_string(), "linux".to_string());
        details.insert("Arch".to_string(), host_arch().to_string());
        details.insert("KernelVersion".to_string(), kernel.clone());
        details.insert("Experimental".to_string(), "false".to_string());
        details.insert("GitCommit".to_string(), git_commit().to_string());
        details.insert("GoVersion".to_string(), String::new());
        details.insert("BuildTime".to_string(), String::new());
        Version {
            platform: Platform {
                name: format!("Berth Engine {BERTH_VERSION}"),
            },
            components: vec![Component {
                name: "Engine".to_string(),
                version: BERTH_VERSION.to_string(),
                details: Some(details),
            }],
            version: BERTH_VERSION.to_string(),
            api_version: version::CURRENT.to_string(),
            min_api_version: version::MINIMUM.to_string(),
            git_commit: git_commit().to_string(),
            go_version: String::new(),
            os: "linux".to_string(),
            arch: host_arch().to_string(),
            kernel_version: kernel,
            experimental: false,
            build_time: String::new(),
        }
    }

    pub fn info(&self) -> Info {
        let uname = rustix::system::uname();
        let cgroup2 = host_has_cgroup2_only();
        let mut runtimes = BTreeMap::new();
        // `runc` is the same built-in runtime under Docker's default name.
        for name in ["berth", "runc"] {
            runtimes.insert(
                name.to_string(),
                Runtime {
                    path: "berth-runtime".to_string(),
                    runtime_args: Vec::new(),
                },
            );
        }
        let mut index_configs = BTreeMap::new();
        index_configs.insert(
            "docker.io".to_string(),
            IndexInfo {
                name: "docker.io".to_string(),
                mirrors: Vec::new(),
                secure: true,
                official: true,
            },
        );
        let mut security_options = vec!["name=seccomp,profile=builtin".to_string()];
        if cgroup2 {
            security_options.push("name=cgroupns".to_string());
        }
        let images = self.image_count() as i64;
        Info {
            id: self.id.clone(),
            containers: 0,
            containers_running: 0,
            containers_paused: 0,
            containers_stopped: 0,
            images,
            driver: self.storage_driver_name().to_string(),
            driver_status: vec![[
                "Backing Filesystem".to_string(),
                backing_fs(&self.config.data_root),
            ]],
            plugins: PluginsInfo {
                volume: vec!["local".to_string()],
                network: vec!["bridge".to_string(), "host".to_string(), "null".to_string()],
                authorization: None,
                log: vec!["json-file".to_string()],
            },
            memory_limit: true,
            swap_limit: true,
            kernel_memory_tcp: !cgroup2,
            cpu_cfs_period: true,
            cpu_cfs_quota: true,
            cpu_shares: true,
            cpu_set: true,
            pids_limit: true,
            ipv4_forwarding: read_trimmed("/proc/sys/net/ipv4/ip_forward").as_deref() == Some("1"),
            bridge_nf_iptables: false,
            bridge_nf_ip6tables: false,
            debug: self.config.debug,
            nfd: open_fds(),
            oom_kill_disable: !cgroup2,
            n_goroutines: 0,
            system_time: format_rfc3339_nanos(SystemTime::now()),
            logging_driver: "json-file".to_string(),
            cgroup_driver: "cgroupfs".to_string(),
            cgroup_version: if cgroup2 { "2" } else { "1" }.to_string(),
            n_events_listener: self.events.listeners() as i64,
            kernel_version: uname.release().to_string_lossy().into_owned(),
            operating_system: os_pretty_name(),
            os_version: os_release_field("VERSION_ID").unwrap_or_default(),
            os_type: "linux".to_string(),
            architecture: uname.machine().to_string_lossy().into_owned(),
            index_server_address: "https://index.docker.io/v1/".to_string(),
            registry_config: RegistryConfig {
                allow_nondistributable_artifacts_cidrs: None,
                allow_nondistributable_artifacts_hostnames: None,
                insecure_registry_cidrs: {
                    let mut v = vec!["127.0.0.0/8".to_string()];
                    v.extend(
                        self.config
                            .insecure_registries
                            .iter()
                            .filter(|r| r.contains('/'))
                            .cloned(),
                    );
                    v
                },
                index_configs,
                mirrors: Vec::new(),
            },
            ncpu: std::thread::available_parallelism()
                .map(|n| n.get() as i64)
                .unwrap_or(1),
            mem_total: meminfo_bytes("MemTotal").map_or(0, |b| b as i64),
            generic_resources: None,
            docker_root_dir: self.config.data_root.display().to_string(),
            http_proxy: String::new(),
            https_proxy: String::new(),
            no_proxy: String::new(),
            name: uname.nodename().to_string_lossy().into_owned(),
            labels: self.config.labels.clone(),
            experimental_build: false,
            server_version: BERTH_VERSION.to_string(),
            runtimes,
            default_runtime: "berth".to_string(),
            swarm: serde_json::json!({
                "NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                "ControlAvailable": false, "Error": "", "RemoteManagers": null
            }),
            live_restore_enabled: true,
            isolation: String::new(),
            init_binary: String::new(),
            containerd_commit: Commit::default(),
            runc_commit: Commit::default(),
            init_commit: Commit::default(),
            security_options,
            warnings: None,
        }
    }
}

/// The commit berthd was built from, when the build said.
fn git_commit() -> &'static str {
    option_env!("BERTH_GIT_COMMIT").unwrap_or("")
}

/// The OCI/Go name of the machine's architecture.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

fn host_has_cgroup2_only() -> bool {
    rustix::fs::statfs("/sys/fs/cgroup").is_ok_and(|s| s.f_type == 0x6367_7270)
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn os_release_field(key: &str) -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix('=')?;
        Some(value.trim_matches('"').to_string())
    })
}

fn os_pretty_name() -> String {
    os_release_field("PRETTY_NAME").unwrap_or_else(|| "Linux".to_string())
}

/// A `/proc/meminfo` field (`MemTotal`, `MemAvailable`, …), in bytes.
pub(crate) fn meminfo_bytes(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
}

fn open_fds() -> i64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as i64)
}

/// The filesystem type under the data root, as `docker info` shows it.
fn backing_fs(path: &std::path::Path) -> String {
    let Ok(stat) = rustix::fs::statfs(path) else {
        return "unknown".to_string();
    };
    match stat.f_type as u64 {
        0xef53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683e => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794c_7630 => "overlayfs",
        0x2fc1_2fc1 => "zfs",
        _ => "unknown",
    }
    .to_string()
}

impl Engine {
    /// `GET /system/df`: what images (and, later, containers, volumes and
    /// the build cache) take on disk.
    pub fn disk_usage(&self) -> Result<berth_models::system::DiskUsage, crate::images::ImageError> {
        let layers_size: i64 =
            self.db
                .conn()
                .query_row("SELECT coalesce(sum(size), 0) FROM layers", [], |r| {
                    r.get(0)
                })?;
        let mut images = self.list_images(&crate::images::ListOptions {
            all: true,
            ..Default::default()
        })?;
        // Bytes an image shares with others: its layers that another image
        // also stacks on.
        let chains = self.image_chains()?;
        for image in &mut images {
            image.containers = 0;
            image.shared_size =
                chains
                    .iter()
                    .find(|(id, _)| id == &image.id)
                    .map_or(0, |(id, own)| {
                        own.iter()
                            .filter(|layer| {
                                chains
                                    .iter()
                                    .any(|(other, theirs)| other != id && theirs.contains(layer))
                            })
                            .filter_map(|layer| self.layer_size(layer))
                            .sum::<u64>() as i64
                    });
        }
        Ok(berth_models::system::DiskUsage {
            layers_size,
            images,
            containers: Vec::new(),
            volumes: Vec::new(),
            build_cache: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_fields_in_bytes() {
        let total = meminfo_bytes("MemTotal").unwrap();
        let available = meminfo_bytes("MemAvailable").unwrap();
        assert!(
            total > 1 << 20 && available <= total,
            "{available} of {total}"
        );
        // A prefix of another field's name is not that field.
        assert_eq!(meminfo_bytes("Mem"), None);
    }
}
