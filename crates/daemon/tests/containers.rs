//! Containers on berthd through the real docker CLI: run (output, exit
//! codes, stdin, env/workdir/user), detached containers with logs, exec,
//! stop and rm, restart policies, volumes, and `kill -9` of berthd with a
//! container running (it survives, is re-adopted, and an exit that happened
//! while berthd was away is recorded). Nothing may be left behind.

mod support;

use std::path::Path;
use std::time::Duration;

use support::*;

fn no_leaks(d: &Berthd, ids: &[String]) {
    for id in ids {
        assert!(
            berth_testutil::mounts_containing(id).is_empty(),
            "mounts of {id} left"
        );
        assert!(
            berth_testutil::cgroup_dirs_named(id).is_empty(),
            "cgroups of {id} left"
        );
    }
    assert_eq!(
        d.shims(),
        Vec::<u32>::new(),
        "shims of this daemon still run"
    );
}

#[test]
fn docker_run_behaves_like_docker() {
    let Some((d, _dir)) = daemon_with_busybox("docker_run_behaves_like_docker", &[]) else {
        return;
    };
    assert_eq!(
        ok(d.docker(&["run", "--rm", "busybox", "echo", "hello"])),
        "hello\n"
    );
    fails(
        d.docker(&["run", "--rm", "busybox", "sh", "-c", "exit 3"]),
        3,
    );
    let err = fails(d.docker(&["run", "--rm", "busybox", "nosuchcmd"]), 127);
    assert!(err.contains("executable file not found"), "{err}");
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "-u",
        "nobody",
        "-h",
        "box",
        "busybox",
        "sh",
        "-c",
        "echo $A; pwd; id -u; hostname",
    ]));
    assert_eq!(out, "1\n/tmp\n65534\nbox\n");
    let out = d.docker_with(
        Path::new("docker"),
        &["run", "--rm", "-i", "busybox", "cat"],
        Some(b"piped\n"),
    );
    assert_eq!(ok(out), "piped\n");
    // stdout and stderr stay apart.
    let out = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    // Docker's refusals.
    let r = d.api(
        "POST",
        "/v1.47/containers/create",
        Some(br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}"#),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "can't create 'AutoRemove' container with restart policy"
    );
    ok(d.docker(&["create", "--name", "taken", "busybox", "true"]));
    let err = fails(
        d.docker(&["create", "--name", "taken", "busybox", "true"]),
        1,
    );
    assert!(err.contains("is already in use by container"), "{err}");
    ok(d.docker(&["rm", "taken"]));
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
    no_leaks(&d, &[]);
}

#[test]
fn detached_logs_exec_stop_rm() {
    let Some((d, _dir)) = daemon_with_busybox("detached_logs_exec_stop_rm", &[]) else {
        return;
    };
    let id = ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exec sleep 1000",
    ]))
    .trim()
    .to_string();
    let ps = ok(d.docker(&["ps", "--format", "{{.Names}} {{.Status}}"]));
    assert!(ps.starts_with("web Up "), "{ps}");
    assert_eq!(d.shims().len(), 1, "one shim per running container");
    // Both lines written (polled: a loaded machine may not have run the echoes yet).
    wait_for("web's two lines logged", || {
        let logs = d.docker(&["logs", "web"]);
        !logs.stdout.is_empty() && !logs.stderr.is_empty()
    });
    let logs = d.docker(&["logs", "web"]);
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&logs.stderr), "err\n");
    let exec = d.docker(&["exec", "-e", "X=2", "web", "sh", "-c", "echo $X; exit 5"]);
    assert_eq!(exec.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&exec.stdout), "2\n");
    let err = fails(d.docker(&["rm", "web"]), 1);
    assert!(
        err.contains("You cannot remove a running container"),
        "{err}"
    );
    ok(d.docker(&["stop", "-t", "1", "web"]));
    let state = ok(d.docker(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}}",
        "web",
    ]));
    // pid 1 ignores SIGTERM: SIGKILL after the timeout, as under Docker.
    assert_eq!(state.trim(), "exited 137");
    ok(d.docker(&["rm", "web"]));
    no_leaks(&d, &[id]);
}

#[test]
fn restart_policy_and_volumes() {
    let Some((d, _dir)) = daemon_with_busybox("restart_policy_and_volumes", &[]) else {
        return;
    };
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "exit 1",
    ]));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let s = ok(d.docker(&[
            "inspect",
            "-f",
            "{{.RestartCount}} {{.State.Status}}",
            "flaky",
        ]));
        if s.trim() == "2 exited" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "restart count stuck at {s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    ok(d.docker(&["rm", "flaky"]));
    ok(d.docker(&["volume", "create", "berthvol"]));
    ok(d.docker(&[
        "run",
        "--rm",
        "-v",
        "berthvol:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f",
    ]));
    assert_eq!(
        ok(d.docker(&[
            "run",
            "--rm",
            "-v",
            "berthvol:/data:ro",
            "busybox",
            "cat",
            "/data/f"
        ])),
        "kept\n"
    );
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "user",
        "-v",
        "berthvol:/data",
        "busybox",
        "sleep",
        "100",
    ]));
    let err = fails(d.docker(&["volume", "rm", "berthvol"]), 1);
    assert!(err.contains("volume is in use"), "{err}");
    // --volumes-from: the same volume, read-only when asked.
    assert_eq!(
        ok(d.docker(&[
            "run",
            "--rm",
            "--volumes-from",
            "user",
            "busybox",
            "cat",
            "/data/f"
        ])),
        "kept\n"
    );
    let err = fails(
        d.docker(&[
            "run",
            "--rm",
            "--volumes-from",
            "user:ro",
            "busybox",
            "touch",
            "/data/g",
        ]),
        1,
    );
    assert!(err.contains("Read-only file system"), "{err}");
    // (The docker CLI takes any 404 of create for a missing image and
    // pulls, against dockerd too: ask the API.)
    let r = d.api(
        "POST",
        "/containers/create",
        Some(br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"VolumesFrom":["nosuch"]}}"#),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.text().contains("No such container: nosuch"),
        "{}",
        r.text()
    );
    ok(d.docker(&["rm", "-f", "user"]));
    ok(d.docker(&["volume", "rm", "berthvol"]));
    no_leaks(&d, &[]);
}

/// dockerd's rules for removing an image containers use.
#[test]
fn images_in_use_are_kept() {
    let Some((d, _dir)) = daemon_with_busybox("images_in_use_are_kept", &[]) else {
        return;
    };
    ok(d.docker(&["tag", "busybox", "berth-inuse:v1"]));
    let running = ok(d.docker(&["run", "-d", "berth-inuse:v1", "sleep", "100"]));
    let running = running.trim();
    // Another name goes; the last one a container uses takes force.
    ok(d.docker(&["rmi", "busybox"]));
    let err = fails(d.docker(&["rmi", "berth-inuse:v1"]), 1);
    assert!(
        err.contains(&format!(
            "unable to remove repository reference \"berth-inuse:v1\" (must force) - container {} is using its referenced image",
            &running[..12]
        )),
        "{err}"
    );
    let id = ok(d.docker(&["inspect", "-f", "{{.Image}}", running]));
    let id = id.trim();
    let err = fails(d.docker(&["rmi", "-f", id]), 1);
    assert!(
        err.contains("(cannot be forced) - image is being used by running container"),
        "{err}"
    );
    ok(d.docker(&["stop", "-t", "0", running]));
    let err = fails(d.docker(&["rmi", id]), 1);
    assert!(
        err.contains("(must be forced) - image is being used by stopped container"),
        "{err}"
    );
    // Prune keeps it too.
    ok(d.docker(&["image", "prune", "-a", "-f"]));
    ok(d.docker(&["inspect", id]));
    // Forced: the image goes, the stopped container still starts.
    ok(d.docker(&["rmi", "-f", id]));
    fails(d.docker(&["inspect", "--type", "image", id]), 1);
    ok(d.docker(&["start", running]));
    ok(d.docker(&["rm", "-f", running]));
    no_leaks(&d, &[running.to_string()]);
}

#[test]
fn containers_survive_kill9_of_berthd() {
    let Some((mut d, _dir)) = daemon_with_busybox("containers_survive_kill9_of_berthd", &[]) else {
        return;
    };
    let id = ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "survivor",
        "busybox",
        "sh",
        "-c",
        "while true; do echo tick; sleep 0.1; done",
    ]))
    .trim()
    .to_string();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "quick",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 7",
    ]));
    d.kill9();
    std::thread::sleep(Duration::from_millis(1500));
    d.restart();
    let ps = ok(d.docker(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]));
    assert!(ps.contains("survivor running"), "{ps}");
    assert_eq!(ok(d.docker(&["wait", "quick"])).trim(), "7");
    let logs = ok(d.docker(&["logs", "--tail", "1", "survivor"]));
    assert_eq!(logs, "tick\n");
    ok(d.docker(&["rm", "-f", "survivor", "quick"]));
    no_leaks(&d, &[id]);
}

/// `-u` and `--group-add` against dockerd 20.10, side by side on the same
/// image: `id` prints the same uid, gid and supplementary groups (the
/// primary group leads them, as dockerd has since CVE-2022-36109), and an
/// unknown user fails alike.
#[test]
fn users_and_groups_match_dockerd() {
    const TEST: &str = "users_and_groups_match_dockerd";
    if !require_root(TEST) {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-ct-")
        .tempdir()
        .unwrap();
    let rootfs = dir.path().join("rootfs");
    berth_testutil::make_rootfs(&rootfs);
    let mut passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    passwd.push_str("app:x:1234:1234:app:/home/app:/bin/sh\n");
    std::fs::write(rootfs.join("etc/passwd"), passwd).unwrap();
    let mut group = std::fs::read_to_string(rootfs.join("etc/group")).unwrap();
    group.push_str("app:x:1234:\nstaff:x:50:app\nwheel:x:10:root,app\n");
    std::fs::write(rootfs.join("etc/group"), group).unwrap();
    let tar = dir.path().join("rootfs.tar");
    berth_testutil::tar_rootfs(&rootfs, &tar);

    let d = berthd(&[]);
    let Some(mut docker) = berth_testutil::dockerd::Dockerd::start(TEST, &[]) else {
        return;
    };
    ok(d.docker(&["import", tar.to_str().unwrap(), "busybox:latest"]));
    let out = docker
        .docker(&["import", tar.to_str().unwrap(), "busybox:latest"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let cases: [&[&str]; 7] = [
        &[],
        &["-u", "app"],
        &["-u", "app:staff"],
        &["-u", "1234"],
        &["-u", "4321:50"],
        &["-u", "nobody", "--group-add", "staff", "--group-add", "7"],
        &["-u", "nosuchuser"],
    ];
    for flags in cases {
        let mut args = vec!["run", "--rm", "--network", "none"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "id"]);
        let theirs = docker.docker(&args).output().unwrap();
        let ours = d.docker(&args);
        assert_eq!(
            (ours.status.code(), String::from_utf8_lossy(&ours.stdout)),
            (
                theirs.status.code(),
                String::from_utf8_lossy(&theirs.stdout)
            ),
            "{flags:?}: berthd {ours:?}\ndockerd {theirs:?}"
        );
    }
    for leak in docker.shutdown() {
        eprintln!("{TEST}: dockerd left: {leak}");
    }
}
