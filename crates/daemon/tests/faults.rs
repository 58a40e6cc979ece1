//! Faults and load on berthd's containers, through the real docker CLI:
//!
//! - `kill -9` of a shim: the container is recorded as exited (255) and
//!   its processes, cgroups and mounts go with it;
//! - `kill -9` of berthd, again and again, while a client loops over
//!   run/exec/stop/rm: a long-running container survives every restart,
//!   `ps`, `logs` and `wait` are right afterwards, nothing leaks;
//! - a soak: 500 `run --rm` in a row, then 100 containers running at once;
//!   after removal, no mount, cgroup, shim or container process is left;
//! - limits hold: a fork bomb stops at `--pids-limit`, a memory hog is
//!   OOM-killed at `-m`, and berthd answers all along.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth_testutil::processes_with;
use support::*;

/// Whether `pid` ends (or is dead and waiting for its reaper) in time.
fn gone_or_zombie(pid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                if state.starts_with('Z') || state.starts_with('X') {
                    return true;
                }
            }
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Nothing of this daemon's containers is left: no mount under its
/// directory's containers, no cgroup under its parent, no shim.
fn nothing_left(d: &Berthd) {
    let exec = d.exec_root().join("containers").display().to_string();
    let mounts = berth_testutil::mounts_containing(&exec);
    assert!(mounts.is_empty(), "mounts left: {mounts:?}");
    for root in berth_testutil::cgroup_dirs_named(&d.cgroup_parent()) {
        let children: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.path())
            .collect();
        assert!(children.is_empty(), "cgroups left: {children:?}");
    }
    let shims = d.shims();
    assert!(shims.is_empty(), "shims left: {shims:?}");
}

#[test]
fn kill9_of_a_shim_takes_its_container_down_cleanly() {
    let Some((d, _dir)) =
        daemon_with_busybox("kill9_of_a_shim_takes_its_container_down_cleanly", &[])
    else {
        return;
    };
    let id = ok(d.docker(&["run", "-d", "busybox", "sleep", "4242"]))
        .trim()
        .to_string();
    let shims = d.shims();
    assert_eq!(shims.len(), 1, "{shims:?}");
    let sleeper = processes_with("sleep 4242");
    assert_eq!(sleeper.len(), 1, "{sleeper:?}");
    // By pid: the shim of this test's own daemon.
    let status = std::process::Command::new("kill")
        .args(["-9", &shims[0].to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(ok(d.docker(&["wait", &id])).trim(), "255");
    assert!(
        gone_or_zombie(sleeper[0], Duration::from_secs(5)),
        "the container's process outlived its shim"
    );
    ok(d.docker(&["rm", &id]));
    nothing_left(&d);
}

#[test]
fn kill9_of_berthd_during_a_busy_client() {
    let Some((d, _dir)) = daemon_with_busybox("kill9_of_berthd_during_a_busy_client", &[]) else {
        return;
    };
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "keeper",
        "busybox",
        "sh",
        "-c",
        "while true; do echo tick; sleep 0.2; done",
    ]));
    let keeper_pid = ok(d.docker(&["inspect", "-f", "{{.State.Pid}}", "keeper"]));
    let d = Arc::new(std::sync::Mutex::new(d));
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicUsize::new(0));
    // The busy client: each round a run, an exec, a stop and an rm; a
    // round cut by a dead daemon just fails.
    let client = {
        let (d, stop, rounds) = (d.clone(), stop.clone(), rounds.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let name = format!("busy{i}");
                let docker = |args: &[&str]| d.lock().unwrap().docker_cmd(args);
                let _ = docker(&["run", "-d", "--name", &name, "busybox", "sleep", "30"]).output();
                let _ = docker(&["exec", &name, "true"]).output();
                let _ = docker(&["stop", "-t", "1", &name]).output();
                let _ = docker(&["rm", "-f", &name]).output();
                rounds.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
        })
    };
    for pause in [300u64, 700, 450] {
        std::thread::sleep(Duration::from_millis(pause));
        let mut guard = d.lock().unwrap();
        guard.kill9();
        drop(guard);
        std::thread::sleep(Duration::from_millis(200));
        d.lock().unwrap().restart();
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    client.join().unwrap();
    let mut d = Arc::try_unwrap(d).unwrap().into_inner().unwrap();
    assert!(
        rounds.load(Ordering::SeqCst) > 0,
        "the client never got a round through"
    );

    // The keeper ran through it all, the same process.
    let ps = ok(d.docker(&["ps", "--format", "{{.Names}} {{.State}}"]));
    assert!(ps.contains("keeper running"), "{ps}");
    assert_eq!(
        ok(d.docker(&["inspect", "-f", "{{.State.Pid}}", "keeper"])),
        keeper_pid
    );
    assert_eq!(ok(d.docker(&["logs", "--tail", "1", "keeper"])), "tick\n");
    // Every container berthd knows is in a state that is true.
    let all = ok(d.docker(&["ps", "-a", "--format", "{{.ID}} {{.State}}"]));
    for line in all.lines() {
        let (id, state) = line.split_once(' ').unwrap();
        let pid = ok(d.docker(&["inspect", "-f", "{{.State.Pid}}", id]));
        let pid: u32 = pid.trim().parse().unwrap();
        match state {
            "running" => assert!(
                std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "{id} is said to run but pid {pid} is gone"
            ),
            _ => assert_eq!(pid, 0, "{id} is {state} with pid {pid}"),
        }
    }
    // A new container behaves, wait included.
    ok(d.docker(&[
        "run", "-d", "--name", "after", "busybox", "sh", "-c", "exit 3",
    ]));
    assert_eq!(ok(d.docker(&["wait", "after"])).trim(), "3");
    let ids = ok(d.docker(&["ps", "-aq"]));
    let mut rm = vec!["rm", "-f"];
    rm.extend(ids.split_whitespace());
    ok(d.docker(&rm));
    nothing_left(&d);
    d.kill9();
    d.restart();
    nothing_left(&d);
}

#[test]
fn soak_500_runs_and_100_running() {
    let Some((d, _dir)) = daemon_with_busybox("soak_500_runs_and_100_running", &[]) else {
        return;
    };
    let started = Instant::now();
    for i in 0..500 {
        let out = d.docker(&["run", "--rm", "--network", "none", "busybox", "true"]);
        assert!(
            out.status.success(),
            "run {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("500 run --rm in {:?}", started.elapsed());
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(
            ok(d.docker(&["run", "-d", "--network", "none", "busybox", "sleep", "1717"]))
                .trim()
                .to_string(),
        );
    }
    let running = ok(d.docker(&["ps", "-q"]));
    assert_eq!(running.lines().count(), 100);
    for chunk in ids.chunks(25) {
        let mut rm = vec!["rm", "-f"];
        rm.extend(chunk.iter().map(String::as_str));
        ok(d.docker(&rm));
    }
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
    nothing_left(&d);
    assert!(
        processes_with("sleep 1717").is_empty(),
        "container processes left"
    );
}

#[test]
fn limits_hold_under_a_fork_bomb_and_a_memory_hog() {
    let Some((d, _dir)) =
        daemon_with_busybox("limits_hold_under_a_fork_bomb_and_a_memory_hog", &[])
    else {
        return;
    };
    // A fork bomb: capped at 64 pids; berthd keeps answering meanwhile.
    let bomb = ok(d.docker(&[
        "run",
        "-d",
        "--pids-limit",
        "64",
        "busybox",
        "sh",
        "-c",
        "b() { b | b & }; b; sleep 1000",
    ]))
    .trim()
    .to_string();
    std::thread::sleep(Duration::from_secs(2));
    let t = Instant::now();
    ok(d.docker(&["ps"]));
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "berthd took {:?} to answer during the fork bomb",
        t.elapsed()
    );
    let pids = processes_in_cgroup(&d, &bomb, "pids");
    assert!(pids <= 64, "{pids} processes under a limit of 64");
    ok(d.docker(&["rm", "-f", &bomb]));

    // A memory hog: killed by the OOM killer at 32 MiB, recorded as such.
    let hog = ok(d.docker(&[
        "run",
        "-d",
        "-m",
        "32m",
        "--memory-swap",
        "32m",
        "busybox",
        "sh",
        "-c",
        "x=a; while true; do x=$x$x; done",
    ]))
    .trim()
    .to_string();
    assert_eq!(ok(d.docker(&["wait", &hog])).trim(), "137");
    assert_eq!(
        ok(d.docker(&["inspect", "-f", "{{.State.OOMKilled}}", &hog])).trim(),
        "true"
    );
    ok(d.docker(&["rm", &hog]));
    nothing_left(&d);
}

/// Processes in the container's cgroup of `controller` (v1) or its
/// unified cgroup (v2).
fn processes_in_cgroup(d: &Berthd, id: &str, controller: &str) -> usize {
    let name = format!("{}/{id}", d.cgroup_parent());
    let dirs = berth_testutil::cgroup_dirs_named(&name);
    let dir = dirs
        .iter()
        .find(|p| {
            p.to_string_lossy().contains(&format!("/{controller}/")) || berth_testutil::cgroup_v2()
        })
        .unwrap_or_else(|| panic!("no {controller} cgroup in {dirs:?}"));
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap()
        .lines()
        .count()
}
