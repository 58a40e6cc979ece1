//! The whole life of a container cgroup against the real kernel: create, apply, add a process,
//! list, freeze/thaw, signal, stats, state round trip, destroy leaving nothing. Root only.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use berth_cgroups::{CgroupMode, FreezerState, LinuxResources, Manager};
use common::{Blocked, Guard, dir_of, read, root_or_skip, unique_path, wait_until};
use oci_spec::runtime::{LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder};

fn mem_pids() -> LinuxResources {
    LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(256 << 20)
                .build()
                .unwrap(),
        )
        .pids(LinuxPidsBuilder::default().limit(64).build().unwrap())
        .build()
        .unwrap()
}

#[test]
fn create_apply_join_freeze_signal_stats_destroy() {
    if !root_or_skip("create_apply_join_freeze_signal_stats_destroy") {
        return;
    }
    let path = unique_path("life");
    let mut m = Manager::new(Some(&path), "life").unwrap();
    m.validate(&mem_pids()).unwrap();
    m.create().unwrap();
    let g = Guard::new(m.clone());
    for p in m.paths() {
        assert!(p.is_dir(), "{} not created", p.display());
    }
    // Every hierarchy got a directory, including name=systemd and, on hybrid, the unified one.
    let st = m.state();
    if st.mode == CgroupMode::Hybrid {
        assert!(dir_of(&m, "unified").is_some());
    }
    if st.mode != CgroupMode::Unified {
        assert!(
            st.hierarchies
                .iter()
                .any(|h| h.controllers == ["name=systemd"]),
            "{st:?}"
        );
        // The v1 cpuset got its parent's cpus and mems so tasks can join.
        let cs = dir_of(&m, "cpuset").unwrap();
        assert_eq!(
            read(&cs, "cpuset.cpus"),
            read(cs.parent().unwrap(), "cpuset.cpus")
        );
        assert!(!read(&cs, "cpuset.mems").is_empty());
    }
    m.apply(&mem_pids()).unwrap();

    // Joins first, then execs: the new image's pages are charged to the container's cgroup
    // (v1 does not move existing charges with a task).
    let mut b = Blocked::spawn("exec sleep 30");
    let pid = b.pid();
    m.add_task(pid).unwrap();
    b.release();
    for p in m.paths() {
        let procs = read(p, "cgroup.procs");
        assert!(
            procs.lines().any(|l| l == pid.to_string()),
            "{pid} not in {}",
            p.display()
        );
    }
    assert_eq!(m.pids().unwrap(), vec![pid]);

    // Freeze / thaw.
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Thawed);
    m.freeze().unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Frozen);
    match st.mode {
        CgroupMode::Unified => assert!(read(m.paths()[0], "cgroup.events").contains("frozen 1")),
        _ => assert_eq!(
            read(&dir_of(&m, "freezer").unwrap(), "freezer.state"),
            "FROZEN"
        ),
    }
    // A frozen task sleeps in the freezer (D or S), never runs.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let state_line = status.lines().find(|l| l.starts_with("State:")).unwrap();
    assert!(
        state_line.contains('D') || state_line.contains('S'),
        "{state_line}"
    );
    m.thaw().unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Thawed);

    // Stats: sane values, and runc's JSON shape.
    let s = m.stats().unwrap();
    assert_eq!(s.pids.current, 1);
    assert_eq!(s.pids.limit, 64);
    assert_eq!(s.memory.usage.limit, 256 << 20);
    assert!(
        wait_until(Duration::from_secs(2), || m
            .stats()
            .unwrap()
            .memory
            .usage
            .usage
            > 0),
        "no memory charged"
    );
    assert!(!s.memory.raw.is_empty());
    let j = serde_json::to_value(&s).unwrap();
    assert_eq!(j["pids"]["limit"], 64);
    assert!(j["memory"]["usage"]["limit"].is_u64());
    assert!(j.get("hugetlb").is_some() && j.get("intel_rdt").is_some());
    if st.mode != CgroupMode::Unified {
        assert!(!s.cpuset.cpus.is_empty(), "{:?}", s.cpuset);
        assert!(!s.cpu.usage.percpu.is_empty());
    }

    // A later process re-opens the cgroup from its saved state.
    let saved = serde_json::to_string(&m.state()).unwrap();
    let m2 = Manager::from_state(&serde_json::from_str(&saved).unwrap()).unwrap();
    assert_eq!(m2.pids().unwrap(), vec![pid]);

    // SIGKILL everything.
    m2.signal_all(libc::SIGKILL).unwrap();
    let status = b.wait();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert!(wait_until(Duration::from_secs(2), || m
        .pids()
        .unwrap()
        .is_empty()));
    drop(g); // destroys and asserts nothing is left
    for p in m.paths() {
        assert!(!p.exists());
    }
}

#[test]
fn signal_all_reaches_processes_forked_inside() {
    if !root_or_skip("signal_all_reaches_processes_forked_inside") {
        return;
    }
    let mut m = Manager::new(Some(&unique_path("fork")), "fork").unwrap();
    m.create().unwrap();
    let _g = Guard::new(m.clone());
    let mut b = Blocked::spawn("sleep 30 & sleep 30 & wait");
    m.add_task(b.pid()).unwrap();
    b.release();
    let shell = b.pid();
    assert!(wait_until(Duration::from_secs(5), || m
        .pids()
        .unwrap()
        .len()
        == 3));
    let pids = m.pids().unwrap();
    assert!(pids.contains(&shell));
    m.signal_all(libc::SIGTERM).unwrap();
    let status = b.wait();
    assert!(!status.success());
    assert!(
        wait_until(Duration::from_secs(5), || m.pids().unwrap().is_empty()),
        "still there: {:?}",
        m.pids()
    );
    // Nothing was left frozen.
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Thawed);
}

#[test]
fn destroy_removes_only_what_create_made() {
    if !root_or_skip("destroy_removes_only_what_create_made") {
        return;
    }
    let parent = unique_path("parent");
    // Someone else's parent cgroup: made by a first manager, kept while a second manager makes
    // and destroys a child below it.
    let mut outer = Manager::new(Some(&parent), "outer").unwrap();
    outer.create().unwrap();
    let _g = Guard::new(outer.clone());
    let mut inner = Manager::new(Some(&parent.join("inner")), "inner").unwrap();
    inner.create().unwrap();
    for h in inner.state().hierarchies {
        assert_eq!(h.created, vec![h.path.clone()], "only the leaf is new");
    }
    // A sub-cgroup made by the container inside its own cgroup is removed with it.
    for p in inner.paths() {
        std::fs::create_dir(p.join("nested")).unwrap();
    }
    inner.destroy().unwrap();
    for (o, i) in outer.paths().iter().zip(inner.paths()) {
        assert!(o.is_dir(), "parent {} must survive", o.display());
        assert!(!i.exists());
    }
    // Destroy is idempotent.
    inner.destroy().unwrap();
}

#[test]
fn timing_create_apply_add_task_destroy() {
    if !root_or_skip("timing_create_apply_add_task_destroy") {
        return;
    }
    let res = mem_pids();
    let mut child = Blocked::spawn("exit 0");
    let t0 = Instant::now();
    let mut m = Manager::new(Some(&unique_path("timing")), "timing").unwrap();
    let t_new = t0.elapsed();
    m.validate(&res).unwrap();
    m.create().unwrap();
    let t_create = t0.elapsed();
    m.apply(&res).unwrap();
    let t_apply = t0.elapsed();
    m.add_task(child.pid()).unwrap();
    let t_add = t0.elapsed();
    // The task must leave before the cgroup can go (not counted).
    child.release();
    child.wait();
    let t1 = Instant::now();
    m.destroy().unwrap();
    let t_destroy = t1.elapsed();
    eprintln!(
        "TIMING ({:?}): new {:?}, +validate+create {:?}, +apply(memory,pids) {:?}, +add_task {:?}; destroy {:?}; total {:?}",
        m.mode(),
        t_new,
        t_create - t_new,
        t_apply - t_create,
        t_add - t_apply,
        t_destroy,
        t_add + t_destroy
    );
    for p in m.paths() {
        assert!(!p.exists());
    }
}

/// `clone3(CLONE_INTO_CGROUP)` into `cgroup_fd`; the child only waits in `pause` until killed.
fn clone_into_cgroup_paused(cgroup_fd: std::os::fd::BorrowedFd<'_>) -> std::io::Result<i32> {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    #[derive(Default)]
    struct CloneArgs {
        flags: u64,
        pidfd: u64,
        child_tid: u64,
        parent_tid: u64,
        exit_signal: u64,
        stack: u64,
        stack_size: u64,
        tls: u64,
        set_tid: u64,
        set_tid_size: u64,
        cgroup: u64,
    }
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let mut args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup_fd.as_raw_fd() as u64,
        ..Default::default()
    };
    // SAFETY: clone3 with no stack and no CLONE_VM duplicates the process like fork; `args` is
    // a valid clone_args of the size passed. The child runs only async-signal-safe calls
    // (pause, _exit) and never returns into Rust code.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret == 0 {
        // SAFETY: child side: pause until a signal ends it, then leave without unwinding.
        unsafe {
            libc::pause();
            libc::_exit(0);
        }
    }
    if ret < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(ret as i32)
}

#[test]
fn fast_join_v1_self_and_clone_into_cgroup2() {
    if !root_or_skip("fast_join_v1_self_and_clone_into_cgroup2") {
        return;
    }
    let mut m = Manager::new(Some(&unique_path("join")), "join").unwrap();
    m.create().unwrap();
    let _g = Guard::new(m.clone());
    let st = m.state();

    // cgroup2 part: a child created directly inside the cgroup2 directory (v2 and hybrid).
    match m.cgroup2_dir_fd().unwrap() {
        None => assert_eq!(st.mode, CgroupMode::Legacy),
        Some(fd) => {
            use std::os::fd::AsFd;
            let pid = clone_into_cgroup_paused(fd.as_fd()).unwrap();
            let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
            let v2 = st
                .hierarchies
                .iter()
                .find(|h| h.version == berth_cgroups::CgroupVersion::V2)
                .unwrap();
            let want = Path::new("/").join(v2.path.strip_prefix(&v2.mountpoint).unwrap());
            let procs = read(&v2.path, "cgroup.procs");
            let _ = signal_kill_and_reap(pid);
            assert!(
                own.lines().any(|l| l == format!("0::{}", want.display())),
                "{own}"
            );
            assert!(procs.lines().any(|l| l == pid.to_string()));
        }
    }

    // v1 part: a single-threaded child moves itself through `tasks`.
    if st.mode != CgroupMode::Unified {
        let m2 = m.clone();
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("30");
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the forked child before exec; it only opens and writes
        // cgroup files (allocation included, which glibc makes fork-safe).
        unsafe {
            cmd.pre_exec(move || m2.join_v1_self().map_err(std::io::Error::other));
        }
        let t = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let spawn_join = t.elapsed();
        let pid = child.id().to_string();
        for h in st
            .hierarchies
            .iter()
            .filter(|h| h.version == berth_cgroups::CgroupVersion::V1)
        {
            let procs = read(&h.path, "cgroup.procs");
            assert!(
                procs.lines().any(|l| l == pid),
                "{pid} not in {}",
                h.path.display()
            );
        }
        let _ = child.kill();
        let _ = child.wait();
        let t = Instant::now();
        let mut plain = std::process::Command::new("true").spawn().unwrap();
        let spawn_plain = t.elapsed();
        let _ = plain.wait();
        eprintln!(
            "TIMING: spawn with join_v1_self in the child {spawn_join:?} (spawn without {spawn_plain:?})"
        );
    }
}

fn signal_kill_and_reap(pid: i32) -> std::io::Result<()> {
    // SAFETY: kill and waitpid on our own child's pid; no memory is passed except the status
    // out-parameter, a valid local.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
    }
    Ok(())
}
