//! Every resource of `linux.resources` takes effect: apply, then read the kernel's files back.
//! v1 assertions run on legacy/hybrid hosts, v2 assertions on unified hosts. Root only.

mod common;

use std::collections::HashMap;
use std::path::Path;

use berth_cgroups::{
    CgroupMode, Error, LinuxResources, Manager, blkio_weight_to_io_weight, shares_to_weight,
};
use common::{Blocked, Guard, dir_of, read, root_or_skip, unique_path};
use oci_spec::runtime::{
    LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxDeviceCgroupBuilder, LinuxDeviceType,
    LinuxHugepageLimitBuilder, LinuxMemoryBuilder, LinuxNetworkBuilder, LinuxPidsBuilder,
    LinuxRdmaBuilder, LinuxResourcesBuilder, LinuxThrottleDeviceBuilder, LinuxWeightDeviceBuilder,
};

const MIB: i64 = 1 << 20;

fn setup(name: &str) -> Option<(Manager, Guard)> {
    if !root_or_skip(name) {
        return None;
    }
    let mut m = Manager::new(Some(&unique_path(name)), name).unwrap();
    m.create().unwrap();
    let g = Guard::new(m.clone());
    Some((m, g))
}

fn v1(m: &Manager) -> bool {
    m.mode() != CgroupMode::Unified
}

/// The first block device of the host, as "major:minor".
fn block_device() -> Option<(i64, i64)> {
    let mut names: Vec<_> = std::fs::read_dir("/sys/block")
        .ok()?
        .filter_map(|e| e.ok())
        .collect();
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with("loop") || n.starts_with("zram") || n.starts_with("ram") {
            continue;
        }
        let dev = std::fs::read_to_string(e.path().join("dev")).ok()?;
        let (a, b) = dev.trim().split_once(':')?;
        return Some((a.parse().ok()?, b.parse().ok()?));
    }
    None
}

/// A loop device backed by a sparse temp file, for hosts without a disk (the VM lane); detached
/// on drop.
struct LoopDevice {
    dev: String,
    major: i64,
    minor: i64,
    _file: tempfile::NamedTempFile,
}

impl LoopDevice {
    fn attach() -> Option<LoopDevice> {
        let file = tempfile::Builder::new()
            .prefix("berth-test-loop-")
            .tempfile()
            .ok()?;
        file.as_file().set_len(8 << 20).ok()?;
        let out = std::process::Command::new("losetup")
            .arg("-f")
            .output()
            .ok()?;
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !out.status.success() || dev.is_empty() {
            return None;
        }
        let ok = std::process::Command::new("losetup")
            .arg(&dev)
            .arg(file.path())
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
        let name = dev.trim_start_matches("/dev/");
        let numbers = std::fs::read_to_string(format!("/sys/block/{name}/dev")).ok();
        let mut ld = LoopDevice {
            dev,
            major: 0,
            minor: 0,
            _file: file,
        };
        let (a, b) = numbers.as_deref()?.trim().split_once(':')?;
        ld.major = a.parse().ok()?;
        ld.minor = b.parse().ok()?;
        Some(ld)
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let ok = std::process::Command::new("losetup")
            .arg("-d")
            .arg(&self.dev)
            .status()
            .is_ok_and(|s| s.success());
        if !ok && !std::thread::panicking() {
            panic!("could not detach {}", self.dev);
        }
    }
}

#[test]
fn memory_limits_and_updates() {
    let Some((m, _g)) = setup("memory") else {
        return;
    };
    let r = LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(64 * MIB)
                .reservation(32 * MIB)
                .swap(96 * MIB)
                .kernel(32 * MIB)
                .kernel_tcp(16 * MIB)
                .swappiness(10u64)
                .disable_oom_killer(true)
                .use_hierarchy(true)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.validate(&r).unwrap();
    m.apply(&r).unwrap();
    let d = dir_of(&m, "memory").unwrap();
    if v1(&m) {
        assert_eq!(read(&d, "memory.limit_in_bytes"), (64 * MIB).to_string());
        assert_eq!(
            read(&d, "memory.soft_limit_in_bytes"),
            (32 * MIB).to_string()
        );
        assert_eq!(
            read(&d, "memory.memsw.limit_in_bytes"),
            (96 * MIB).to_string()
        );
        if d.join("memory.kmem.tcp.limit_in_bytes").exists() {
            assert_eq!(
                read(&d, "memory.kmem.tcp.limit_in_bytes"),
                (16 * MIB).to_string()
            );
        }
        // memory.kmem.limit_in_bytes is a no-op on kernels >= 5.16 (it stays unlimited); only
        // the absence of an error is checked for `kernel`.
        assert_eq!(read(&d, "memory.swappiness"), "10");
        assert!(read(&d, "memory.oom_control").contains("oom_kill_disable 1"));
        assert_eq!(read(&d, "memory.use_hierarchy"), "1");
    } else {
        assert_eq!(read(&d, "memory.max"), (64 * MIB).to_string());
        assert_eq!(read(&d, "memory.low"), (32 * MIB).to_string());
        if d.join("memory.swap.max").exists() {
            assert_eq!(read(&d, "memory.swap.max"), (32 * MIB).to_string());
        }
    }

    // update: raise both (memsw must go first), then lower both (limit first), then swap only.
    for (limit, swap) in [
        (Some(128), Some(256)),
        (Some(32), Some(48)),
        (None, Some(64)),
    ] {
        let mut mem = LinuxMemoryBuilder::default();
        if let Some(l) = limit {
            mem = mem.limit(l * MIB);
        }
        if let Some(s) = swap {
            mem = mem.swap(s * MIB);
        }
        let r = LinuxResourcesBuilder::default()
            .memory(mem.build().unwrap())
            .build()
            .unwrap();
        m.validate(&r).unwrap();
        m.apply(&r).unwrap();
        let limit = limit.unwrap_or(32);
        let swap = swap.unwrap();
        if v1(&m) {
            assert_eq!(read(&d, "memory.limit_in_bytes"), (limit * MIB).to_string());
            assert_eq!(
                read(&d, "memory.memsw.limit_in_bytes"),
                (swap * MIB).to_string()
            );
        } else {
            assert_eq!(read(&d, "memory.max"), (limit * MIB).to_string());
            if d.join("memory.swap.max").exists() {
                assert_eq!(
                    read(&d, "memory.swap.max"),
                    ((swap - limit) * MIB).to_string()
                );
            }
        }
    }
    // Unlimited.
    let r = LinuxResourcesBuilder::default()
        .memory(LinuxMemoryBuilder::default().limit(-1).build().unwrap())
        .build()
        .unwrap();
    m.apply(&r).unwrap();
    if v1(&m) {
        let unlimited: u64 = read(&d, "memory.limit_in_bytes").parse().unwrap();
        assert!(unlimited > 1 << 60);
        let memsw: u64 = read(&d, "memory.memsw.limit_in_bytes").parse().unwrap();
        assert!(memsw > 1 << 60, "memsw follows an unlimited limit");
    } else {
        assert_eq!(read(&d, "memory.max"), "max");
    }
}

#[test]
fn memory_below_usage_and_use_hierarchy_errors_name_the_field() {
    let Some((m, _g)) = setup("memusage") else {
        return;
    };
    // A process that holds some memory charged to the cgroup (its exec'd image).
    let mut b = Blocked::spawn("exec sleep 30");
    m.add_task(b.pid()).unwrap();
    b.release();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let r = LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(4096)
                .check_before_update(true)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let e = m.apply(&r).unwrap_err();
    assert!(matches!(e, Error::MemoryBelowUsage { .. }), "{e}");
    assert!(
        e.to_string().starts_with("linux.resources.memory.limit: "),
        "{e}"
    );
    if v1(&m) {
        let r = LinuxResourcesBuilder::default()
            .memory(
                LinuxMemoryBuilder::default()
                    .use_hierarchy(false)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        match m.apply(&r) {
            // Kernels >= 5.16 always use the hierarchy.
            Err(e) => assert!(e.to_string().contains("useHierarchy"), "{e}"),
            Ok(()) => assert_eq!(
                read(&dir_of(&m, "memory").unwrap(), "memory.use_hierarchy"),
                "0"
            ),
        }
    }
}

#[test]
fn cpu_and_cpuset() {
    let Some((m, _g)) = setup("cpu") else { return };
    let mut cpu = LinuxCpuBuilder::default()
        .shares(512u64)
        .quota(50_000)
        .period(100_000u64)
        .burst(1000u64)
        .cpus("0")
        .mems("0");
    if v1(&m) {
        cpu = cpu.realtime_runtime(10_000).realtime_period(1_000_000u64);
    }
    let r = LinuxResourcesBuilder::default()
        .cpu(cpu.build().unwrap())
        .build()
        .unwrap();
    m.validate(&r).unwrap();
    m.apply(&r).unwrap();
    let d = dir_of(&m, "cpu").unwrap();
    let cs = dir_of(&m, "cpuset").unwrap();
    if v1(&m) {
        assert_eq!(read(&d, "cpu.shares"), "512");
        assert_eq!(read(&d, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&d, "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&d, "cpu.cfs_burst_us"), "1000");
        assert_eq!(read(&d, "cpu.rt_runtime_us"), "10000");
        assert_eq!(read(&d, "cpu.rt_period_us"), "1000000");
    } else {
        assert_eq!(read(&d, "cpu.weight"), shares_to_weight(512).to_string());
        assert_eq!(read(&d, "cpu.max"), "50000 100000");
        assert_eq!(read(&d, "cpu.max.burst"), "1000");
    }
    assert_eq!(read(&cs, "cpuset.cpus"), "0");
    assert_eq!(read(&cs, "cpuset.mems"), "0");

    // update: period alone keeps the quota; -1 removes the quota.
    let r = LinuxResourcesBuilder::default()
        .cpu(
            LinuxCpuBuilder::default()
                .period(200_000u64)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.apply(&r).unwrap();
    if v1(&m) {
        assert_eq!(read(&d, "cpu.cfs_period_us"), "200000");
        assert_eq!(read(&d, "cpu.cfs_quota_us"), "50000");
    } else {
        assert_eq!(read(&d, "cpu.max"), "50000 200000");
    }
    let r = LinuxResourcesBuilder::default()
        .cpu(
            LinuxCpuBuilder::default()
                .quota(-1)
                .period(50_000u64)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.apply(&r).unwrap();
    if v1(&m) {
        assert_eq!(read(&d, "cpu.cfs_quota_us"), "-1");
        assert_eq!(read(&d, "cpu.cfs_period_us"), "50000");
    } else {
        assert_eq!(read(&d, "cpu.max"), "max 50000");
    }
    // idle (shares cannot change while idle, so it is applied alone).
    let r = LinuxResourcesBuilder::default()
        .cpu(LinuxCpuBuilder::default().idle(1).build().unwrap())
        .build()
        .unwrap();
    m.apply(&r).unwrap();
    assert_eq!(read(&d, "cpu.idle"), "1");
}

#[test]
fn realtime_runtime_raises_ancestors_this_manager_created() {
    if !root_or_skip("realtime_runtime_raises_ancestors_this_manager_created") {
        return;
    }
    let probe = Manager::new(None, "probe").unwrap();
    if !v1(&probe) {
        eprintln!(
            "SKIP: realtime_runtime_raises_ancestors_this_manager_created: real-time groups are cgroup v1 only"
        );
        return;
    }
    let mut m = Manager::new(Some(&unique_path("rt").join("leaf")), "rt").unwrap();
    m.create().unwrap();
    let _g = Guard::new(m.clone());
    let r = LinuxResourcesBuilder::default()
        .cpu(
            LinuxCpuBuilder::default()
                .realtime_runtime(20_000)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.apply(&r).unwrap();
    let d = dir_of(&m, "cpu").unwrap();
    assert_eq!(read(&d, "cpu.rt_runtime_us"), "20000");
    assert_eq!(read(d.parent().unwrap(), "cpu.rt_runtime_us"), "20000");
}

#[test]
fn pids_limit() {
    let Some((m, _g)) = setup("pids") else { return };
    let d = dir_of(&m, "pids").unwrap();
    for (limit, want) in [(100, "100"), (-1, "max"), (7, "7"), (0, "max")] {
        let r = LinuxResourcesBuilder::default()
            .pids(LinuxPidsBuilder::default().limit(limit).build().unwrap())
            .build()
            .unwrap();
        m.apply(&r).unwrap();
        assert_eq!(read(&d, "pids.max"), want);
    }
}

#[test]
fn block_io() {
    let Some((m, _g)) = setup("blkio") else {
        return;
    };
    let mut _loop_dev = None;
    let (major, minor) = match block_device() {
        Some(d) => d,
        None => match LoopDevice::attach() {
            Some(l) => {
                let d = (l.major, l.minor);
                _loop_dev = Some(l);
                d
            }
            None => {
                eprintln!("SKIP: block_io: no block device and no loop device could be set up");
                return;
            }
        },
    };
    let r = LinuxResourcesBuilder::default()
        .block_io(
            LinuxBlockIoBuilder::default()
                .weight(500u16)
                .throttle_read_bps_device(vec![
                    LinuxThrottleDeviceBuilder::default()
                        .major(major)
                        .minor(minor)
                        .rate(1_048_576u64)
                        .build()
                        .unwrap(),
                ])
                .throttle_write_iops_device(vec![
                    LinuxThrottleDeviceBuilder::default()
                        .major(major)
                        .minor(minor)
                        .rate(100u64)
                        .build()
                        .unwrap(),
                ])
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.validate(&r).unwrap();
    let d = dir_of(&m, if v1(&m) { "blkio" } else { "io" }).unwrap();
    let has_weight = if v1(&m) {
        d.join("blkio.weight").exists() || d.join("blkio.bfq.weight").exists()
    } else {
        d.join("io.bfq.weight").exists() || d.join("io.weight").exists()
    };
    match m.apply(&r) {
        Ok(()) => {}
        Err(e) if !has_weight => {
            assert!(
                e.to_string().contains("linux.resources.blockIO.weight"),
                "{e}"
            );
            eprintln!("note: no weight knob on this kernel: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    }
    let dev = format!("{major}:{minor}");
    if v1(&m) {
        let w = if d.join("blkio.weight").exists() {
            read(&d, "blkio.weight")
        } else {
            read(&d, "blkio.bfq.weight")
        };
        assert!(w.ends_with("500"), "{w}");
        assert_eq!(
            read(&d, "blkio.throttle.read_bps_device"),
            format!("{dev} 1048576")
        );
        assert_eq!(
            read(&d, "blkio.throttle.write_iops_device"),
            format!("{dev} 100")
        );
    } else {
        if d.join("io.bfq.weight").exists() {
            assert!(read(&d, "io.bfq.weight").contains("500"));
        } else {
            assert!(read(&d, "io.weight").contains(&blkio_weight_to_io_weight(500).to_string()));
        }
        let max = read(&d, "io.max");
        assert!(
            max.contains(&format!("{dev} rbps=1048576")) && max.contains("wiops=100"),
            "{max}"
        );
    }
    // leafWeight: CFQ only; refused by name where the knob is gone.
    let r = LinuxResourcesBuilder::default()
        .block_io(
            LinuxBlockIoBuilder::default()
                .leaf_weight(300u16)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    if v1(&m) && !d.join("blkio.leaf_weight").exists() {
        let e = m.apply(&r).unwrap_err();
        assert!(matches!(e, Error::KnobUnavailable { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("linux.resources.blockIO.leafWeight"),
            "{e}"
        );
    }
    // Per-device weight needs the device to use BFQ (or CFQ); either it applies or the error
    // names the field.
    let r = LinuxResourcesBuilder::default()
        .block_io(
            LinuxBlockIoBuilder::default()
                .weight_device(vec![
                    LinuxWeightDeviceBuilder::default()
                        .major(major)
                        .minor(minor)
                        .weight(300u16)
                        .build()
                        .unwrap(),
                ])
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    if let Err(e) = m.apply(&r) {
        let chain = format!("{e}: {:?}", std::error::Error::source(&e));
        assert!(
            chain.contains("linux.resources.blockIO.weightDevice"),
            "{chain}"
        );
    }
}

#[test]
fn hugetlb_limits_go_where_the_controller_lives() {
    let Some((m, _g)) = setup("hugetlb") else {
        return;
    };
    let sizes: Vec<String> = std::fs::read_dir("/sys/kernel/mm/hugepages")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if !sizes.iter().any(|s| s == "hugepages-2048kB") {
        eprintln!("SKIP: hugetlb: no 2MB huge pages on this host");
        return;
    }
    let r = LinuxResourcesBuilder::default()
        .hugepage_limits(vec![
            LinuxHugepageLimitBuilder::default()
                .page_size("2MB")
                .limit(4 * MIB)
                .build()
                .unwrap(),
        ])
        .build()
        .unwrap();
    if let Err(e) = m.validate(&r) {
        assert!(matches!(e, Error::ControllerUnavailable { .. }), "{e}");
        eprintln!("SKIP: hugetlb: {e}");
        return;
    }
    // On a hybrid host hugetlb may be bound to the unified hierarchy; enabling it there writes
    // the unified root's cgroup.subtree_control, which this test restores afterwards.
    let root_ctl = Path::new("/sys/fs/cgroup/unified/cgroup.subtree_control");
    let was_enabled = std::fs::read_to_string(root_ctl)
        .map(|s| s.contains("hugetlb"))
        .ok();
    let res = m.apply(&r);
    let (dir, file) = match dir_of(&m, "hugetlb") {
        Some(d) if v1(&m) => (d, "hugetlb.2MB.limit_in_bytes"),
        _ => (
            dir_of(&m, if v1(&m) { "unified" } else { "hugetlb" }).unwrap(),
            "hugetlb.2MB.max",
        ),
    };
    let value = res.as_ref().ok().map(|_| read(&dir, file));
    let rsvd = file
        .replace("limit_in_bytes", "rsvd.limit_in_bytes")
        .replace(".max", ".rsvd.max");
    let rsvd_value = dir.join(&rsvd).exists().then(|| read(&dir, &rsvd));
    // Remove our cgroup before restoring the root, then restore, then assert.
    drop(_g);
    if was_enabled == Some(false) && m.mode() == CgroupMode::Hybrid {
        std::fs::write(root_ctl, "-hugetlb").expect("restore unified root subtree_control");
        assert!(
            !std::fs::read_to_string(root_ctl)
                .unwrap()
                .contains("hugetlb")
        );
    }
    res.unwrap();
    assert_eq!(value.unwrap(), (4 * MIB).to_string());
    if let Some(v) = rsvd_value {
        assert_eq!(v, (4 * MIB).to_string());
    }
}

#[test]
fn devices_allowlist_is_enforced() {
    let Some((m, _g)) = setup("devices") else {
        return;
    };
    let rule = |allow: bool, t: LinuxDeviceType, maj: Option<i64>, min: Option<i64>, acc: &str| {
        let mut b = LinuxDeviceCgroupBuilder::default()
            .allow(allow)
            .typ(t)
            .access(acc.to_owned());
        if let Some(x) = maj {
            b = b.major(x);
        }
        if let Some(x) = min {
            b = b.minor(x);
        }
        b.build().unwrap()
    };
    let r = LinuxResourcesBuilder::default()
        .devices(vec![
            rule(false, LinuxDeviceType::A, None, None, "rwm"),
            rule(true, LinuxDeviceType::C, Some(1), Some(3), "rwm"), // /dev/null
            rule(true, LinuxDeviceType::C, Some(1), Some(5), "r"),   // /dev/zero read-only
        ])
        .build()
        .unwrap();
    m.validate(&r).unwrap();
    m.apply(&r).unwrap();
    if v1(&m) {
        let d = dir_of(&m, "devices").unwrap();
        assert_eq!(read(&d, "devices.list"), "c 1:3 rwm\nc 1:5 r");
    } else {
        let ids = berth_cgroups::device_filter::attached_program_ids(m.paths()[0]).unwrap();
        assert_eq!(ids.len(), 1);
    }
    // A process in the cgroup: /dev/null usable, /dev/zero read-only, /dev/full (1:7) denied.
    let b = Blocked::spawn(
        "(: >/dev/null) 2>/dev/null && echo null-w; (: </dev/zero) 2>/dev/null && echo zero-r; \
         (: >/dev/zero) 2>/dev/null && echo zero-w; (: </dev/full) 2>/dev/null && echo full-r; echo done",
    );
    m.add_task(b.pid()).unwrap();
    let out = b.run();
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["null-w", "zero-r", "done"],
        "{out}"
    );
}

#[test]
fn network_and_rdma_are_refused_when_their_controller_is_absent() {
    let Some((m, _g)) = setup("netrdma") else {
        return;
    };
    let has = |c: &str| berth_cgroups::features().controllers.iter().any(|x| x == c);
    let r = LinuxResourcesBuilder::default()
        .network(
            LinuxNetworkBuilder::default()
                .class_id(0x100001u32)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    if has("net_cls") && v1(&m) {
        m.validate(&r).unwrap();
        m.apply(&r).unwrap();
        assert_eq!(
            read(&dir_of(&m, "net_cls").unwrap(), "net_cls.classid"),
            (0x100001u32).to_string()
        );
    } else {
        let e = m.validate(&r).unwrap_err();
        assert!(matches!(e, Error::ControllerUnavailable { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("linux.resources.network.classID: "),
            "{e}"
        );
        assert!(m.apply(&r).is_err());
    }
    let rdma: HashMap<String, _> = [(
        "mlx5_0".to_owned(),
        LinuxRdmaBuilder::default()
            .hca_handles(2u32)
            .build()
            .unwrap(),
    )]
    .into();
    let r = LinuxResourcesBuilder::default().rdma(rdma).build().unwrap();
    if !has("rdma") {
        let e = m.validate(&r).unwrap_err();
        assert!(e.to_string().starts_with("linux.resources.rdma: "), "{e}");
        assert!(e.to_string().contains("rdma"), "{e}");
        assert!(m.apply(&r).is_err());
    }
}

#[test]
fn unified_keys_by_mode() {
    let Some((m, _g)) = setup("unified") else {
        return;
    };
    let map =
        |k: &str, v: &str| -> HashMap<String, String> { [(k.to_owned(), v.to_owned())].into() };
    let res = |u| LinuxResourcesBuilder::default().unified(u).build().unwrap();
    match m.mode() {
        CgroupMode::Legacy => {
            let e = m.validate(&res(map("memory.max", "1"))).unwrap_err();
            assert!(
                e.to_string().starts_with("linux.resources.unified: "),
                "{e}"
            );
        }
        CgroupMode::Hybrid => {
            // memory is bound to v1 here: writing it through unified is refused.
            let e = m.validate(&res(map("memory.max", "1"))).unwrap_err();
            assert!(
                e.to_string().contains("bound to a cgroup v1 hierarchy"),
                "{e}"
            );
            // A core file of the unified hierarchy is fine.
            let r = res(map("cgroup.max.descendants", "5"));
            m.validate(&r).unwrap();
            m.apply(&r).unwrap();
            assert_eq!(
                read(&dir_of(&m, "unified").unwrap(), "cgroup.max.descendants"),
                "5"
            );
        }
        CgroupMode::Unified => {
            let r = res(map("memory.high", "67108864"));
            m.validate(&r).unwrap();
            m.apply(&r).unwrap();
            assert_eq!(read(m.paths()[0], "memory.high"), "67108864");
        }
    }
    let e = m.validate(&res(map("../escape", "1"))).unwrap_err();
    assert!(matches!(e, Error::InvalidResource { .. }), "{e}");
}

#[test]
fn empty_resources_change_nothing() {
    let Some((m, _g)) = setup("empty") else {
        return;
    };
    let r = LinuxResources::default();
    m.validate(&r).unwrap();
    m.apply(&r).unwrap();
    if v1(&m) {
        let d = dir_of(&m, "devices").unwrap();
        assert_eq!(
            read(&d, "devices.list"),
            "a *:* rwm",
            "devices untouched without rules"
        );
    }
}

/// `memory_headroom` of a process in a cgroup with a 64 MiB limit: the limit less what the
/// cgroup uses, never more than the limit.
#[test]
fn memory_headroom_is_the_limit_less_the_usage() {
    let Some((m, _g)) = setup("headroom") else {
        return;
    };
    let mut b = Blocked::spawn("exec sleep 30");
    m.add_task(b.pid()).unwrap();
    let limit: i64 = 64 << 20;
    let r = LinuxResourcesBuilder::default()
        .memory(LinuxMemoryBuilder::default().limit(limit).build().unwrap())
        .build()
        .unwrap();
    m.apply(&r).unwrap();
    b.release();
    let dir = dir_of(&m, "memory").unwrap();
    let usage_file = if v1(&m) {
        "memory.usage_in_bytes"
    } else {
        "memory.current"
    };
    let room = berth_cgroups::memory_headroom(b.pid() as u32).expect("a limited cgroup");
    let usage: u64 = read(&dir, usage_file).parse().unwrap();
    assert!(room <= limit as u64, "{room}");
    // Usage moves a little between the two reads.
    let expected = limit as u64 - usage;
    assert!(room.abs_diff(expected) < 1 << 20, "{room} vs {expected}");
    drop(b);
}
