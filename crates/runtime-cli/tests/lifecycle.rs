//! The lifecycle through the command line: run, create/start/state,
//! kill, delete, list, ps, pause/resume, exit codes.

mod util;

use util::*;

#[test]
fn run_prints_and_cleans_up() {
    if !require_root("run_prints_and_cleans_up") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sh", "-c", "echo hello; echo err >&2"]);
    let (code, out, err) = rt.run(&b, "hello");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "hello\n");
    assert!(err.contains("err"), "{err}");
    assert_clean(&b);
}

#[test]
fn run_returns_the_exit_code_and_signal() {
    if !require_root("run_returns_the_exit_code_and_signal") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sh", "-c", "exit 42"]);
    assert_eq!(rt.run(&b, "code").0, 42);
    // Killed from outside (an init cannot be killed from inside its own
    // pid namespace): `run` reports 128 + signal.
    let b = Bundle::busybox(&["sleep", "1000"]);
    let mut run = rt
        .cmd()
        .args(["run", "--bundle", path(b.path()), "sig"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the container to run", || {
        rt.output(&["state", "sig"]).status.success() && rt.status("sig") == "running"
    });
    rt.ok(&["kill", "sig", "KILL"]);
    assert_eq!(run.wait().unwrap().code(), Some(128 + 9));
    assert_clean(&b);
}

#[test]
fn create_start_state_kill_delete() {
    if !require_root("create_start_state_kill_delete") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sleep", "1000"]);
    let pid_file = b.path().join("pid");
    rt.ok(&[
        "create",
        "--bundle",
        path(b.path()),
        "--pid-file",
        path(&pid_file),
        "c1",
    ]);
    let st = rt.state("c1");
    assert_eq!(st["status"], "created");
    assert_eq!(st["id"], "c1");
    assert_eq!(st["bundle"], path(b.path()));
    let pid = st["pid"].as_i64().unwrap();
    assert!(pid > 0);
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    // The init is waiting, not running the user program yet.
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_ne!(comm.trim(), "sleep");

    rt.ok(&["start", "c1"]);
    assert_eq!(rt.status("c1"), "running");
    wait_for("sleep to run", || {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep")
    });
    // A second start is refused.
    let err = rt.fails(&["start", "c1"]);
    assert!(err.contains("running"), "{err}");
    // delete without force is refused while running.
    let err = rt.fails(&["delete", "c1"]);
    assert!(err.contains("running"), "{err}");

    rt.ok(&["kill", "c1", "KILL"]);
    wait_for("the container to stop", || rt.status("c1") == "stopped");
    assert_eq!(rt.state("c1")["pid"], 0);
    rt.ok(&["delete", "c1"]);
    let err = rt.fails(&["state", "c1"]);
    assert!(err.contains("does not exist"), "{err}");
    assert_clean(&b);
}

#[test]
fn duplicate_and_invalid_ids_are_refused() {
    if !require_root("duplicate_and_invalid_ids_are_refused") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sleep", "1000"]);
    rt.create(&b, "dup");
    let err = rt.fails(&["create", "--bundle", path(b.path()), "dup"]);
    assert!(err.contains("container with id exists: dup"), "{err}");
    let err = rt.fails(&["create", "--bundle", path(b.path()), "../evil"]);
    assert!(err.contains("invalid container id"), "{err}");
    rt.ok(&["delete", "--force", "dup"]);
    assert_clean(&b);
}

#[test]
fn delete_force_kills_a_running_container() {
    if !require_root("delete_force_kills_a_running_container") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sh", "-c", "sleep 1000 & sleep 1000"]);
    rt.create(&b, "f1");
    rt.ok(&["start", "f1"]);
    rt.ok(&["delete", "--force", "f1"]);
    assert_clean(&b);
    // Deleting what is gone, with --force, is not an error (runc).
    rt.ok(&["delete", "--force", "f1"]);
}

#[test]
fn created_container_can_be_deleted() {
    if !require_root("created_container_can_be_deleted") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["true"]);
    rt.create(&b, "cr");
    let pid = rt.state("cr")["pid"].as_i64().unwrap();
    rt.ok(&["delete", "cr"]);
    wait_for("the init to go", || {
        !std::path::Path::new(&format!("/proc/{pid}/stat")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
    });
    assert_clean(&b);
}

#[test]
fn list_and_ps() {
    if !require_root("list_and_ps") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sh", "-c", "sleep 1000 & exec sleep 999"]);
    rt.create(&b, "l1");
    rt.ok(&["start", "l1"]);
    let table = rt.ok(&["list"]);
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("ID"), "{table}");
    assert!(lines.next().unwrap().starts_with("l1"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&rt.ok(&["list", "--format", "json"])).unwrap();
    assert_eq!(json[0]["id"], "l1");
    assert_eq!(json[0]["status"], "running");
    assert_eq!(rt.ok(&["list", "-q"]).trim(), "l1");
    wait_for("two processes", || {
        let pids: Vec<i64> =
            serde_json::from_str(&rt.ok(&["ps", "--format", "json", "l1"])).unwrap();
        pids.len() == 2
    });
    let ps = rt.ok(&["ps", "l1"]);
    assert!(ps.lines().next().unwrap().contains("PID"), "{ps}");
    assert_eq!(
        ps.lines().filter(|l| l.contains("sleep")).count(),
        2,
        "{ps}"
    );
    rt.ok(&["kill", "--all", "l1", "9"]);
    wait_for("stop", || rt.status("l1") == "stopped");
    rt.ok(&["delete", "l1"]);
    assert_clean(&b);
}

#[test]
fn pause_and_resume_freeze_the_container() {
    if !require_root("pause_and_resume_freeze_the_container") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sleep", "1000"]);
    rt.create(&b, "p1");
    rt.ok(&["start", "p1"]);
    rt.ok(&["pause", "p1"]);
    assert_eq!(rt.status("p1"), "paused");
    let err = rt.fails(&["exec", "p1", "true"]);
    assert!(err.contains("paused"), "{err}");
    rt.ok(&["resume", "p1"]);
    assert_eq!(rt.status("p1"), "running");
    let err = rt.fails(&["resume", "p1"]);
    assert!(err.contains("running"), "{err}");
    rt.ok(&["delete", "--force", "p1"]);
    assert_clean(&b);
}

#[test]
fn kill_signals_by_name_and_number() {
    if !require_root("kill_signals_by_name_and_number") {
        return;
    }
    let rt = Runtime::new();
    // The init traps TERM and USR1 and writes what it got to a file.
    let mut b = Bundle::busybox(&[
        "sh",
        "-c",
        "trap 'echo usr1 >> /tmp/got' USR1; trap 'echo term >> /tmp/got; exit 3' TERM; echo ready > /tmp/ready; while true; do sleep 0.05; done",
    ]);
    b.edit(|c| c["root"]["readonly"] = false.into());
    rt.create(&b, "k1");
    rt.ok(&["start", "k1"]);
    let got = b.rootfs().join("tmp/got");
    wait_for("the trap to be set", || {
        b.rootfs().join("tmp/ready").exists()
    });
    rt.ok(&["kill", "k1", "SIGUSR1"]);
    wait_for("USR1", || {
        std::fs::read_to_string(&got).is_ok_and(|s| s.contains("usr1"))
    });
    rt.ok(&["kill", "k1", "15"]);
    wait_for("TERM", || rt.status("k1") == "stopped");
    assert!(std::fs::read_to_string(&got).unwrap().contains("term"));
    let err = rt.fails(&["kill", "k1", "NOSUCHSIG"]);
    assert!(err.contains("invalid signal"), "{err}");
    rt.ok(&["delete", "k1"]);
    assert_clean(&b);
}

#[test]
fn spec_and_features() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new();
    rt.ok(&["spec", "--bundle", path(dir.path())]);
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(spec["process"]["args"][0], "sh");
    let err = rt.fails(&["spec", "--bundle", path(dir.path())]);
    assert!(err.contains("exists"), "{err}");
    let f: serde_json::Value = serde_json::from_str(&rt.ok(&["features"])).unwrap();
    assert_eq!(f["ociVersionMin"], "1.0.0");
    assert!(f["linux"]["namespaces"].as_array().unwrap().len() == 8);
    assert_eq!(f["linux"]["cgroup"]["systemd"], false);
    assert!(f["linux"]["seccomp"]["enabled"].as_bool().unwrap());
    let v = String::from_utf8(rt.cmd().arg("--version").output().unwrap().stdout).unwrap();
    assert!(v.starts_with("berth-runtime version"), "{v}");
    assert!(v.contains("\nspec: 1.2.0"), "{v}");
}

#[test]
fn systemd_cgroup_driver_is_refused_clearly() {
    let rt = Runtime::new();
    let b = Bundle::busybox(&["true"]);
    let err = rt.fails(&["--systemd-cgroup", "run", "--bundle", path(b.path()), "sd"]);
    assert!(
        err.contains("systemd cgroup driver is not supported"),
        "{err}"
    );
}
