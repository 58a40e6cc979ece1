//! `GET /containers/{id}/stats`: one reading of a container's resource
//! usage in Docker's shape. The figures come from the container's cgroup
//! (through the runtime's record of it, so the path is the one the
//! container was created in) and are converted as dockerd converts
//! containerd's metrics, per cgroup version: v1 keeps per-CPU usage,
//! `max_usage` and v1's `memory.stat` keys; v2 reports v2's keys, read and
//! write bytes, and the OOM count as `failcnt`. Beside the cgroup:
//! `system_cpu_usage` from `/proc/stat`, `online_cpus` from berthd's CPU
//! affinity, the memory limit capped at the host's memory, and the
//! interfaces of the container's network namespace from
//! `/proc/<init>/net/dev`.
//!
//! A container that is not running reads as zeroes with its name and id,
//! as under dockerd. The stream (one reading a second, `precpu_stats` from
//! the reading before) is the API layer's loop over
//! [`Engine::container_stats`](crate::Engine::container_stats).

use std::collections::BTreeMap;
use std::path::Path;

use berth_cgroups::CgroupMode;
use berth_models::stats::{BlkioStatEntry, NetworkStats, PidsStats, StatsResponse, ThrottlingData};

use super::{ContainerError, ContainerRecord};

/// The `memory.stat` keys dockerd reports on cgroup v1.
const V1_MEMORY_KEYS: &[&str] = &[
    "cache",
    "rss",
    "rss_huge",
    "mapped_file",
    "dirty",
    "writeback",
    "pgpgin",
    "pgpgout",
    "pgfault",
    "pgmajfault",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "total_cache",
    "total_rss",
    "total_rss_huge",
    "total_mapped_file",
    "total_dirty",
    "total_writeback",
    "total_pgpgin",
    "total_pgpgout",
    "total_pgfault",
    "total_pgmajfault",
    "total_inactive_anon",
    "total_active_anon",
    "total_inactive_file",
    "total_active_file",
    "total_unevictable",
];

/// The `memory.stat` keys dockerd reports on cgroup v2.
const V2_MEMORY_KEYS: &[&str] = &[
    "anon",
    "file",
    "kernel_stack",
    "slab",
    "sock",
    "shmem",
    "file_mapped",
    "file_dirty",
    "file_writeback",
    "anon_thp",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "slab_reclaimable",
    "slab_unreclaimable",
    "pgfault",
    "pgmajfault",
    "workingset_refault",
    "workingset_activate",
    "workingset_nodereclaim",
    "pgrefill",
    "pgscan",
    "pgsteal",
    "pgactivate",
    "pgdeactivate",
    "pglazyfree",
    "pglazyfreed",
    "thp_fault_alloc",
    "thp_collapse_alloc",
];

impl crate::Engine {
    /// One reading of `name`'s stats; `previous` (the reading before, in a
    /// stream) gives `precpu_stats` and `preread`. [`ContainerError::NotFound`]
    /// once the container is gone, which ends a stream.
    pub fn container_stats(
        &self,
        name: &str,
        previous: Option<&StatsResponse>,
    ) -> Result<StatsResponse, ContainerError> {
        let record = self.container(name)?;
        let mut s = if record.state.status.is_live() {
            match self.live_stats(&record) {
                Ok(s) => s,
                Err(e) => {
                    // It stopped between the look-up and the reading.
                    tracing::debug!("container {}: stats: {e}", record.id);
                    StatsResponse::zeroed(&record.name, &record.id)
                }
            }
        } else {
            StatsResponse::zeroed(&record.name, &record.id)
        };
        if let Some(p) = previous {
            s.precpu_stats = p.cpu_stats.clone();
            s.preread = p.read.clone();
        }
        Ok(s)
    }

    fn live_stats(&self, record: &ContainerRecord) -> Result<StatsResponse, ContainerError> {
        let root = self.config.exec_root.join("runtime");
        let internal = |e: &dyn std::fmt::Display| {
            ContainerError::Internal(format!("read the stats of {}: {e}", record.id))
        };
        let container = berth_runtime::container::Container::load(&root, &record.id)
            .map_err(|e| internal(&e))?;
        let cgroup = container.cgroup().map_err(|e| internal(&e))?;
        let raw = cgroup.stats().map_err(|e| internal(&e))?;
        let mut s = StatsResponse::zeroed(&record.name, &record.id);
        s.read = crate::time::format_rfc3339_nanos(std::time::SystemTime::now());
        s.preread = berth_models::stats::ZERO_TIME.into();
        if cgroup.mode() == CgroupMode::Unified {
            let dir = cgroup.paths().first().map(|p| p.to_path_buf());
            convert_v2(&raw, dir.as_deref(), &mut s);
        } else {
            convert_v1(&raw, &mut s);
        }
        s.cpu_stats.system_cpu_usage = system_cpu_usage().unwrap_or(0);
        s.cpu_stats.online_cpus = online_cpus();
        if let Some(total) = crate::system::meminfo_bytes("MemTotal")
            && s.memory_stats.limit > total
        {
            s.memory_stats.limit = total;
        }
        if record.host_config.network_mode != "host" && record.state.pid > 0 {
            let path = format!("/proc/{}/net/dev", record.state.pid);
            if let Ok(text) = std::fs::read_to_string(path) {
                let interfaces = parse_net_dev(&text);
                if !interfaces.is_empty() {
                    s.networks = Some(interfaces);
                }
            }
        }
        Ok(s)
    }
}

fn entries(list: &[berth_cgroups::BlkioEntry]) -> Vec<BlkioStatEntry> {
    list.iter()
        .map(|e| BlkioStatEntry {
            major: e.major,
            minor: e.minor,
            op: e.op.clone(),
            value: e.value,
        })
        .collect()
}

fn pick(raw: &BTreeMap<String, u64>, keys: &[&str]) -> BTreeMap<String, u64> {
    keys.iter()
        .map(|k| ((*k).to_string(), raw.get(*k).copied().unwrap_or(0)))
        .collect()
}

/// dockerd's `statsV1`.
fn convert_v1(raw: &berth_cgroups::Stats, s: &mut StatsResponse) {
    let b = &raw.blkio;
    s.blkio_stats.io_service_bytes_recursive = Some(entries(&b.io_service_bytes_recursive));
    s.blkio_stats.io_serviced_recursive = Some(entries(&b.io_serviced_recursive));
    s.blkio_stats.io_queue_recursive = Some(entries(&b.io_queued_recursive));
    s.blkio_stats.io_service_time_recursive = Some(entries(&b.io_service_time_recursive));
    s.blkio_stats.io_wait_time_recursive = Some(entries(&b.io_wait_time_recursive));
    s.blkio_stats.io_merged_recursive = Some(entries(&b.io_merged_recursive));
    s.blkio_stats.io_time_recursive = Some(entries(&b.io_time_recursive));
    s.blkio_stats.sectors_recursive = Some(entries(&b.sectors_recursive));
    let u = &raw.cpu.usage;
    s.cpu_stats.cpu_usage.total_usage = u.total;
    s.cpu_stats.cpu_usage.percpu_usage = u.percpu.clone();
    s.cpu_stats.cpu_usage.usage_in_kernelmode = u.kernel;
    s.cpu_stats.cpu_usage.usage_in_usermode = u.user;
    s.cpu_stats.throttling_data = throttling(&raw.cpu.throttling);
    let m = &raw.memory;
    s.memory_stats.stats = pick(&m.raw, V1_MEMORY_KEYS);
    s.memory_stats.usage = m.usage.usage;
    s.memory_stats.max_usage = m.usage.max;
    s.memory_stats.limit = m.usage.limit;
    s.memory_stats.failcnt = m.usage.failcnt;
    s.pids_stats = PidsStats {
        current: raw.pids.current,
        limit: raw.pids.limit,
    };
}

/// dockerd's `statsV2`; `dir` is the container's cgroup2 directory (for
/// the OOM count of `memory.events`).
fn convert_v2(raw: &berth_cgroups::Stats, dir: Option<&Path>, s: &mut StatsResponse) {
    let bytes: Vec<BlkioStatEntry> = raw
        .blkio
        .io_service_bytes_recursive
        .iter()
        .map(|e| BlkioStatEntry {
            major: e.major,
            minor: e.minor,
            op: e.op.to_ascii_lowercase(),
            value: e.value,
        })
        .collect();
    s.blkio_stats.io_service_bytes_recursive = (!bytes.is_empty()).then_some(bytes);
    let u = &raw.cpu.usage;
    s.cpu_stats.cpu_usage.total_usage = u.total;
    s.cpu_stats.cpu_usage.usage_in_kernelmode = u.kernel;
    s.cpu_stats.cpu_usage.usage_in_usermode = u.user;
    s.cpu_stats.throttling_data = throttling(&raw.cpu.throttling);
    let m = &raw.memory;
    s.memory_stats.stats = pick(&m.raw, V2_MEMORY_KEYS);
    s.memory_stats.usage = m.usage.usage;
    s.memory_stats.limit = m.usage.limit;
    s.memory_stats.failcnt = dir
        .and_then(|d| std::fs::read_to_string(d.join("memory.events")).ok())
        .and_then(|t| flat_keyed(&t, "oom"))
        .unwrap_or(0);
    s.pids_stats = PidsStats {
        current: raw.pids.current,
        limit: raw.pids.limit,
    };
}

fn throttling(t: &berth_cgroups::Throttling) -> ThrottlingData {
    ThrottlingData {
        periods: t.periods,
        throttled_periods: t.throttled_periods,
        throttled_time: t.throttled_time,
    }
}

/// The value of `key` in a `key value` per line file.
fn flat_keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// The host's CPU time in nanoseconds, as dockerd computes it: the first
/// seven fields of `/proc/stat`'s `cpu` line (user … softirq), in clock
/// ticks.
pub(crate) fn system_cpu_usage() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_proc_stat(&text, rustix::param::clock_ticks_per_second())
}

fn parse_proc_stat(text: &str, ticks_per_second: u64) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<&str> = line.split_whitespace().skip(1).take(7).collect();
    if fields.len() < 7 || ticks_per_second == 0 {
        return None;
    }
    let mut ticks: u64 = 0;
    for f in fields {
        ticks = ticks.saturating_add(f.parse::<u64>().ok()?);
    }
    Some(
        (u128::from(ticks) * 1_000_000_000 / u128::from(ticks_per_second))
            .try_into()
            .unwrap_or(u64::MAX),
    )
}

/// The CPUs berthd may run on (dockerd: `sched_getaffinity` of itself).
fn online_cpus() -> u32 {
    rustix::thread::sched_getaffinity(None)
        .map(|set| set.count())
        .unwrap_or(0)
}

/// Interfaces of `/proc/<pid>/net/dev` but the loopback.
fn parse_net_dev(text: &str) -> BTreeMap<String, NetworkStats> {
    let mut out = BTreeMap::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name == "lo" || name.is_empty() {
            continue;
        }
        let f: Vec<u64> = rest
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        if f.len() < 12 {
            continue;
        }
        out.insert(
            name.to_string(),
            NetworkStats {
                rx_bytes: f[0],
                rx_packets: f[1],
                rx_errors: f[2],
                rx_dropped: f[3],
                tx_bytes: f[8],
                tx_packets: f[9],
                tx_errors: f[10],
                tx_dropped: f[11],
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_cpu_usage_sums_seven_fields_like_dockerd() {
        let text = "cpu  100 2 30 400 5 6 7 8 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n";
        // 550 ticks at 100 Hz: 5.5 s.
        assert_eq!(parse_proc_stat(text, 100), Some(5_500_000_000));
        assert_eq!(parse_proc_stat("cpu  1 2\n", 100), None);
    }

    #[test]
    fn net_dev_lists_interfaces_but_the_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  eth0:    1500      10    1    2    0     0          0         0      900       7    3    4    0     0       0          0\n";
        let m = parse_net_dev(text);
        assert_eq!(m.len(), 1);
        let e = m["eth0"];
        assert_eq!(
            (e.rx_bytes, e.rx_packets, e.rx_errors, e.rx_dropped),
            (1500, 10, 1, 2)
        );
        assert_eq!(
            (e.tx_bytes, e.tx_packets, e.tx_errors, e.tx_dropped),
            (900, 7, 3, 4)
        );
    }

    #[test]
    fn v1_and_v2_convert_like_dockerd() {
        let mut raw = berth_cgroups::Stats::default();
        raw.cpu.usage.total = 10;
        raw.cpu.usage.percpu = vec![4, 6];
        raw.memory.usage.usage = 4096;
        raw.memory.usage.limit = 64 << 20;
        raw.memory.raw.insert("total_inactive_file".into(), 7);
        raw.memory.raw.insert("inactive_file".into(), 3);
        raw.pids.current = 2;
        raw.blkio
            .io_service_bytes_recursive
            .push(berth_cgroups::BlkioEntry {
                major: 8,
                minor: 0,
                op: "Read".into(),
                value: 5,
            });
        let mut s = StatsResponse::zeroed("c", "id");
        convert_v1(&raw, &mut s);
        assert_eq!(s.cpu_stats.cpu_usage.percpu_usage, [4, 6]);
        assert_eq!(s.memory_stats.stats["total_inactive_file"], 7);
        assert_eq!(s.memory_stats.stats.len(), V1_MEMORY_KEYS.len());
        assert_eq!(s.blkio_stats.io_serviced_recursive, Some(vec![]));
        assert_eq!(s.pids_stats.current, 2);
        let mut s = StatsResponse::zeroed("c", "id");
        convert_v2(&raw, None, &mut s);
        assert!(s.cpu_stats.cpu_usage.percpu_usage.is_empty());
        assert_eq!(s.memory_stats.stats["inactive_file"], 3);
        let bytes = s.blkio_stats.io_service_bytes_recursive.unwrap();
        assert_eq!(bytes[0].op, "read");
        assert_eq!(s.blkio_stats.io_serviced_recursive, None);
        assert_eq!(s.memory_stats.limit, 64 << 20);
    }
}
