//! Resources through cgroups (v1 on this host, v2 in the VM lane): limits
//! read back from the kernel and from inside the container, limits that
//! hold under a memory hog and a fork bomb, live update, stats, OOM events,
//! freezing, and cgroupsPath forms.

mod util;

use std::path::PathBuf;

use berth_testutil::cgroup_v2;
use serde_json::json;
use util::*;

/// A cgroup file of process `pid` for `controller` (v1), or of its single
/// cgroup (v2).
fn cgroup_file(pid: i64, controller: &str, file: &str) -> PathBuf {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    if cgroup_v2() {
        let path = text.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
        return PathBuf::from(format!("/sys/fs/cgroup{path}/{file}"));
    }
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (
            parts.next(),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        if ctrls.split(',').any(|c| c == controller) {
            return PathBuf::from(format!("/sys/fs/cgroup/{controller}{path}/{file}"));
        }
        if ctrls.is_empty() && controller == "unified" {
            return PathBuf::from(format!("/sys/fs/cgroup/unified{path}/{file}"));
        }
    }
    panic!("no {controller} cgroup for {pid}:\n{text}");
}

fn read(p: &PathBuf) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .trim()
        .to_string()
}

fn started(rt: &Runtime, b: &Bundle, id: &str) -> i64 {
    rt.create(b, id);
    rt.ok(&["start", id]);
    rt.state(id)["pid"].as_i64().unwrap()
}

#[test]
fn limits_reach_the_kernel_and_the_container() {
    if !require_root("limits_reach_the_kernel_and_the_container") {
        return;
    }
    let rt = Runtime::new();
    let mut b = Bundle::busybox(&["sleep", "1000"]);
    b.edit(|c| {
        c["linux"]["resources"]["memory"] = json!({"limit": 64 << 20, "reservation": 32 << 20});
        c["linux"]["resources"]["pids"] = json!({"limit": 42});
        c["linux"]["resources"]["cpu"] =
            json!({"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"});
    });
    let pid = started(&rt, &b, "lim");
    if cgroup_v2() {
        assert_eq!(
            read(&cgroup_file(pid, "", "memory.max")),
            (64 << 20).to_string()
        );
        assert_eq!(
            read(&cgroup_file(pid, "", "memory.low")),
            (32 << 20).to_string()
        );
        assert_eq!(read(&cgroup_file(pid, "", "pids.max")), "42");
        assert_eq!(read(&cgroup_file(pid, "", "cpu.max")), "50000 100000");
        assert_eq!(read(&cgroup_file(pid, "", "cpuset.cpus")), "0");
        // The container sees its own cgroup as /sys/fs/cgroup.
        let inside = rt.ok(&[
            "exec",
            "lim",
            "cat",
            "/sys/fs/cgroup/memory.max",
            "/sys/fs/cgroup/pids.max",
        ]);
        assert_eq!(inside, format!("{}\n42\n", 64 << 20));
    } else {
        assert_eq!(
            read(&cgroup_file(pid, "memory", "memory.limit_in_bytes")),
            (64 << 20).to_string()
        );
        assert_eq!(
            read(&cgroup_file(pid, "memory", "memory.soft_limit_in_bytes")),
            (32 << 20).to_string()
        );
        assert_eq!(read(&cgroup_file(pid, "pids", "pids.max")), "42");
        assert_eq!(read(&cgroup_file(pid, "cpu", "cpu.shares")), "512");
        assert_eq!(read(&cgroup_file(pid, "cpu", "cpu.cfs_quota_us")), "50000");
        assert_eq!(
            read(&cgroup_file(pid, "cpu", "cpu.cfs_period_us")),
            "100000"
        );
        assert_eq!(read(&cgroup_file(pid, "cpuset", "cpuset.cpus")), "0");
        let inside = rt.ok(&[
            "exec",
            "lim",
            "cat",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/pids/pids.max",
        ]);
        assert_eq!(inside, format!("{}\n42\n", 64 << 20));
    }
    // The cgroup mount is read-only.
    let (code, _, _) = {
        let o = rt.output(&[
            "exec",
            "lim",
            "sh",
            "-c",
            "echo 1 > /sys/fs/cgroup/pids/pids.max || echo 1 > /sys/fs/cgroup/pids.max",
        ]);
        (o.status.code().unwrap_or(-1), (), ())
    };
    assert_ne!(code, 0, "the container could change its own limit");
    rt.ok(&["delete", "--force", "lim"]);
    assert_clean(&b);
}

#[test]
fn memory_limit_holds_against_a_hog() {
    if !require_root("memory_limit_holds_against_a_hog") {
        return;
    }
    let rt = Runtime::new();
    // dd's buffer is one 128 MiB allocation, filled by the read.
    let mut b = Bundle::busybox(&[
        "sh",
        "-c",
        "dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo status=$?",
    ]);
    b.edit(|c| c["linux"]["resources"]["memory"] = json!({"limit": 32 << 20, "swap": 32 << 20}));
    let out = rt.run_ok(&b, "hog");
    assert_eq!(
        out.trim(),
        "status=137",
        "the hog was not OOM-killed: {out}"
    );
    assert_clean(&b);
}

#[test]
fn pids_limit_holds_against_a_fork_bomb() {
    if !require_root("pids_limit_holds_against_a_fork_bomb") {
        return;
    }
    let rt = Runtime::new();
    let mut b = Bundle::busybox(&["sleep", "1000"]);
    b.edit(|c| c["linux"]["resources"]["pids"] = json!({"limit": 16}));
    let pid = started(&rt, &b, "bomb");
    // The shell forks until the kernel refuses (ash then exits with 2).
    let out = rt.output(&[
        "exec",
        "bomb",
        "sh",
        "-c",
        "while true; do sleep 1000 & done",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let current = if cgroup_v2() {
        read(&cgroup_file(pid, "", "pids.current"))
    } else {
        read(&cgroup_file(pid, "pids", "pids.current"))
    };
    let n: u32 = current.parse().unwrap();
    assert!(
        (10..=16).contains(&n),
        "pids.current {n}: the bomb should fill the limit and not pass it"
    );
    // The host is fine: it can still fork.
    assert!(
        std::process::Command::new("true")
            .status()
            .unwrap()
            .success()
    );
    rt.ok(&["delete", "--force", "bomb"]);
    assert_clean(&b);
}

#[test]
fn update_changes_limits_live() {
    if !require_root("update_changes_limits_live") {
        return;
    }
    let rt = Runtime::new();
    let mut b = Bundle::busybox(&["sleep", "1000"]);
    b.edit(|c| c["linux"]["resources"]["pids"] = json!({"limit": 10}));
    let pid = started(&rt, &b, "upd");
    rt.ok(&[
        "update",
        "--memory",
        "128m",
        "--pids-limit",
        "50",
        "--cpu-quota",
        "20000",
        "--cpu-period",
        "100000",
        "upd",
    ]);
    let (mem, pids, cpu) = if cgroup_v2() {
        (
            cgroup_file(pid, "", "memory.max"),
            cgroup_file(pid, "", "pids.max"),
            read(&cgroup_file(pid, "", "cpu.max")),
        )
    } else {
        (
            cgroup_file(pid, "memory", "memory.limit_in_bytes"),
            cgroup_file(pid, "pids", "pids.max"),
            read(&cgroup_file(pid, "cpu", "cpu.cfs_quota_us")),
        )
    };
    assert_eq!(read(&mem), (128u64 << 20).to_string());
    assert_eq!(read(&pids), "50");
    assert!(cpu.starts_with("20000"), "{cpu}");
    // --resources from stdin.
    let mut child = rt
        .cmd()
        .args(["update", "--resources", "-", "upd"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"pids":{"limit":7}}"#)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(read(&pids), "7");
    // Memory was not touched by the second update.
    assert_eq!(read(&mem), (128u64 << 20).to_string());
    let err = rt.fails(&["update", "--memory", "12x", "upd"]);
    assert!(err.contains("--memory"), "{err}");
    rt.ok(&["delete", "--force", "upd"]);
    assert_clean(&b);
}

#[test]
fn stats_and_oom_events() {
    if !require_root("stats_and_oom_events") {
        return;
    }
    let rt = Runtime::new();
    // The shell survives; each round a dd with a 64 MiB buffer is OOM-killed.
    let mut b = Bundle::busybox(&[
        "sh",
        "-c",
        "while true; do dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; sleep 0.5; done",
    ]);
    b.edit(|c| c["linux"]["resources"]["memory"] = json!({"limit": 24 << 20, "swap": 24 << 20}));
    started(&rt, &b, "ev");
    let stats: serde_json::Value =
        serde_json::from_str(&rt.ok(&["events", "--stats", "ev"])).unwrap();
    assert_eq!(stats["type"], "stats");
    assert_eq!(stats["id"], "ev");
    assert!(
        stats["data"]["memory"]["usage"]["usage"].as_u64().unwrap() > 0,
        "{stats}"
    );
    assert!(
        stats["data"]["pids"]["current"].as_u64().unwrap() >= 1,
        "{stats}"
    );
    assert!(
        stats["data"]["cpu"]["usage"]["total"].as_u64().unwrap() > 0,
        "{stats}"
    );
    // The stream reports the OOM kills.
    let mut events = rt
        .cmd()
        .args(["events", "--interval", "1s", "ev"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = events.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut saw_oom = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !saw_oom && std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(1)) {
            let ev: serde_json::Value = serde_json::from_str(&line).unwrap();
            saw_oom = ev["type"] == "oom";
        }
    }
    let _ = events.kill();
    let _ = events.wait();
    assert!(saw_oom, "no oom event within 20 s");
    rt.ok(&["delete", "--force", "ev"]);
    assert_clean(&b);
}

#[test]
fn pause_freezes_at_the_kernel() {
    if !require_root("pause_freezes_at_the_kernel") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sleep", "1000"]);
    let pid = started(&rt, &b, "frz");
    rt.ok(&["pause", "frz"]);
    if cgroup_v2() {
        assert_eq!(read(&cgroup_file(pid, "", "cgroup.freeze")), "1");
    } else {
        assert_eq!(
            read(&cgroup_file(pid, "freezer", "freezer.state")),
            "FROZEN"
        );
    }
    rt.ok(&["resume", "frz"]);
    if cgroup_v2() {
        assert_eq!(read(&cgroup_file(pid, "", "cgroup.freeze")), "0");
    } else {
        assert_eq!(
            read(&cgroup_file(pid, "freezer", "freezer.state")),
            "THAWED"
        );
    }
    rt.ok(&["delete", "--force", "frz"]);
    assert_clean(&b);
}

#[test]
fn relative_cgroups_path_is_under_the_callers_cgroup() {
    if !require_root("relative_cgroups_path_is_under_the_callers_cgroup") {
        return;
    }
    let rt = Runtime::new();
    let mut b = Bundle::busybox(&["sleep", "1000"]);
    let rel = berth_testutil::unique("rel");
    b.edit(|c| c["linux"]["cgroupsPath"] = rel.clone().into());
    let pid = started(&rt, &b, "rel");
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let ours = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let line = |text: &str, key: &str| {
        text.lines()
            .find(|l| {
                l.split(':')
                    .nth(1)
                    .is_some_and(|c| c.split(',').any(|c| c == key))
            })
            .map(|l| l.splitn(3, ':').nth(2).unwrap().to_string())
    };
    let key = if cgroup_v2() { "" } else { "memory" };
    let (t, o) = (line(&theirs, key).unwrap(), line(&ours, key).unwrap());
    // v1: under the caller's own cgroup; v2: under its parent (the caller's
    // cgroup holds processes, so it cannot have children with controllers).
    let base = if cgroup_v2() {
        std::path::Path::new(&o)
            .parent()
            .unwrap()
            .display()
            .to_string()
    } else {
        o.clone()
    };
    let expected = format!("{}/{rel}", base.trim_end_matches('/'));
    assert_eq!(t, expected);
    rt.ok(&["delete", "--force", "rel"]);
    let dir = PathBuf::from(if cgroup_v2() {
        "/sys/fs/cgroup".to_string()
    } else {
        "/sys/fs/cgroup/memory".to_string()
    })
    .join(expected.trim_start_matches('/'));
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn hugetlb_limit_lands_where_the_controller_lives() {
    if !require_root("hugetlb_limit_lands_where_the_controller_lives") {
        return;
    }
    if !std::path::Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists() {
        eprintln!(
            "SKIP: hugetlb_limit_lands_where_the_controller_lives: no 2 MiB huge pages on this kernel"
        );
        return;
    }
    let rt = Runtime::new();
    let mut b = Bundle::busybox(&["sleep", "1000"]);
    b.edit(|c| {
        c["linux"]["resources"]["hugepageLimits"] = json!([{"pageSize": "2MB", "limit": 4 << 20}])
    });
    let pid = started(&rt, &b, "huge");
    let v1 = PathBuf::from("/sys/fs/cgroup/hugetlb");
    let file = if cgroup_v2() {
        cgroup_file(pid, "", "hugetlb.2MB.max")
    } else if v1.exists() {
        cgroup_file(pid, "hugetlb", "hugetlb.2MB.limit_in_bytes")
    } else {
        // Hybrid host with hugetlb on the unified hierarchy (this machine).
        cgroup_file(pid, "unified", "hugetlb.2MB.max")
    };
    assert_eq!(read(&file), (4u64 << 20).to_string());
    rt.ok(&["delete", "--force", "huge"]);
    assert_clean(&b);
}
