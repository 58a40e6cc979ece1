//! Checks of `linux.resources` made before anything is created: ranges, syntax, consistency
//! between fields, and host facts that need no cgroup (huge page sizes). Every message starts
//! with the OCI field path. The backends add their own availability checks (which controllers
//! are mounted) through [`require`] and the `wants_*` predicates.

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxNetwork, LinuxResources};

use crate::CgroupMode;
use crate::cpu_list;
use crate::device_rule::DeviceRule;
use crate::error::{Error, Result};
use crate::hugepage_size;

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::InvalidResource {
        field: field.into(),
        reason: reason.into(),
    }
}

/// `Err(ControllerUnavailable)` unless `available`.
pub(crate) fn require(
    field: &str,
    controller: &str,
    available: bool,
    mode: CgroupMode,
) -> Result<()> {
    if available {
        Ok(())
    } else {
        Err(Error::ControllerUnavailable {
            field: field.to_owned(),
            controller: controller.to_owned(),
            mode,
        })
    }
}

/// Whether any memory setting is present.
pub(crate) fn wants_memory(m: &LinuxMemory) -> bool {
    m.limit().is_some()
        || m.reservation().is_some()
        || m.swap().is_some()
        || m.kernel().is_some()
        || m.kernel_tcp().is_some()
        || m.swappiness().is_some()
        || m.disable_oom_killer().is_some()
        || m.use_hierarchy().is_some()
}

/// Whether any setting of the cpu controller (not cpuset) is present.
pub(crate) fn wants_cpu(c: &LinuxCpu) -> bool {
    c.shares().is_some_and(|v| v != 0)
        || c.quota().is_some_and(|v| v != 0)
        || c.period().is_some_and(|v| v != 0)
        || c.realtime_runtime().is_some_and(|v| v != 0)
        || c.realtime_period().is_some_and(|v| v != 0)
        || c.idle().is_some()
        || c.burst().is_some()
}

/// Whether cpus or mems are set.
pub(crate) fn wants_cpuset(c: &LinuxCpu) -> bool {
    c.cpus().as_deref().is_some_and(|s| !s.is_empty())
        || c.mems().as_deref().is_some_and(|s| !s.is_empty())
}

/// Whether any block I/O setting is present.
pub(crate) fn wants_blkio(b: &LinuxBlockIo) -> bool {
    b.weight().is_some_and(|v| v != 0)
        || b.leaf_weight().is_some_and(|v| v != 0)
        || b.weight_device().as_ref().is_some_and(|v| !v.is_empty())
        || b.throttle_read_bps_device()
            .as_ref()
            .is_some_and(|v| !v.is_empty())
        || b.throttle_write_bps_device()
            .as_ref()
            .is_some_and(|v| !v.is_empty())
        || b.throttle_read_iops_device()
            .as_ref()
            .is_some_and(|v| !v.is_empty())
        || b.throttle_write_iops_device()
            .as_ref()
            .is_some_and(|v| !v.is_empty())
}

/// Whether net_cls / net_prio settings are present.
pub(crate) fn wants_net_cls(n: &LinuxNetwork) -> bool {
    n.class_id().is_some()
}
pub(crate) fn wants_net_prio(n: &LinuxNetwork) -> bool {
    n.priorities().as_ref().is_some_and(|p| !p.is_empty())
}

fn check_bytes(field: &str, v: Option<i64>) -> Result<()> {
    match v {
        Some(v) if v < -1 => Err(invalid(
            field,
            format!("{v} is not -1 (unlimited), 0 (unset) or a byte count"),
        )),
        _ => Ok(()),
    }
}

fn check_memory(m: &LinuxMemory) -> Result<()> {
    check_bytes("linux.resources.memory.limit", m.limit())?;
    check_bytes("linux.resources.memory.reservation", m.reservation())?;
    check_bytes("linux.resources.memory.swap", m.swap())?;
    check_bytes("linux.resources.memory.kernel", m.kernel())?;
    check_bytes("linux.resources.memory.kernelTCP", m.kernel_tcp())?;
    if let (Some(swap), Some(limit)) = (m.swap(), m.limit())
        && swap > 0
        && limit > 0
        && swap < limit
    {
        return Err(invalid(
            "linux.resources.memory.swap",
            format!(
                "memory+swap limit {swap} is below the memory limit {limit} (swap counts memory plus swap, so it must be >= memory.limit)"
            ),
        ));
    }
    if let Some(s) = m.swappiness() {
        // u64::MAX is -1 written as unsigned: "not set".
        if s != u64::MAX && s > 100 {
            return Err(invalid(
                "linux.resources.memory.swappiness",
                format!("{s} is outside 0..=100"),
            ));
        }
    }
    Ok(())
}

fn check_cpu(c: &LinuxCpu, mode: CgroupMode) -> Result<()> {
    if let Some(s) = c.shares()
        && s != 0
        && !(2..=262_144).contains(&s)
    {
        return Err(invalid(
            "linux.resources.cpu.shares",
            format!("{s} is outside 2..=262144"),
        ));
    }
    if let Some(q) = c.quota()
        && q != 0
        && q != -1
        && q < 1000
    {
        return Err(invalid(
            "linux.resources.cpu.quota",
            format!("{q} is not -1 (unlimited) or at least 1000 microseconds"),
        ));
    }
    if let Some(p) = c.period()
        && p != 0
        && !(1000..=1_000_000).contains(&p)
    {
        return Err(invalid(
            "linux.resources.cpu.period",
            format!("{p} is outside 1000..=1000000 microseconds"),
        ));
    }
    if let Some(rt) = c.realtime_runtime()
        && rt < -1
    {
        return Err(invalid(
            "linux.resources.cpu.realtimeRuntime",
            format!("{rt} is not -1 or a duration in microseconds"),
        ));
    }
    if mode == CgroupMode::Unified
        && (c.realtime_runtime().is_some_and(|v| v != 0)
            || c.realtime_period().is_some_and(|v| v != 0))
    {
        return Err(invalid(
            "linux.resources.cpu.realtimeRuntime",
            "real-time group scheduling (realtimeRuntime/realtimePeriod) is not available with cgroup v2",
        ));
    }
    if let Some(i) = c.idle()
        && i != 0
        && i != 1
    {
        return Err(invalid(
            "linux.resources.cpu.idle",
            format!("{i} is not 0 or 1"),
        ));
    }
    if let Some(cpus) = c.cpus() {
        cpu_list::parse(cpus).map_err(|r| {
            invalid(
                "linux.resources.cpu.cpus",
                format!("bad CPU list {cpus:?}: {r}"),
            )
        })?;
    }
    if let Some(mems) = c.mems() {
        cpu_list::parse(mems).map_err(|r| {
            invalid(
                "linux.resources.cpu.mems",
                format!("bad memory node list {mems:?}: {r}"),
            )
        })?;
    }
    Ok(())
}

fn check_weight(field: &str, w: Option<u16>) -> Result<()> {
    match w {
        Some(w) if w != 0 && !(10..=1000).contains(&w) => {
            Err(invalid(field, format!("{w} is outside 10..=1000")))
        }
        _ => Ok(()),
    }
}

fn check_device_number(field: &str, major: i64, minor: i64) -> Result<()> {
    if major < 0 || minor < 0 || major > i64::from(u32::MAX) || minor > i64::from(u32::MAX) {
        return Err(invalid(
            field,
            format!("{major}:{minor} is not a device number"),
        ));
    }
    Ok(())
}

fn check_blkio(b: &LinuxBlockIo) -> Result<()> {
    check_weight("linux.resources.blockIO.weight", b.weight())?;
    check_weight("linux.resources.blockIO.leafWeight", b.leaf_weight())?;
    for (i, d) in b.weight_device().iter().flatten().enumerate() {
        let f = format!("linux.resources.blockIO.weightDevice[{i}]");
        check_device_number(&f, d.major(), d.minor())?;
        check_weight(&format!("{f}.weight"), d.weight())?;
        check_weight(&format!("{f}.leafWeight"), d.leaf_weight())?;
    }
    let lists = [
        ("throttleReadBpsDevice", b.throttle_read_bps_device()),
        ("throttleWriteBpsDevice", b.throttle_write_bps_device()),
        ("throttleReadIOPSDevice", b.throttle_read_iops_device()),
        ("throttleWriteIOPSDevice", b.throttle_write_iops_device()),
    ];
    for (name, list) in lists {
        for (i, d) in list.iter().flatten().enumerate() {
            check_device_number(
                &format!("linux.resources.blockIO.{name}[{i}]"),
                d.major(),
                d.minor(),
            )?;
        }
    }
    Ok(())
}

fn check_hugepages(r: &LinuxResources) -> Result<()> {
    for (i, h) in r.hugepage_limits().iter().flatten().enumerate() {
        let field = format!("linux.resources.hugepageLimits[{i}].pageSize");
        let kb = hugepage_size::name_to_kb(h.page_size()).ok_or_else(|| {
            invalid(
                &field,
                format!("{:?} is not a size such as 2MB or 1GB", h.page_size()),
            )
        })?;
        if !hugepage_size::host_supports(kb) {
            let have = hugepage_size::host_sizes();
            return Err(invalid(
                &field,
                format!(
                    "this host has no {} huge pages (it has: {})",
                    h.page_size(),
                    if have.is_empty() {
                        "none".to_owned()
                    } else {
                        have.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// Check a `linux.resources.unified` key: a file name of the form `<controller>.<knob>`.
/// Returns the controller part.
pub(crate) fn unified_key(key: &str) -> Result<&str> {
    let field = || format!("linux.resources.unified[{key:?}]");
    if key.contains('/') || key.contains('\0') || key == "." || key == ".." {
        return Err(invalid(field(), "must be a file name (no '/')"));
    }
    match key.split_once('.') {
        Some((c, rest)) if !c.is_empty() && !rest.is_empty() => Ok(c),
        _ => Err(invalid(field(), "must be of the form <controller>.<file>")),
    }
}

/// Checks shared by every mode.
pub(crate) fn common(r: &LinuxResources, mode: CgroupMode) -> Result<()> {
    if let Some(m) = r.memory() {
        check_memory(m)?;
    }
    if let Some(c) = r.cpu() {
        check_cpu(c, mode)?;
    }
    if let Some(b) = r.block_io() {
        check_blkio(b)?;
    }
    check_hugepages(r)?;
    if let Some(devices) = r.devices() {
        DeviceRule::parse_all(devices)?;
    }
    for (dev, _) in r.rdma().iter().flatten() {
        if dev.is_empty() || dev.contains(char::is_whitespace) {
            return Err(invalid(
                "linux.resources.rdma",
                format!("{dev:?} is not a device name"),
            ));
        }
    }
    if let Some(u) = r.unified() {
        if !u.is_empty() && mode == CgroupMode::Legacy {
            return Err(invalid(
                "linux.resources.unified",
                "needs cgroup v2, but this host has only cgroup v1 hierarchies",
            ));
        }
        for k in u.keys() {
            unified_key(k)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{
        LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxHugepageLimitBuilder, LinuxMemoryBuilder,
        LinuxResourcesBuilder,
    };
    use std::collections::HashMap;

    fn res_mem(m: LinuxMemory) -> LinuxResources {
        LinuxResourcesBuilder::default().memory(m).build().unwrap()
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::InvalidResource { field, .. } => field,
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn memory_checks_name_the_field() {
        let r = res_mem(
            LinuxMemoryBuilder::default()
                .limit(200)
                .swap(100)
                .build()
                .unwrap(),
        );
        let e = common(&r, CgroupMode::Legacy).unwrap_err();
        assert!(
            e.to_string().starts_with("linux.resources.memory.swap: "),
            "{e}"
        );
        let r = res_mem(
            LinuxMemoryBuilder::default()
                .swappiness(101u64)
                .build()
                .unwrap(),
        );
        assert_eq!(
            field_of(common(&r, CgroupMode::Legacy).unwrap_err()),
            "linux.resources.memory.swappiness"
        );
        let r = res_mem(
            LinuxMemoryBuilder::default()
                .swappiness(u64::MAX)
                .build()
                .unwrap(),
        );
        common(&r, CgroupMode::Legacy).unwrap();
        let r = res_mem(LinuxMemoryBuilder::default().limit(-2).build().unwrap());
        assert_eq!(
            field_of(common(&r, CgroupMode::Legacy).unwrap_err()),
            "linux.resources.memory.limit"
        );
        let r = res_mem(
            LinuxMemoryBuilder::default()
                .limit(100)
                .swap(100)
                .build()
                .unwrap(),
        );
        common(&r, CgroupMode::Legacy).unwrap();
    }

    #[test]
    fn cpu_checks() {
        let bad = [
            (
                LinuxCpuBuilder::default().cpus("0-").build().unwrap(),
                "linux.resources.cpu.cpus",
            ),
            (
                LinuxCpuBuilder::default().mems("x").build().unwrap(),
                "linux.resources.cpu.mems",
            ),
            (
                LinuxCpuBuilder::default()
                    .shares(1_000_000u64)
                    .build()
                    .unwrap(),
                "linux.resources.cpu.shares",
            ),
            (
                LinuxCpuBuilder::default().quota(10).build().unwrap(),
                "linux.resources.cpu.quota",
            ),
            (
                LinuxCpuBuilder::default().period(10u64).build().unwrap(),
                "linux.resources.cpu.period",
            ),
            (
                LinuxCpuBuilder::default().idle(2).build().unwrap(),
                "linux.resources.cpu.idle",
            ),
        ];
        for (cpu, field) in bad {
            let r = LinuxResourcesBuilder::default().cpu(cpu).build().unwrap();
            assert_eq!(field_of(common(&r, CgroupMode::Legacy).unwrap_err()), field);
        }
        let rt = LinuxCpuBuilder::default()
            .realtime_runtime(1000)
            .build()
            .unwrap();
        let r = LinuxResourcesBuilder::default().cpu(rt).build().unwrap();
        common(&r, CgroupMode::Legacy).unwrap();
        assert!(common(&r, CgroupMode::Unified).is_err());
    }

    #[test]
    fn blkio_hugepage_unified_checks() {
        let b = LinuxBlockIoBuilder::default().weight(5u16).build().unwrap();
        let r = LinuxResourcesBuilder::default()
            .block_io(b)
            .build()
            .unwrap();
        assert_eq!(
            field_of(common(&r, CgroupMode::Legacy).unwrap_err()),
            "linux.resources.blockIO.weight"
        );

        let h = LinuxHugepageLimitBuilder::default()
            .page_size("3MB")
            .limit(1)
            .build()
            .unwrap();
        let r = LinuxResourcesBuilder::default()
            .hugepage_limits(vec![h])
            .build()
            .unwrap();
        let e = common(&r, CgroupMode::Legacy).unwrap_err();
        assert!(e.to_string().contains("hugepageLimits[0].pageSize"), "{e}");
        let h = LinuxHugepageLimitBuilder::default()
            .page_size("2XB")
            .limit(1)
            .build()
            .unwrap();
        let r = LinuxResourcesBuilder::default()
            .hugepage_limits(vec![h])
            .build()
            .unwrap();
        assert!(common(&r, CgroupMode::Legacy).is_err());

        let u: HashMap<String, String> = [("memory.max".to_owned(), "1".to_owned())].into();
        let r = LinuxResourcesBuilder::default().unified(u).build().unwrap();
        let e = common(&r, CgroupMode::Legacy).unwrap_err();
        assert_eq!(field_of(e), "linux.resources.unified");
        common(&r, CgroupMode::Unified).unwrap();
        assert!(unified_key("../x").is_err());
        assert!(unified_key("nodot").is_err());
        assert_eq!(unified_key("hugetlb.2MB.max").unwrap(), "hugetlb");
    }
}
