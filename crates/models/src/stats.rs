//! The bodies of `GET /containers/{id}/stats`, `GET /containers/{id}/top`
//! and `POST /containers/{id}/update` (moby `api/types/container`:
//! `StatsResponse`, `TopResponse`, `UpdateConfig`, `UpdateResponse`). Field
//! names and `omitempty` rules are Go's, so the docker CLI parses them as it
//! parses dockerd's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::host_config::{Resources, RestartPolicy};

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

/// One reading of a container's resource usage (`container.StatsResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsResponse {
    /// When this reading was taken (RFC 3339; Go's zero time when none).
    pub read: String,
    /// When the previous reading was taken.
    pub preread: String,
    pub pids_stats: PidsStats,
    pub blkio_stats: BlkioStats,
    /// Windows only; always 0.
    pub num_procs: u32,
    /// Windows only; always `{}`.
    pub storage_stats: StorageStats,
    pub cpu_stats: CpuStats,
    /// The previous reading's CPU figures (what the CLI computes % from).
    pub precpu_stats: CpuStats,
    pub memory_stats: MemoryStats,
    /// The container's name with its leading `/`.
    pub name: String,
    pub id: String,
    /// Per interface of the container's network namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<BTreeMap<String, NetworkStats>>,
}

/// Go's zero `time.Time`, as dockerd prints an absent reading time.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl StatsResponse {
    /// What dockerd answers for a container that is not running: its name
    /// and id, everything else zero.
    pub fn zeroed(name: &str, id: &str) -> StatsResponse {
        StatsResponse {
            read: ZERO_TIME.into(),
            preread: ZERO_TIME.into(),
            name: format!("/{name}"),
            id: id.into(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidsStats {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub current: u64,
    /// 0 when unlimited.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// Block I/O counters; a list dockerd has no data for is `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioStats {
    pub io_service_bytes_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_serviced_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_queue_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_service_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_wait_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_merged_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_time_recursive: Option<Vec<BlkioStatEntry>>,
    pub sectors_recursive: Option<Vec<BlkioStatEntry>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioStatEntry {
    pub major: u64,
    pub minor: u64,
    pub op: String,
    pub value: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageStats {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuStats {
    pub cpu_usage: CpuUsage,
    /// The host's CPU time in nanoseconds (from `/proc/stat`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub system_cpu_usage: u64,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub online_cpus: u32,
    pub throttling_data: ThrottlingData,
}

/// Nanoseconds of CPU time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuUsage {
    pub total_usage: u64,
    /// Per CPU (cgroup v1 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu_usage: Vec<u64>,
    pub usage_in_kernelmode: u64,
    pub usage_in_usermode: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottlingData {
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStats {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_usage: u64,
    /// `memory.stat` (the keys dockerd reports for the cgroup version).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stats: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failcnt: u64,
    /// The limit, or the host's memory when there is none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// One interface's counters (`/proc/<pid>/net/dev`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// `GET /containers/{id}/top`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopResponse {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// `POST /containers/{id}/update`: the resources to change (zero/absent
/// fields stay as they are) and optionally a new restart policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateConfig {
    #[serde(flatten)]
    pub resources: Resources,
    #[serde(default, rename = "RestartPolicy")]
    pub restart_policy: RestartPolicy,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateResponse {
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_stats_print_like_dockerd() {
        let v = serde_json::to_value(StatsResponse::zeroed("web", "abc")).unwrap();
        assert_eq!(v["read"], ZERO_TIME);
        assert_eq!(v["name"], "/web");
        assert_eq!(v["pids_stats"], serde_json::json!({}));
        assert_eq!(v["memory_stats"], serde_json::json!({}));
        assert!(v["blkio_stats"]["io_service_bytes_recursive"].is_null());
        assert_eq!(
            v["cpu_stats"],
            serde_json::json!({"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},
                               "throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}})
        );
        assert!(v.get("networks").is_none());
    }

    #[test]
    fn update_config_reads_the_clis_body() {
        let body = r#"{"Memory":134217728,"NanoCpus":500000000,"PidsLimit":null,"RestartPolicy":{"Name":"","MaximumRetryCount":0}}"#;
        let u: UpdateConfig = serde_json::from_str(body).unwrap();
        assert_eq!(u.resources.memory, 128 << 20);
        assert_eq!(u.resources.nano_cpus, 500_000_000);
        assert_eq!(u.resources.pids_limit, None);
        assert_eq!(u.restart_policy.name, "");
    }
}
