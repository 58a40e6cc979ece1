//! Resource usage of a container's cgroup, shaped exactly like the `data` object that
//! `runc events --stats` prints (runc `types/events.go`): same key names, same omission of zero
//! values (`omitempty`/`omitzero`), same always-present keys, so containerd and docker parse it
//! unchanged.
//!
//! Go encodes maps with sorted keys (hence `BTreeMap`) and whole-valued floats without a
//! fraction (`0`, not `0.0`); both are reproduced.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Go's float formatting for the values PSI produces: integral values print without `.0`.
fn go_float<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        // Integral and exactly representable: print like Go does ("0", "12").
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// Top-level stats (`types.Stats`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub cpu: CpuStats,
    pub cpuset: CpusetStats,
    pub memory: MemoryStats,
    pub pids: PidsStats,
    pub blkio: BlkioStats,
    /// Per page size (`"2MB"`); always present, `{}` when there is no hugetlb controller.
    pub hugetlb: BTreeMap<String, HugetlbStats>,
    /// Intel RDT is not a cgroup; always `{}` here (the runtime may fill it).
    pub intel_rdt: IntelRdtStats,
    /// Filled by the runtime from the container's network namespace; `null` otherwise.
    pub network_interfaces: Option<Vec<NetworkInterface>>,
}

/// Pressure stall information of one resource (`cgroups.PSIData`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PsiData {
    #[serde(serialize_with = "go_float")]
    pub avg10: f64,
    #[serde(serialize_with = "go_float")]
    pub avg60: f64,
    #[serde(serialize_with = "go_float")]
    pub avg300: f64,
    pub total: u64,
}

impl PsiData {
    fn is_zero(&self) -> bool {
        *self == PsiData::default()
    }
}

/// `some` and `full` pressure (`cgroups.PSIStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PsiStats {
    #[serde(skip_serializing_if = "PsiData::is_zero")]
    pub some: PsiData,
    #[serde(skip_serializing_if = "PsiData::is_zero")]
    pub full: PsiData,
}

/// CPU time (`types.CpuUsage`), nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuUsage {
    #[serde(skip_serializing_if = "is_zero")]
    pub total: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

impl CpuUsage {
    fn is_zero(&self) -> bool {
        *self == CpuUsage::default()
    }
}

/// CFS throttling (`types.Throttling`); time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Throttling {
    #[serde(skip_serializing_if = "is_zero")]
    pub periods: u64,
    #[serde(rename = "throttledPeriods", skip_serializing_if = "is_zero")]
    pub throttled_periods: u64,
    #[serde(rename = "throttledTime", skip_serializing_if = "is_zero")]
    pub throttled_time: u64,
}

impl Throttling {
    fn is_zero(&self) -> bool {
        *self == Throttling::default()
    }
}

/// `types.Cpu`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuStats {
    #[serde(skip_serializing_if = "CpuUsage::is_zero")]
    pub usage: CpuUsage,
    #[serde(skip_serializing_if = "Throttling::is_zero")]
    pub throttling: Throttling,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<PsiStats>,
}

/// `types.CPUSet` (v1 only; runc reports nothing on v2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpusetStats {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u16>,
    pub cpu_exclusive: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mems: Vec<u16>,
    pub mem_hardwall: u64,
    pub mem_exclusive: u64,
    pub memory_migrate: u64,
    pub memory_spread_page: u64,
    pub memory_spread_slab: u64,
    pub memory_pressure: u64,
    pub sched_load_balance: u64,
    pub sched_relax_domain_level: i64,
}

/// One memory counter group (`types.MemoryEntry`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryEntry {
    pub limit: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    pub failcnt: u64,
}

impl MemoryEntry {
    fn is_zero(&self) -> bool {
        *self == MemoryEntry::default()
    }
}

/// `types.Memory`. On v1 `swap` is memory+swap (memsw); v2 reports the same sum for
/// compatibility, as runc does.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub cache: u64,
    #[serde(skip_serializing_if = "MemoryEntry::is_zero")]
    pub usage: MemoryEntry,
    #[serde(skip_serializing_if = "MemoryEntry::is_zero")]
    pub swap: MemoryEntry,
    #[serde(skip_serializing_if = "MemoryEntry::is_zero")]
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP", skip_serializing_if = "MemoryEntry::is_zero")]
    pub kernel_tcp: MemoryEntry,
    /// `memory.stat` as read.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<PsiStats>,
}

/// `types.Pids`; `limit` 0 means unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PidsStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub current: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// One block I/O counter (`types.BlkioEntry`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioEntry {
    #[serde(skip_serializing_if = "is_zero")]
    pub major: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub minor: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub op: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub value: u64,
}

/// `types.Blkio`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioStats {
    #[serde(
        rename = "ioServiceBytesRecursive",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(rename = "ioServicedRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
    #[serde(rename = "ioQueueRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_queued_recursive: Vec<BlkioEntry>,
    #[serde(
        rename = "ioServiceTimeRecursive",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub io_service_time_recursive: Vec<BlkioEntry>,
    #[serde(rename = "ioWaitTimeRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_wait_time_recursive: Vec<BlkioEntry>,
    #[serde(rename = "ioMergedRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_merged_recursive: Vec<BlkioEntry>,
    #[serde(rename = "ioTimeRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_time_recursive: Vec<BlkioEntry>,
    #[serde(rename = "sectorsRecursive", skip_serializing_if = "Vec::is_empty")]
    pub sectors_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<PsiStats>,
}

/// `types.Hugetlb`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HugetlbStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    pub failcnt: u64,
}

/// `types.IntelRdt`; empty (Intel RDT is resctrl, not a cgroup).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelRdtStats {}

/// `types.NetworkInterface` (Go field names, no JSON tags).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterface {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// Parse a PSI file (`some avg10=0.00 avg60=0.00 avg300=0.00 total=0` / `full ...`).
pub(crate) fn parse_psi(content: &str) -> Option<PsiStats> {
    let mut out = PsiStats::default();
    for line in content.lines() {
        let mut it = line.split_whitespace();
        let target = match it.next() {
            Some("some") => &mut out.some,
            Some("full") => &mut out.full,
            _ => continue,
        };
        for kv in it {
            let (k, v) = kv.split_once('=')?;
            match k {
                "avg10" => target.avg10 = v.parse().ok()?,
                "avg60" => target.avg60 = v.parse().ok()?,
                "avg300" => target.avg300 = v.parse().ok()?,
                "total" => target.total = v.parse().ok()?,
                _ => {}
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_stats_serialize_like_runc() {
        // What runc prints for a cgroup with nothing to report.
        let j = serde_json::to_string(&Stats::default()).unwrap();
        assert_eq!(
            j,
            r#"{"cpu":{},"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},"memory":{},"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}"#
        );
    }

    #[test]
    fn populated_stats_use_runc_key_names_and_omission_rules() {
        let mut s = Stats::default();
        s.cpu.usage.total = 10;
        s.cpu.usage.percpu = vec![4, 6];
        s.cpu.throttling.throttled_periods = 2;
        s.memory.usage = MemoryEntry {
            limit: 100,
            usage: 0,
            max: 7,
            failcnt: 0,
        };
        s.memory.kernel_tcp.limit = 5;
        s.memory.raw.insert("b".into(), 2);
        s.memory.raw.insert("a".into(), 1);
        s.pids.current = 3;
        s.blkio.io_service_bytes_recursive.push(BlkioEntry {
            major: 8,
            minor: 0,
            op: "Read".into(),
            value: 0,
        });
        s.hugetlb.insert("2MB".into(), HugetlbStats::default());
        s.cpu.psi = Some(PsiStats {
            some: PsiData {
                avg10: 1.5,
                avg60: 0.0,
                avg300: 2.0,
                total: 9,
            },
            full: PsiData::default(),
        });
        let v: serde_json::Value = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["cpu"],
            serde_json::json!({"usage":{"total":10,"percpu":[4,6],"kernel":0,"user":0},
                               "throttling":{"throttledPeriods":2},
                               "psi":{"some":{"avg10":1.5,"avg60":0,"avg300":2,"total":9}}})
        );
        assert_eq!(
            v["memory"],
            serde_json::json!({"usage":{"limit":100,"max":7,"failcnt":0},
                               "kernelTCP":{"limit":5,"failcnt":0},
                               "raw":{"a":1,"b":2}})
        );
        assert_eq!(v["pids"], serde_json::json!({"current":3}));
        assert_eq!(
            v["blkio"],
            serde_json::json!({"ioServiceBytesRecursive":[{"major":8,"op":"Read"}]})
        );
        assert_eq!(v["hugetlb"], serde_json::json!({"2MB":{"failcnt":0}}));
        // Integral floats print without a fraction, like Go.
        let text = serde_json::to_string(&s.cpu.psi).unwrap();
        assert!(text.contains(r#""avg60":0,"avg300":2,"#), "{text}");
        // And it parses back.
        let back: Stats = serde_json::from_value(v).unwrap();
        assert_eq!(back.memory.raw, s.memory.raw);
    }

    #[test]
    fn psi_parsing() {
        let p = parse_psi("some avg10=1.25 avg60=0.00 avg300=0.00 total=77\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=5\n")
            .unwrap();
        assert_eq!(p.some.avg10, 1.25);
        assert_eq!(p.some.total, 77);
        assert_eq!(p.full.total, 5);
        assert!(parse_psi("some avg10=x").is_none());
    }
}
