//! The cgroup v2 backend exercised on the cgroup2 mount of a HYBRID host
//! (`/sys/fs/cgroup/unified`): a `Manager` re-opened from a state that says "unified" and points
//! at that mount runs the v2 code (subtree_control, cgroup.freeze, cgroup.kill, eBPF devices,
//! hugetlb, cpu.stat, validation against cgroup.controllers) for real. Only the controllers the
//! unified mount carries on the host can be exercised; the full v2 run is the VM lane's.
//! Runs on hybrid hosts as root; skips elsewhere.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_cgroups::{
    CgroupMode, CgroupState, CgroupVersion, Error, FreezerState, HierarchyState, Manager,
};
use common::{Blocked, Guard, read, root_or_skip, unique_path, wait_until};
use oci_spec::runtime::{
    LinuxDeviceCgroupBuilder, LinuxDeviceType, LinuxHugepageLimitBuilder, LinuxMemoryBuilder,
    LinuxResourcesBuilder,
};

const UNIFIED: &str = "/sys/fs/cgroup/unified";

/// Restores the unified root's cgroup.subtree_control to what it was.
struct RootControllers(String);

impl Drop for RootControllers {
    fn drop(&mut self) {
        let ctl = Path::new(UNIFIED).join("cgroup.subtree_control");
        let now = std::fs::read_to_string(&ctl).unwrap_or_default();
        for c in now
            .split_whitespace()
            .filter(|c| !self.0.split_whitespace().any(|o| o == *c))
        {
            let r = std::fs::write(&ctl, format!("-{c}"));
            if !std::thread::panicking() {
                r.unwrap_or_else(|e| panic!("restore {}: -{c}: {e}", ctl.display()));
            }
        }
    }
}

#[test]
fn v2_backend_runs_on_the_unified_mount() {
    if !root_or_skip("v2_backend_runs_on_the_unified_mount") {
        return;
    }
    if berth_cgroups::mode().unwrap() != CgroupMode::Hybrid {
        eprintln!(
            "SKIP: v2_backend_runs_on_the_unified_mount: host is not hybrid (v2 hosts run the real v2 tests)"
        );
        return;
    }
    let _restore = RootControllers(
        std::fs::read_to_string(Path::new(UNIFIED).join("cgroup.subtree_control")).unwrap(),
    );
    let name = unique_path("v2");
    let dir = Path::new(UNIFIED)
        .join(name.strip_prefix("/").unwrap())
        .join("leaf");
    let state = CgroupState {
        mode: CgroupMode::Unified,
        hierarchies: vec![HierarchyState {
            version: CgroupVersion::V2,
            controllers: vec![],
            mountpoint: PathBuf::from(UNIFIED),
            path: dir.clone(),
            created: vec![],
        }],
    };
    let mut m = Manager::from_state(&state).unwrap();
    m.create().unwrap();
    let g = Guard::new(m.clone());
    assert_eq!(
        m.state().hierarchies[0].created.len(),
        2,
        "parent and leaf made"
    );
    // create enabled what the root offers along the path.
    let offered = read(Path::new(UNIFIED), "cgroup.controllers");
    let parent = dir.parent().unwrap();
    for c in offered.split_whitespace() {
        assert!(
            read(parent, "cgroup.subtree_control").contains(c),
            "{c} not enabled in parent"
        );
        assert!(read(&dir, "cgroup.controllers").contains(c));
    }

    // Validation against cgroup.controllers: memory is not on this mount.
    let r = LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(1 << 30)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let e = m.validate(&r).unwrap_err();
    assert!(matches!(e, Error::ControllerUnavailable { .. }), "{e}");

    // Devices (eBPF) and hugetlb through Manager::apply.
    let mut rb = LinuxResourcesBuilder::default().devices(vec![
        LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(LinuxDeviceType::C)
            .major(1i64)
            .minor(3i64)
            .access("rwm".to_owned())
            .build()
            .unwrap(),
    ]);
    let hugetlb = offered.contains("hugetlb")
        && Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists();
    if hugetlb {
        rb = rb.hugepage_limits(vec![
            LinuxHugepageLimitBuilder::default()
                .page_size("2MB")
                .limit(2 << 20)
                .build()
                .unwrap(),
        ]);
    }
    let r = rb.build().unwrap();
    m.validate(&r).unwrap();
    m.apply(&r).unwrap();
    assert_eq!(
        berth_cgroups::device_filter::attached_program_ids(&dir)
            .unwrap()
            .len(),
        1
    );
    if hugetlb {
        assert_eq!(read(&dir, "hugetlb.2MB.max"), (2 << 20).to_string());
    }
    assert!(m.leaf_dir_fd().unwrap().is_some());

    // A process: pids, freeze via cgroup.freeze, stats from cpu.stat, kill via cgroup.kill.
    let mut b = Blocked::spawn("(: </dev/zero) 2>/dev/null && echo zero; exec sleep 30");
    m.add_task(b.pid()).unwrap();
    b.release();
    // The shell's probe subshell is briefly a second member; once it is gone only the shell,
    // now `sleep`, is left.
    assert!(
        m.pids().unwrap().contains(&b.pid()),
        "{:?}",
        m.pids().unwrap()
    );
    assert!(
        wait_until(Duration::from_secs(5), || m.pids().unwrap()
            == vec![b.pid()]),
        "{:?}",
        m.pids().unwrap()
    );
    m.freeze().unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Frozen);
    assert!(read(&dir, "cgroup.events").contains("frozen 1"));
    m.thaw().unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Thawed);
    assert!(wait_until(Duration::from_secs(2), || m
        .stats()
        .unwrap()
        .cpu
        .usage
        .total
        > 0));
    m.signal_all(libc::SIGKILL).unwrap();
    let (status, out) = b.finish();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert!(!out.contains("zero"), "device filter let /dev/zero through");
    drop(g);
    assert!(!dir.exists() && !parent.exists());
}
