//! OOM notification: a child that allocates far beyond a tiny memory limit (swap disabled by
//! memory+swap == memory) is OOM-killed and the watcher fires; removing the cgroup is reported.
//! Root only.

mod common;

use std::os::fd::AsFd;
use std::time::Duration;

use berth_cgroups::{CgroupMode, Manager, OomEvent};
use common::{Blocked, Guard, root_or_skip, unique_path};
use oci_spec::runtime::{LinuxMemoryBuilder, LinuxResourcesBuilder};

const LIMIT: i64 = 16 << 20;

#[test]
fn watcher_fires_when_a_child_exceeds_the_limit() {
    if !root_or_skip("watcher_fires_when_a_child_exceeds_the_limit") {
        return;
    }
    let mut m = Manager::new(Some(&unique_path("oom")), "oom").unwrap();
    m.create().unwrap();
    let _g = Guard::new(m.clone());
    let r = LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(LIMIT)
                .swap(LIMIT)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.validate(&r).unwrap();
    m.apply(&r).unwrap();
    let mut w = m.oom_watcher().unwrap();
    // Nothing pending before anything happened.
    assert_eq!(w.consume().unwrap(), None);
    let _ = w.as_fd();

    // `tail` keeps the current line of /dev/zero (no newline, ever) in memory: it grows until
    // the kernel kills it, 64 MiB and beyond.
    let mut b = Blocked::spawn("exec tail /dev/zero");
    m.add_task(b.pid()).unwrap();
    b.release();
    let ev = w.wait(Some(Duration::from_secs(20))).unwrap();
    assert!(
        matches!(ev, Some(OomEvent::Oom { count }) if count >= 1),
        "{ev:?}"
    );
    let status = b.wait();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(libc::SIGKILL),
        "OOM killer ends it with SIGKILL"
    );
    let s = m.stats().unwrap();
    if m.mode() != CgroupMode::Unified {
        // The kernel's own count of OOM kills in this cgroup.
        let d = common::dir_of(&m, "memory").unwrap();
        let oc = common::read(&d, "memory.oom_control");
        assert!(
            oc.lines()
                .any(|l| l.starts_with("oom_kill ") && l != "oom_kill 0"),
            "{oc}"
        );
        assert_eq!(
            s.memory.usage.max, LIMIT as u64,
            "peak usage reached the limit"
        );
        assert_eq!(s.memory.usage.limit, LIMIT as u64);
    } else {
        assert!(s.memory.raw.contains_key("anon"));
    }
    drop(b);

    if m.mode() == CgroupMode::Unified {
        // v2: the killed process was the last one; cgroupfs reports that, not the removal.
        let ev = w.wait(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(ev, Some(OomEvent::CgroupEmpty));
        m.destroy().unwrap();
    } else {
        // v1: removing the cgroup signals the eventfd.
        m.destroy().unwrap();
        let ev = w.wait(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(ev, Some(OomEvent::CgroupRemoved));
    }
}
