//! A real client drives berth-runtime: Debian's dockerd 20.10 (with the
//! containerd it starts and containerd-shim-runc-v2) runs containers with
//! `--runtime berth`, and the docker CLI checks what a user would see.
//!
//! Isolation: the test starts its own dockerd with every path under a
//! temporary directory (data root, exec root, pidfile, socket, containerd's
//! root and state, the trust key) and its own containerd namespaces. dockerd
//! runs in a private mount namespace whose `/run` is a fresh tmpfs, because
//! containerd 1.6 puts shim sockets in `/run/containerd/s/` whatever its
//! configuration says (`runtime/v2/shim/util_unix.go`, `socketRoot`), and
//! dockerd uses a host containerd when `/run/containerd/containerd.sock`
//! exists. Containers go under the cgroup parent `/berth-docker-<pid>-<n>`.
//!
//! All checks run even when one fails; a table of results is printed and the
//! test fails at the end with every failure, dockerd's log tail and the
//! runtime's JSON logs (collected from the shim's `--log` files, which
//! containerd deletes with the bundle). Then everything is cleaned up and any
//! leftover (container cgroup, mount, process, host path) fails the test.
//!
//! Needs root, `dockerd` (scripts/install-docker), the docker CLI
//! (/usr/local/bin/docker preferred), `unshare`, `tar` and `python3` (the
//! pty driver). `BERTH_DOCKER_RUNTIME=<path>` runs it against another
//! berth-runtime build (e.g. target/release/berth-runtime).

mod util;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use util::{require_root, unique};

const IMAGE: &str = "berth-busybox:test";
/// containerd namespace dockerd uses for its containers.
const NAMESPACE: &str = "berthtest";
/// Longest any single docker command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[test]
fn docker_drives_berth_runtime() {
    if !require_root("docker_drives_berth_runtime") {
        return;
    }
    let Some(tools) = Tools::find() else {
        return;
    };
    let t0 = Instant::now();
    let host_before = HostPaths::snapshot();
    let mut daemon = Daemon::new(&tools);
    let mut c = Checks::default();

    match daemon.start() {
        Ok(took) => c.pass("dockerd starts and answers `docker version`", took),
        Err(e) => c.fail("dockerd starts and answers `docker version`", e),
    }
    if c.all_ok() {
        import_image(&daemon, &mut c);
    }
    if c.all_ok() {
        run_basics(&daemon, &mut c);
        sibling_delete(&daemon, &mut c);
        parallel_runs(&daemon, &mut c);
        limits(&daemon, &mut c);
        interactive_run(&daemon, &mut c);
        detached_lifecycle(&daemon, &mut c);
        remove_paused(&daemon, &mut c);
        stop_behaviour(&daemon, &mut c);
        security(&daemon, &mut c);
    }

    // shutdown() keeps dockerd's log and the harvested runtime logs in
    // memory for diagnostics() before it removes the directory.
    let leaks = daemon.shutdown();
    for l in &leaks {
        c.fail("cleanup leaves nothing behind", l.clone());
    }
    for problem in host_before.changes() {
        c.fail("the host's docker/containerd paths are untouched", problem);
    }

    let total = t0.elapsed();
    eprintln!("{}", c.table());
    eprintln!(
        "docker test: {} checks in {:.1} s",
        c.results.len(),
        total.as_secs_f64()
    );
    if !c.all_ok() {
        eprintln!("{}", daemon.diagnostics());
        panic!(
            "{} of {} docker checks failed:\n{}",
            c.failures().len(),
            c.results.len(),
            c.failures().join("\n")
        );
    }
}

/// `docker import` of a busybox root filesystem: no registry needed.
fn import_image(d: &Daemon, c: &mut Checks) {
    let rootfs = d.tmp.join("rootfs");
    berth_testutil::make_rootfs(&rootfs);
    let tar = d.tmp.join("rootfs.tar");
    let out = run_timed(
        Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .stdin(Stdio::null()),
        COMMAND_TIMEOUT,
    );
    if out.code != 0 {
        c.fail("tar the busybox rootfs", out.describe());
        return;
    }
    let out = d.docker(&["import", path_str(&tar), IMAGE]);
    c.check(
        "docker import of a busybox rootfs",
        out.code == 0 && out.stdout.starts_with("sha256:"),
        &out,
    );
}

/// `docker run --rm`: output, exit codes, docker's 127/126.
fn run_basics(d: &Daemon, c: &mut Checks) {
    // BUG(berth-runtime, sysctl order): every `docker run` fails until fixed:
    // dockerd always sets linux.sysctl net.ipv4.ping_group_range and
    // net.ipv4.ip_unprivileged_port_start (network none included), and the
    // init writes sysctls after making /proc/sys read-only
    // (crates/runtime/src/process/init.rs: rootfs.finish() before
    // sysctl::apply) -> "write sysctl net.ipv4.ping_group_range=0 2147483647:
    // Read-only file system". runc writes sysctls before readonlyPaths.
    let out = d.run(&[], &["echo", "hello"]);
    c.check(
        "run echo hello prints hello, exit 0",
        out.code == 0 && out.stdout == "hello\n",
        &out,
    );
    let out = d.run(&[], &["sh", "-c", "exit 3"]);
    c.check("run: exit code 3 passes through", out.code == 3, &out);
    let out = d.run(&[], &["berth-no-such-command"]);
    c.check(
        "run: a missing command gives 127",
        out.code == 127 && out.stderr.contains("executable file not found"),
        &out,
    );
    let out = d.run(&[], &["/etc/passwd"]);
    c.check(
        "run: a non-executable file gives 126",
        out.code == 126 && out.stderr.contains("permission denied"),
        &out,
    );

    // BUG(berth-runtime, HOME): fails until fixed. dockerd does not put HOME
    // in process.env; runc sets it (when absent) to the user's home from the
    // container's /etc/passwd, "/" if there is none (libcontainer
    // setupUser). berth execs the env unchanged
    // (crates/runtime/src/process/finalize.rs, Launch::prepare, envp), so
    // $HOME is empty in every docker container and exec.
    let out = d.run(&[], &["sh", "-c", "echo \"HOME=$HOME\""]);
    c.check(
        "run: HOME is set from /etc/passwd (/root), as runc does",
        out.code == 0 && out.stdout == "HOME=/root\n",
        &out,
    );

    let out = d.docker_stdin(
        &[
            "run",
            "-i",
            "--rm",
            "--runtime",
            "berth",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "cat; echo after-eof",
        ],
        "piped in\n",
    );
    c.check(
        "run -i: stdin reaches the container, EOF ends it",
        out.code == 0 && out.stdout == "piped in\nafter-eof\n",
        &out,
    );

    // A detached container that exits by itself: wait, logs, and a second
    // start of the same container (the runtime must have deleted the first).
    let name = unique("exits");
    let out = d.docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--runtime",
        "berth",
        "--network",
        "none",
        IMAGE,
        "sh",
        "-c",
        "echo out; echo err >&2; exit 4",
    ]);
    if out.code == 0 {
        let wait = d.docker(&["wait", &name]);
        let logs = d.docker(&["logs", &name]);
        c.check(
            "run -d, wait gives 4, logs has stdout and stderr",
            wait.stdout.trim() == "4" && logs.stdout == "out\n" && logs.stderr == "err\n",
            format!("wait: {}\nlogs: {}", wait.describe(), logs.describe()),
        );
        let again = d.docker(&["start", "-a", &name]);
        c.check(
            "start -a of the exited container runs it again",
            again.code == 4 && again.stdout == "out\n",
            &again,
        );
    } else {
        c.fail(
            "run -d, wait gives 4, logs has stdout and stderr",
            out.describe(),
        );
    }
    d.remove(&name, c);

    // The memory limit is enforced and the OOM kill reported (the shim
    // watches the container's memory cgroup).
    let name = unique("oom");
    let out = d.docker(&[
        "run",
        "--name",
        &name,
        "--runtime",
        "berth",
        "--network",
        "none",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        IMAGE,
        "sh",
        "-c",
        "x=0123456789abcdef; while :; do x=$x$x; done",
    ]);
    let oom = d.inspect(&name, "{{.State.ExitCode}} {{.State.OOMKilled}}");
    c.check(
        "-m 16m: a memory hog is OOM-killed (137, OOMKilled true)",
        out.code == 137 && oom == "137 true",
        format!("inspect: {oom:?}; {}", out.describe()),
    );
    d.remove(&name, c);
}

/// Two containers under one cgroup parent; the first (which made the parent
/// directory) is removed while the second runs.
fn sibling_delete(d: &Daemon, c: &mut Checks) {
    // The check bites when `first` makes the parent directory: berth removes
    // it with its last container, runc leaves it (then this is a plain
    // two-container check).
    let before = berth_testutil::cgroup_dirs_named(&d.cgroup_parent);
    if !before.is_empty() {
        eprintln!("docker test: note: the cgroup parent exists before `first`: {before:?}");
    }
    let Some(first) = d.run_detached("first", &[], &["sleep", "1000"], c) else {
        return;
    };
    let Some(second) = d.run_detached("second", &[], &["sleep", "1000"], c) else {
        d.remove(&first, c);
        return;
    };
    // BUG(berth-cgroups/runtime, shared parent): fails until fixed. The
    // first container's cgroup manager records the parent directory
    // (/berth-docker-…, docker's /docker) as "created" and `delete` rmdirs
    // it too (crates/cgroups/src/dir_tree.rs remove_created, via
    // Manager::destroy from the runtime's delete): EBUSY while the second
    // container lives there, so `delete` fails *after* removing its state.
    // The shim's Delete fails, containerd keeps the task, the shim process
    // leaks, and `docker rm -f` still says OK. runc never removes parents.
    let out = d.docker(&["rm", "-f", &first]);
    let shim_gone = poll(Duration::from_secs(10), || shim_pids(&first).is_empty());
    let listed = d.docker(&[
        "ps",
        "-aq",
        "--no-trunc",
        "--filter",
        &format!("id={first}"),
    ]);
    let still = d.inspect(&second, "{{.State.Status}}");
    let log = d.runtime_log(&first);
    c.check(
        "rm -f of one container while a sibling runs: clean delete, shim exits",
        out.code == 0
            && shim_gone
            && listed.stdout.trim().is_empty()
            && still == "running"
            && !log.contains("\"level\":\"error\""),
        format!(
            "shim gone {shim_gone}; sibling {still:?}; runtime log: {log}; rm: {}",
            out.describe()
        ),
    );
    d.remove(&second, c);
}

/// Twelve `docker run --rm` at once.
fn parallel_runs(d: &Daemon, c: &mut Checks) {
    // Twelve at once: the runtime's state directory, locks and caches under
    // concurrent create/start/delete from as many shims.
    let t = Instant::now();
    let outs: Vec<Out> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|i| s.spawn(move || d.run(&[], &["echo", &format!("parallel-{i}")])))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Out::error("thread panicked")))
            .collect()
    });
    let bad: Vec<String> = outs
        .iter()
        .enumerate()
        .filter(|(i, o)| o.code != 0 || o.stdout != format!("parallel-{i}\n"))
        .map(|(i, o)| format!("#{i}: {}", o.describe()))
        .collect();
    c.check(
        "12 docker run --rm in parallel all succeed",
        bad.is_empty(),
        format!("in {:?}; failed: {bad:?}", t.elapsed()),
    );
}

/// `-m 64m --pids-limit 20`: the limits inside, on the host, and a fork
/// bomb that stops at the limit.
fn limits(d: &Daemon, c: &mut Checks) {
    let inside = "if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo v2; \
                  cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; \
                  else echo v1; cat /sys/fs/cgroup/memory/memory.limit_in_bytes \
                  /sys/fs/cgroup/pids/pids.max; fi";
    let out = d.run(&["-m", "64m", "--pids-limit", "20"], &["sh", "-c", inside]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let want_mode = if berth_testutil::cgroup_v2() {
        "v2"
    } else {
        "v1"
    };
    c.check(
        "limits seen inside: memory 64m, pids 20",
        out.code == 0 && lines == [want_mode, "67108864", "20"],
        &out,
    );

    let Some(id) = d.run_detached(
        "limits",
        &["-m", "64m", "--pids-limit", "20"],
        &["sleep", "1000"],
        c,
    ) else {
        return;
    };
    let pid = d.pid_of(&id);
    let cg = pid.and_then(HostCgroup::of_pid);
    match &cg {
        Some(cg) => {
            let mem = cg.memory_limit();
            let pids = cg.read("pids", "pids.max");
            c.check(
                "limits seen from the host via /proc/<pid>/cgroup",
                mem.as_deref() == Some("67108864") && pids.as_deref() == Some("20"),
                format!("cgroup {cg:?}: memory {mem:?}, pids.max {pids:?}"),
            );
            c.check(
                "the container's cgroup is under the daemon's --cgroup-parent",
                cg.path("pids").contains(&d.cgroup_parent) && cg.path("pids").contains(&id),
                format!("{cg:?}, parent {}", d.cgroup_parent),
            );
        }
        None => c.fail(
            "limits seen from the host via /proc/<pid>/cgroup",
            format!("no cgroup for container pid {pid:?}"),
        ),
    }

    // A fork loop stops at the limit; the host keeps forking.
    let out = d.docker(&[
        "exec",
        &id,
        "sh",
        "-c",
        "for i in $(seq 1 50); do sleep 1000 & done; wait",
    ]);
    let current = cg.as_ref().and_then(|cg| cg.read("pids", "pids.current"));
    let n: Option<u32> = current.as_deref().and_then(|s| s.parse().ok());
    c.check(
        "pids limit holds: the fork loop fails at 20 tasks",
        out.text().contains("can't fork") && n.is_some_and(|n| (10..=20).contains(&n)),
        format!("pids.current {current:?}; {}", out.describe()),
    );
    let host = run_timed(Command::new("true").stdin(Stdio::null()), COMMAND_TIMEOUT);
    c.check("the host can still fork", host.code == 0, host.describe());

    let mem = d.docker(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &id]);
    let (usage, limit) = mem.stdout.trim().split_once(" / ").unwrap_or(("", ""));
    c.check(
        "docker stats: non-zero memory usage and the 64MiB limit",
        mem.code == 0 && size_is_nonzero(usage) && limit == "64MiB",
        &mem,
    );
    d.remove(&id, c);
}

/// `docker run -it` under a pty: a real terminal inside.
fn interactive_run(d: &Daemon, c: &mut Checks) {
    let out = d.pty(
        &[
            "run",
            "-it",
            "--rm",
            "--runtime",
            "berth",
            "--network",
            "none",
            IMAGE,
            "sh",
        ],
        "echo $((6*7)); tty; exit\r",
    );
    c.check(
        "run -it: a pty, 42 and /dev/pts/0, exit 0",
        out.code == 0 && has_line(&out.stdout, "42") && has_line(&out.stdout, "/dev/pts/0"),
        &out,
    );
}

/// One detached container through exec, top, pause, kill, stats and rm.
fn detached_lifecycle(d: &Daemon, c: &mut Checks) {
    let script = "trap 'echo usr1 > /tmp/got-usr1' USR1; while :; do sleep 0.2; done";
    let Some(id) = d.run_detached("main", &[], &["sh", "-c", script], c) else {
        return;
    };
    let pid = d.pid_of(&id);

    let out = d.docker(&["exec", &id, "sh", "-c", "echo in; ps"]);
    let sees_init = out
        .stdout
        .lines()
        .any(|l| l.split_whitespace().next() == Some("1") && l.contains("trap"));
    c.check(
        "exec: runs in the container and sees its init as pid 1",
        out.code == 0 && has_line(&out.stdout, "in") && sees_init,
        &out,
    );
    let out = d.docker(&["exec", &id, "sh", "-c", "exit 5"]);
    c.check("exec: exit code 5 passes through", out.code == 5, &out);
    let out = d.docker(&[
        "exec",
        "-u",
        "65534:65534",
        "-w",
        "/tmp",
        &id,
        "sh",
        "-c",
        "id; pwd",
    ]);
    c.check(
        "exec -u 65534:65534 -w /tmp",
        out.code == 0
            && out.stdout.starts_with("uid=65534(nobody) gid=65534")
            && has_line(&out.stdout, "/tmp"),
        &out,
    );

    let out = d.pty(&["exec", "-it", &id, "sh"], "echo $((6*7)); tty; exit\r");
    c.check(
        "exec -it: a pty, 42 and a /dev/pts tty, exit 0",
        out.code == 0 && has_line(&out.stdout, "42") && out.stdout.contains("/dev/pts/"),
        &out,
    );

    let out = d.docker(&["top", &id]);
    let pid_str = pid.map(|p| p.to_string()).unwrap_or_default();
    c.check(
        "docker top lists the init with its host pid",
        out.code == 0
            && out.stdout.contains("trap")
            && out.stdout.split_whitespace().any(|w| w == pid_str),
        format!("pid {pid_str}; {}", out.describe()),
    );

    let stats = d.docker(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &id]);
    let usage = stats.stdout.split(" / ").next().unwrap_or("");
    c.check(
        "docker stats --no-stream: non-zero memory usage",
        stats.code == 0 && size_is_nonzero(usage),
        &stats,
    );

    // pause / unpause
    let cg = pid.and_then(HostCgroup::of_pid);
    let out = d.docker(&["pause", &id]);
    let status = d.inspect(&id, "{{.State.Status}}");
    let ps = d.docker(&[
        "ps",
        "--filter",
        &format!("id={id}"),
        "--format",
        "{{.Status}}",
    ]);
    let frozen = cg.as_ref().and_then(HostCgroup::freezer_state);
    c.check(
        "pause: state paused, docker ps (Paused), cgroup frozen",
        out.code == 0
            && status == "paused"
            && ps.stdout.contains("(Paused)")
            && frozen.as_deref() == Some("FROZEN"),
        format!(
            "status {status:?}, ps {:?}, freezer {frozen:?}; {}",
            ps.stdout.trim(),
            out.describe()
        ),
    );
    let out = d.docker(&["exec", &id, "true"]);
    c.check(
        "exec is refused while paused",
        out.code != 0 && out.stderr.contains("paused"),
        &out,
    );
    let out = d.docker(&["unpause", &id]);
    let status = d.inspect(&id, "{{.State.Status}}");
    let thawed = cg.as_ref().and_then(HostCgroup::freezer_state);
    c.check(
        "unpause: running again, cgroup thawed",
        out.code == 0 && status == "running" && thawed.as_deref() == Some("THAWED"),
        format!("status {status:?}, freezer {thawed:?}; {}", out.describe()),
    );

    // kill -s USR1 reaches the trap.
    let out = d.docker(&["kill", "-s", "USR1", &id]);
    let got = poll(Duration::from_secs(5), || {
        d.docker(&["exec", &id, "cat", "/tmp/got-usr1"]).stdout == "usr1\n"
    });
    c.check(
        "kill -s USR1 is delivered to the init's trap",
        out.code == 0 && got,
        &out,
    );

    // docker update changes the cgroup.
    let out = d.docker(&["update", "-m", "96m", "--memory-swap", "192m", &id]);
    let mem = cg.as_ref().and_then(HostCgroup::memory_limit);
    c.check(
        "update -m 96m reaches the cgroup",
        out.code == 0 && mem.as_deref() == Some("100663296"),
        format!("memory limit {mem:?}; {}", out.describe()),
    );

    // rm -f: gone from docker, its processes and cgroup gone.
    let out = d.docker(&["rm", "-f", &id]);
    let listed = d.docker(&["ps", "-aq", "--no-trunc", "--filter", &format!("id={id}")]);
    let pid_gone = pid.is_some_and(|p| poll(Duration::from_secs(10), || !alive(p)));
    let cg_gone = poll(Duration::from_secs(10), || {
        d.container_cgroup_dirs().iter().all(|p| !p.ends_with(&id))
    });
    c.check(
        "rm -f: container, its init and its cgroup are gone",
        out.code == 0 && listed.stdout.trim().is_empty() && pid_gone && cg_gone,
        format!(
            "listed {:?}, pid {pid:?} gone {pid_gone}, cgroup gone {cg_gone}; {}",
            listed.stdout.trim(),
            out.describe()
        ),
    );
}

/// `docker rm -f` of a paused container: frozen tasks must still die.
fn remove_paused(d: &Daemon, c: &mut Checks) {
    let Some(id) = d.run_detached("paused", &[], &["sh", "-c", "sleep 1000 & sleep 1000"], c)
    else {
        return;
    };
    let pid = d.pid_of(&id);
    let paused = d.docker(&["pause", &id]);
    let out = d.docker(&["rm", "-f", &id]);
    let pid_gone = pid.is_some_and(|p| poll(Duration::from_secs(10), || !alive(p)));
    let cg_gone = poll(Duration::from_secs(10), || {
        d.container_cgroup_dirs().iter().all(|p| !p.ends_with(&id))
    });
    c.check(
        "rm -f of a paused container: processes and cgroup gone",
        paused.code == 0 && out.code == 0 && pid_gone && cg_gone,
        format!(
            "pid {pid:?} gone {pid_gone}, cgroup gone {cg_gone}; pause: {}; rm: {}",
            paused.describe(),
            out.describe()
        ),
    );
}

/// `docker stop -t 2`: TERM ignored -> KILL after 2 s; TERM trapped -> its code.
fn stop_behaviour(d: &Daemon, c: &mut Checks) {
    let ignore = "trap '' TERM; while :; do sleep 0.2; done";
    if let Some(id) = d.run_detached("stop-ignore", &[], &["sh", "-c", ignore], c) {
        let t = Instant::now();
        let out = d.docker(&["stop", "-t", "2", &id]);
        let took = t.elapsed();
        let code = d.inspect(&id, "{{.State.ExitCode}}");
        c.check(
            "stop -t 2: TERM ignored, killed after 2 s (137)",
            out.code == 0
                && code == "137"
                && took >= Duration::from_secs(2)
                && took < Duration::from_secs(10),
            format!("took {took:?}, exit code {code}; {}", out.describe()),
        );
        d.remove(&id, c);
    }
    let trap = "trap 'exit 7' TERM; while :; do sleep 0.2; done";
    if let Some(id) = d.run_detached("stop-trap", &[], &["sh", "-c", trap], c) {
        let t = Instant::now();
        let out = d.docker(&["stop", "-t", "2", &id]);
        let took = t.elapsed();
        let code = d.inspect(&id, "{{.State.ExitCode}}");
        c.check(
            "stop -t 2: TERM trapped, exits with its code 7 before the timeout",
            out.code == 0 && code == "7" && took < Duration::from_secs(2),
            format!("took {took:?}, exit code {code}; {}", out.describe()),
        );
        d.remove(&id, c);
    }
}

/// Security options, each read back from inside the container.
fn security(d: &Daemon, c: &mut Checks) {
    let out = d.run(&["--read-only"], &["sh", "-c", "touch /berth-x"]);
    c.check(
        "--read-only: the root cannot be written",
        out.code == 1
            && out
                .stderr
                .contains("touch: /berth-x: Read-only file system"),
        &out,
    );

    // BUG(berth-runtime, readonlyPaths flags): fails until fixed. The
    // read-only bind of /proc/sys (and /proc/bus, /proc/fs, /proc/irq) is
    // remounted with MS_RDONLY only, dropping /proc's nosuid,nodev,noexec
    // (crates/runtime/src/rootfs/paths.rs, readonly(): remount(MS_RDONLY |
    // MS_REC); rootfs/mount.rs remount() adds the current flags only after
    // EPERM). runc keeps them (statfs flags): "ro,nosuid,nodev,noexec".
    let out = d.run(&[], &["grep", " /proc/sys ", "/proc/self/mountinfo"]);
    let opts: Vec<&str> = out
        .stdout
        .split_whitespace()
        .nth(5)
        .unwrap_or("")
        .split(',')
        .collect();
    c.check(
        "readonly path /proc/sys: ro and still nosuid,nodev,noexec",
        out.code == 0
            && ["ro", "nosuid", "nodev", "noexec"]
                .iter()
                .all(|o| opts.contains(o)),
        &out,
    );

    let out = d.run(
        &["--cap-drop", "ALL"],
        &["grep", "^Cap", "/proc/self/status"],
    );
    let caps: BTreeMap<&str, &str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once(":\t"))
        .collect();
    let none = ["CapPrm", "CapEff", "CapBnd", "CapAmb"]
        .iter()
        .all(|k| caps.get(k) == Some(&"0000000000000000"));
    c.check(
        "--cap-drop ALL: no capabilities",
        out.code == 0 && none,
        &out,
    );

    // Regression guard (exec.fifo mode, fixed in d9f8a6d): `create` made
    // exec.fifo with mknodat(0o622), which the shim's umask 022 turned into
    // 0600; an init already switched to uid 65534 could not open it, died
    // silently after `create` succeeded, and docker said "cannot start a
    // stopped process".
    let out = d.run(&["--user", "65534:65534"], &["id"]);
    c.check(
        "--user 65534:65534: id shows nobody",
        out.code == 0 && out.stdout.starts_with("uid=65534(nobody) gid=65534("),
        &out,
    );

    let out = d.run(
        &["--security-opt", "no-new-privileges"],
        &["grep", "NoNewPrivs", "/proc/self/status"],
    );
    c.check(
        "--security-opt no-new-privileges: NoNewPrivs 1",
        out.code == 0 && out.stdout.trim() == "NoNewPrivs:\t1",
        &out,
    );

    // Docker's default seccomp profile: unshare needs CAP_SYS_ADMIN. A new
    // user namespace needs no capability, so `unshare -U` separates the
    // profile from the capability set: refused by default, allowed unconfined.
    let out = d.run(
        &[],
        &[
            "sh",
            "-c",
            "grep ^Seccomp: /proc/self/status; unshare -m true",
        ],
    );
    c.check(
        "default seccomp: filter on, unshare -m: Operation not permitted",
        out.code == 1
            && has_line(&out.stdout, "Seccomp:\t2")
            && out
                .stderr
                .contains("unshare: unshare(0x20000): Operation not permitted"),
        &out,
    );
    let out = d.run(&[], &["unshare", "-U", "true"]);
    let unconfined = d.run(
        &["--security-opt", "seccomp=unconfined"],
        &["unshare", "-U", "true"],
    );
    c.check(
        "default seccomp refuses unshare -U; seccomp=unconfined allows it",
        out.code == 1
            && out
                .stderr
                .contains("unshare: unshare(0x10000000): Operation not permitted")
            && unconfined.code == 0,
        format!(
            "default: {}\nunconfined: {}",
            out.describe(),
            unconfined.describe()
        ),
    );

    let out = d.run(
        &["--tmpfs", "/scratch"],
        &[
            "sh",
            "-c",
            "grep ' /scratch ' /proc/mounts; echo ok > /scratch/f; cat /scratch/f",
        ],
    );
    c.check(
        "--tmpfs /scratch: a writable tmpfs",
        out.code == 0
            && out.stdout.starts_with("tmpfs /scratch tmpfs ")
            && has_line(&out.stdout, "ok"),
        &out,
    );

    let host = d.tmp.join("hostdir");
    let bind = std::fs::create_dir_all(&host)
        .and_then(|()| std::fs::write(host.join("file"), "from the host\n"));
    if let Err(e) = bind {
        c.fail(
            "-v <hostdir>:/data:ro",
            format!("prepare {}: {e}", host.display()),
        );
        return;
    }
    let volume = format!("{}:/data:ro", path_str(&host));
    let out = d.run(
        &["-v", &volume],
        &["sh", "-c", "cat /data/file; touch /data/new"],
    );
    c.check(
        "-v <hostdir>:/data:ro: readable, not writable",
        out.code == 1
            && out.stdout == "from the host\n"
            && out.stderr.contains("Read-only file system")
            && !host.join("new").exists(),
        &out,
    );
}

// ---------------------------------------------------------------------------
// Tools on the host
// ---------------------------------------------------------------------------

struct Tools {
    dockerd: PathBuf,
    docker: PathBuf,
    python3: Option<PathBuf>,
    runtime: PathBuf,
}

impl Tools {
    /// The programs the test needs, or None after a loud SKIP.
    fn find() -> Option<Tools> {
        let Some(dockerd) = which("dockerd") else {
            eprintln!(
                "SKIP: docker_drives_berth_runtime: dockerd is not on PATH \
                 (run scripts/install-docker; the test command does)"
            );
            return None;
        };
        // The CLI 28 in /usr/local/bin is preferred over Debian's 20.10 client.
        let docker = Some(PathBuf::from("/usr/local/bin/docker"))
            .filter(|p| p.exists())
            .or_else(|| which("docker"));
        let Some(docker) = docker else {
            eprintln!("SKIP: docker_drives_berth_runtime: no docker CLI on PATH");
            return None;
        };
        for tool in ["unshare", "tar", "containerd"] {
            if which(tool).is_none() {
                eprintln!("SKIP: docker_drives_berth_runtime: {tool} is not on PATH");
                return None;
            }
        }
        let runtime = std::env::var_os("BERTH_DOCKER_RUNTIME")
            .map(PathBuf::from)
            .unwrap_or_else(util::bin);
        Some(Tools {
            dockerd,
            docker,
            python3: which("python3"),
            runtime,
        })
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
}

// ---------------------------------------------------------------------------
// The daemon
// ---------------------------------------------------------------------------

/// A dockerd of the test's own, and everything it needs to clean up.
struct Daemon {
    tmp: PathBuf,
    docker_cli: PathBuf,
    dockerd_bin: PathBuf,
    python3: Option<PathBuf>,
    runtime: PathBuf,
    cgroup_parent: String,
    child: Option<Child>,
    containerd_pid: Option<u32>,
    logs: Arc<Mutex<BTreeMap<String, String>>>,
    harvester: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
    shut_down: bool,
}

impl Daemon {
    fn new(tools: &Tools) -> Daemon {
        let tmp = tempfile::Builder::new()
            .prefix("berth-docker-")
            .tempdir()
            .expect("create the test's temporary directory")
            .keep();
        Daemon {
            tmp,
            docker_cli: tools.docker.clone(),
            dockerd_bin: tools.dockerd.clone(),
            python3: tools.python3.clone(),
            runtime: tools.runtime.clone(),
            cgroup_parent: unique("docker"),
            child: None,
            containerd_pid: None,
            logs: Arc::default(),
            harvester: None,
            shut_down: false,
        }
    }

    fn exec_root(&self) -> PathBuf {
        self.tmp.join("exec")
    }

    fn socket(&self) -> PathBuf {
        self.tmp.join("docker.sock")
    }

    fn log_path(&self) -> PathBuf {
        self.tmp.join("dockerd.log")
    }

    /// Where containerd's shim keeps each container's bundle (and the
    /// runtime's `--log` file).
    fn task_dir(&self) -> PathBuf {
        self.exec_root()
            .join("containerd/daemon/io.containerd.runtime.v2.task")
            .join(NAMESPACE)
    }

    /// Start dockerd in a private mount namespace and wait until it answers.
    fn start(&mut self) -> Result<Duration, String> {
        let t0 = Instant::now();
        for d in ["data", "exec", "docker-config"] {
            std::fs::create_dir_all(self.tmp.join(d))
                .map_err(|e| format!("create {}: {e}", self.tmp.join(d).display()))?;
        }
        // dockerd 20.10 writes its trust key to /etc/docker/key.json unless
        // told otherwise, and only the config file can tell it.
        let config = serde_json::json!({
            "deprecated-key-path": self.tmp.join("key.json"),
        });
        let config_path = self.tmp.join("daemon.json");
        std::fs::write(&config_path, config.to_string())
            .map_err(|e| format!("write {}: {e}", config_path.display()))?;
        let log = std::fs::File::create(self.log_path())
            .map_err(|e| format!("create {}: {e}", self.log_path().display()))?;
        let err_log = log.try_clone().map_err(|e| format!("dup the log: {e}"))?;

        let tmp = path_str(&self.tmp);
        let args: Vec<String> = vec![
            format!("--config-file={}", path_str(&config_path)),
            format!("--data-root={tmp}/data"),
            format!("--exec-root={tmp}/exec"),
            format!("--pidfile={tmp}/docker.pid"),
            format!("--host=unix://{tmp}/docker.sock"),
            "--iptables=false".into(),
            "--ip6tables=false".into(),
            "--ip-masq=false".into(),
            "--bridge=none".into(),
            "--storage-driver=overlay2".into(),
            format!("--add-runtime=berth={}", path_str(&self.runtime)),
            format!("--containerd-namespace={NAMESPACE}"),
            format!("--containerd-plugins-namespace={NAMESPACE}-plugins"),
            format!("--cgroup-parent=/{}", self.cgroup_parent),
            "--debug".into(),
        ];
        // A private mount namespace with its own /run: containerd's shim
        // sockets (/run/containerd/s) and anything else dockerd puts in /run
        // stay out of the host's, and no host containerd can be picked up.
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg("mount -t tmpfs -o mode=0755,size=64m berth-docker-run /run && exec \"$@\"")
            .arg("berth-dockerd")
            .arg(&self.dockerd_bin)
            .args(&args)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .spawn()
            .map_err(|e| format!("spawn unshare/dockerd: {e}"))?;
        self.child = Some(child);
        self.start_harvester();

        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("dockerd exited during startup: {status}"));
            }
            if self.docker(&["version"]).code == 0 {
                break;
            }
            if Instant::now() > deadline {
                return Err("dockerd did not answer within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.containerd_pid = read_pid(&self.exec_root().join("containerd/containerd.pid"));
        let pidfile = read_pid(&self.tmp.join("docker.pid"));
        let ours = self.child.as_ref().map(Child::id);
        if pidfile != ours {
            return Err(format!(
                "dockerd's pidfile says {pidfile:?}, we started {ours:?}"
            ));
        }
        let version = self.docker(&[
            "version",
            "--format",
            "{{.Client.Version}} / {{.Server.Version}}",
        ]);
        eprintln!(
            "docker test: CLI / dockerd {}; runtime {}; containerd pid {:?}; dir {}",
            version.stdout.trim(),
            self.runtime.display(),
            self.containerd_pid,
            self.tmp.display()
        );
        Ok(t0.elapsed())
    }

    /// A thread that keeps copies of the runtime's `--log` files: the shim
    /// deletes the bundle (and the log) with the container.
    fn start_harvester(&mut self) {
        let stop = Arc::new(AtomicBool::new(false));
        let dir = self.task_dir();
        let logs = Arc::clone(&self.logs);
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            loop {
                harvest(&dir, &logs);
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        self.harvester = Some((stop, handle));
    }

    /// A docker CLI command against this daemon.
    fn docker(&self, args: &[&str]) -> Out {
        let mut cmd = Command::new(&self.docker_cli);
        self.docker_env(&mut cmd);
        cmd.args(args).stdin(Stdio::null());
        run_timed(&mut cmd, COMMAND_TIMEOUT)
    }

    /// A docker CLI command reading `input` on its stdin (then EOF).
    fn docker_stdin(&self, args: &[&str], input: &str) -> Out {
        let file = tempfile::tempfile().and_then(|mut f| {
            use std::io::{Seek, Write};
            f.write_all(input.as_bytes())?;
            f.rewind()?;
            Ok(f)
        });
        let file = match file {
            Ok(f) => f,
            Err(e) => return Out::error(&format!("write the stdin file: {e}")),
        };
        let mut cmd = Command::new(&self.docker_cli);
        self.docker_env(&mut cmd);
        cmd.args(args).stdin(file);
        run_timed(&mut cmd, COMMAND_TIMEOUT)
    }

    fn docker_env(&self, cmd: &mut Command) {
        cmd.env(
            "DOCKER_HOST",
            format!("unix://{}", path_str(&self.socket())),
        )
        .env("DOCKER_CONFIG", self.tmp.join("docker-config"))
        .env("DOCKER_CLI_HINTS", "false")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH");
    }

    /// `docker run --rm --runtime berth --network none <opts> IMAGE <cmd>`.
    fn run(&self, opts: &[&str], cmd: &[&str]) -> Out {
        let mut args = vec!["run", "--rm", "--runtime", "berth", "--network", "none"];
        args.extend_from_slice(opts);
        args.push(IMAGE);
        args.extend_from_slice(cmd);
        self.docker(&args)
    }

    /// `docker run -d ...`; the full container id, or None (recorded as a
    /// failed check).
    fn run_detached(
        &self,
        tag: &str,
        opts: &[&str],
        cmd: &[&str],
        c: &mut Checks,
    ) -> Option<String> {
        let name = unique(tag);
        let mut args = vec![
            "run",
            "-d",
            "--name",
            &name,
            "--runtime",
            "berth",
            "--network",
            "none",
        ];
        args.extend_from_slice(opts);
        args.push(IMAGE);
        args.extend_from_slice(cmd);
        let out = self.docker(&args);
        let id = out.stdout.trim().to_string();
        let running = out.code == 0
            && poll(Duration::from_secs(10), || {
                self.inspect(&id, "{{.State.Status}}") == "running"
            });
        c.check(
            &format!("run -d ({tag}) starts a running container"),
            running,
            &out,
        );
        running.then_some(id)
    }

    fn inspect(&self, id: &str, format: &str) -> String {
        self.docker(&["inspect", "-f", format, id])
            .stdout
            .trim()
            .to_string()
    }

    fn pid_of(&self, id: &str) -> Option<u32> {
        self.inspect(id, "{{.State.Pid}}")
            .parse()
            .ok()
            .filter(|&p| p > 0)
    }

    fn remove(&self, id: &str, c: &mut Checks) {
        let out = self.docker(&["rm", "-f", id]);
        if out.code != 0 {
            c.fail(&format!("rm -f {id}"), out.describe());
        }
    }

    /// Run the docker CLI under a new pty (python3's pty module); type
    /// `input` once the shell's prompt shows; everything read comes back.
    fn pty(&self, args: &[&str], input: &str) -> Out {
        let Some(python) = &self.python3 else {
            return Out::error("python3 is not on PATH: cannot allocate a pty");
        };
        let mut cmd = Command::new(python);
        self.docker_env(&mut cmd);
        cmd.arg("-c")
            .arg(PTY_DRIVER)
            .arg(&self.docker_cli)
            .args(args)
            .env("BERTH_PTY_INPUT", input)
            .env("TERM", "xterm")
            .stdin(Stdio::null());
        run_timed(&mut cmd, COMMAND_TIMEOUT)
    }

    /// What the harvester kept of a container's runtime log.
    fn runtime_log(&self, id: &str) -> String {
        // One more pass: the bundle may still be there.
        harvest(&self.task_dir(), &self.logs);
        self.logs
            .lock()
            .ok()
            .and_then(|l| l.get(id).cloned())
            .unwrap_or_default()
    }

    /// Cgroup directories of containers under our parent, every hierarchy.
    fn container_cgroup_dirs(&self) -> Vec<PathBuf> {
        berth_testutil::cgroup_dirs_named(&self.cgroup_parent)
            .into_iter()
            .flat_map(|p| std::fs::read_dir(p).into_iter().flatten().flatten())
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect()
    }

    /// Remove every container, stop dockerd and containerd, and report
    /// whatever was left behind (after removing it).
    fn shutdown(&mut self) -> Vec<String> {
        self.shut_down = true;
        let mut leaks = Vec::new();
        let dockerd_pid = self.child.as_ref().map(Child::id);

        if self.child.is_some() {
            let ids = self.docker(&["ps", "-aq", "--no-trunc"]);
            for id in ids.stdout.split_whitespace() {
                let out = self.docker(&["rm", "-f", id]);
                if out.code != 0 {
                    leaks.push(format!("docker rm -f {id} failed: {}", out.describe()));
                }
            }
            // Mounts the containers leave in dockerd's namespace: anything
            // under our directory but the data root dockerd binds onto itself.
            if let Some(pid) = dockerd_pid {
                let data = self.tmp.join("data");
                let left: Vec<String> = mount_points(&format!("/proc/{pid}/mountinfo"))
                    .into_iter()
                    .filter(|m| m.starts_with(path_str(&self.tmp)) && Path::new(m) != data)
                    .collect();
                if !left.is_empty() {
                    leaks.push(format!(
                        "mounts left in dockerd's namespace after removing all containers: {left:?}"
                    ));
                }
            }
        }
        let early_cgroups = self.container_cgroup_dirs();
        if !early_cgroups.is_empty() {
            leaks.push(format!(
                "container cgroups left after removing all containers: {early_cgroups:?}"
            ));
        }

        // Stop dockerd: TERM to the pid in its pidfile (start() checked it is
        // the process we started), then KILL.
        if let Some(mut child) = self.child.take() {
            let pid = read_pid(&self.tmp.join("docker.pid"))
                .filter(|&p| p == child.id())
                .unwrap_or(child.id());
            signal(pid, "TERM");
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut exited = false;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    exited = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if !exited {
                leaks.push(format!(
                    "dockerd (pid {pid}) ignored SIGTERM for 30 s; killed"
                ));
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // dockerd stops its containerd; make sure (by pid, if that pid is
        // still the containerd of our directory).
        if let Some(pid) = self.containerd_pid
            && !poll(Duration::from_secs(15), || !refers_to(pid, &self.tmp))
        {
            leaks.push(format!("containerd (pid {pid}) outlived dockerd; stopped"));
            signal(pid, "TERM");
            if !poll(Duration::from_secs(5), || !alive(pid)) {
                signal(pid, "KILL");
            }
        }
        if let Some((stop, handle)) = self.harvester.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }

        // Processes still referring to our directory (shims, containers).
        let procs = processes_referring_to(&self.tmp);
        if !procs.is_empty() {
            leaks.push(format!("processes left behind: {procs:?}"));
            for (pid, _) in &procs {
                signal(*pid, "KILL");
            }
            poll(Duration::from_secs(5), || {
                procs.iter().all(|(p, _)| !alive(*p))
            });
        }
        // Mounts in our (the host's) namespace.
        let tmp = path_str(&self.tmp).to_string();
        let mut mounts: Vec<String> = mount_points("/proc/self/mountinfo")
            .into_iter()
            .filter(|m| m.starts_with(&tmp))
            .collect();
        if !mounts.is_empty() {
            leaks.push(format!("mounts left on the host: {mounts:?}"));
            mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
            for m in &mounts {
                let _ = Command::new("umount").arg("-l").arg(m).status();
            }
        }
        // Container cgroups once more (a killed daemon may have left some),
        // then the parent directories, which are the test's own.
        for dir in &self.container_cgroup_dirs() {
            if !early_cgroups.contains(dir) {
                leaks.push(format!(
                    "container cgroup left after dockerd stopped: {}",
                    dir.display()
                ));
            }
            // Killed tasks leave the cgroup a moment later.
            poll(Duration::from_secs(5), || std::fs::remove_dir(dir).is_ok());
        }
        for dir in berth_testutil::cgroup_dirs_named(&self.cgroup_parent) {
            let _ = std::fs::remove_dir(&dir);
        }
        let left = berth_testutil::cgroup_dirs_named(&self.cgroup_parent);
        if !left.is_empty() {
            leaks.push(format!(
                "cgroup directories that cannot be removed: {left:?}"
            ));
        }
        // Keep the logs for the failure report, then remove the directory.
        self.keep_logs_for_report();
        if let Err(e) = std::fs::remove_dir_all(&self.tmp) {
            leaks.push(format!("cannot remove {}: {e}", self.tmp.display()));
        }
        // Last word: nothing of ours is left anywhere.
        let mounts = berth_testutil::mounts_containing(&tmp);
        if !mounts.is_empty() {
            leaks.push(format!("mounts still there after cleanup: {mounts:?}"));
        }
        let procs = processes_referring_to(&self.tmp);
        if !procs.is_empty() {
            leaks.push(format!("processes still there after cleanup: {procs:?}"));
        }
        leaks
    }

    fn keep_logs_for_report(&self) {
        let tail = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        if let Ok(mut logs) = self.logs.lock() {
            logs.insert("dockerd.log".into(), tail);
        }
    }

    /// dockerd's log tail and every runtime log collected.
    fn diagnostics(&self) -> String {
        let mut s = String::new();
        let logs = self.logs.lock().map(|l| l.clone()).unwrap_or_default();
        if let Some(log) = logs.get("dockerd.log") {
            // dockerd runs with --debug: its warnings and errors (with
            // containerd's and the shims') first, then the raw tail.
            let important: Vec<&str> = log
                .lines()
                .filter(|l| !l.contains("level=debug") && !l.contains("level=info"))
                .collect();
            let from = important.len().saturating_sub(60);
            let _ = writeln!(s, "===== dockerd log: last warnings and errors =====");
            for l in &important[from..] {
                let _ = writeln!(s, "{l}");
            }
            let lines: Vec<&str> = log.lines().collect();
            let from = lines.len().saturating_sub(30);
            let _ = writeln!(
                s,
                "===== dockerd log: last {} lines =====",
                lines.len() - from
            );
            for l in &lines[from..] {
                let _ = writeln!(s, "{l}");
            }
        }
        for (id, log) in logs.iter().filter(|(k, _)| *k != "dockerd.log") {
            let _ = writeln!(
                s,
                "===== berth-runtime --log of {id} =====\n{}",
                log.trim_end()
            );
        }
        s
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.shut_down {
            // A panic before shutdown(): clean up, say what leaked.
            for l in self.shutdown() {
                eprintln!("docker test cleanup: {l}");
            }
        }
    }
}

/// Copy every runtime log under the task directory into `logs`.
fn harvest(task_dir: &Path, logs: &Mutex<BTreeMap<String, String>>) {
    let Ok(rd) = std::fs::read_dir(task_dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(text) = std::fs::read_to_string(e.path().join("log.json")) else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        // containerd renames a bundle it gives up on to ".<id>".
        let name = e.file_name().to_string_lossy().into_owned();
        let id = name.trim_start_matches('.').to_string();
        if let Ok(mut logs) = logs.lock() {
            let entry = logs.entry(id).or_default();
            if text.len() > entry.len() {
                *entry = text;
            }
        }
    }
}

/// The python3 program behind [`Daemon::pty`]: argv is the command; the
/// input comes from $BERTH_PTY_INPUT; exits with the command's code.
const PTY_DRIVER: &str = r##"
import os, pty, select, signal, sys, time
argv = sys.argv[1:]
typed = os.environ["BERTH_PTY_INPUT"].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, sent, deadline = b"", False, time.time() + 60
while True:
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        sys.stderr.write("pty driver: timed out\n")
        break
    ready, _, _ = select.select([fd], [], [], 0.2)
    if fd in ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if not sent and b"# " in out:
        os.write(fd, typed)
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
if not sent:
    sys.stderr.write("pty driver: no prompt seen, nothing typed\n")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"##;

// ---------------------------------------------------------------------------
// Host inspection
// ---------------------------------------------------------------------------

/// A process's cgroup paths, read from /proc/<pid>/cgroup.
#[derive(Debug)]
struct HostCgroup {
    /// controller -> path (v1); "" -> path for the unified hierarchy.
    paths: BTreeMap<String, String>,
}

impl HostCgroup {
    fn of_pid(pid: u32) -> Option<HostCgroup> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let mut paths = BTreeMap::new();
        for line in text.lines() {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            for ctl in controllers.split(',') {
                paths.insert(ctl.to_string(), path.to_string());
            }
        }
        Some(HostCgroup { paths })
    }

    /// The directory holding `controller`'s files.
    fn dir(&self, controller: &str) -> Option<PathBuf> {
        if berth_testutil::cgroup_v2() {
            let p = self.paths.get("")?;
            Some(Path::new("/sys/fs/cgroup").join(p.trim_start_matches('/')))
        } else {
            let p = self.paths.get(controller)?;
            Some(
                Path::new("/sys/fs/cgroup")
                    .join(controller)
                    .join(p.trim_start_matches('/')),
            )
        }
    }

    fn path(&self, controller: &str) -> String {
        self.dir(controller)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    fn read(&self, controller: &str, file: &str) -> Option<String> {
        let p = self.dir(controller)?.join(file);
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    }

    fn memory_limit(&self) -> Option<String> {
        if berth_testutil::cgroup_v2() {
            self.read("memory", "memory.max")
        } else {
            self.read("memory", "memory.limit_in_bytes")
        }
    }

    /// FROZEN / THAWED, in v1's words on either version.
    fn freezer_state(&self) -> Option<String> {
        if berth_testutil::cgroup_v2() {
            let v = self.read("freezer", "cgroup.freeze")?;
            Some(if v == "1" { "FROZEN" } else { "THAWED" }.to_string())
        } else {
            self.read("freezer", "freezer.state")
        }
    }
}

/// Host paths a stray dockerd or containerd would create.
struct HostPaths(Vec<(&'static str, bool)>);

impl HostPaths {
    const WATCHED: [&'static str; 7] = [
        "/run/containerd",
        "/run/docker",
        "/run/docker.sock",
        "/var/lib/docker",
        "/var/lib/containerd",
        "/etc/docker/key.json",
        "/etc/containerd",
    ];

    fn snapshot() -> HostPaths {
        HostPaths(
            Self::WATCHED
                .iter()
                .map(|p| (*p, Path::new(p).symlink_metadata().is_ok()))
                .collect(),
        )
    }

    fn changes(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|(p, existed)| Path::new(p).symlink_metadata().is_ok() != *existed)
            .map(|(p, existed)| {
                if *existed {
                    format!("{p} disappeared")
                } else {
                    format!("{p} was created on the host")
                }
            })
            .collect()
    }
}

/// Mount points listed in a mountinfo file.
fn mount_points(mountinfo: &str) -> Vec<String> {
    std::fs::read_to_string(mountinfo)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| m.replace("\\040", " "))
        .collect()
}

/// Processes whose cwd, exe or command line mentions `dir`.
fn processes_referring_to(dir: &Path) -> Vec<(u32, String)> {
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && refers_to(pid, dir))
        .map(|pid| (pid, cmdline(pid)))
        .collect()
}

/// A live process whose cwd, exe or command line mentions `dir`.
fn refers_to(pid: u32, dir: &Path) -> bool {
    let needle = path_str(dir);
    let link = |l: &str| {
        std::fs::read_link(format!("/proc/{pid}/{l}"))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    alive(pid)
        && (cmdline(pid).contains(needle)
            || link("cwd").contains(needle)
            || link("exe").contains(needle))
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('\0', " ")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// Live containerd shims serving container `id`.
fn shim_pids(id: &str) -> Vec<u32> {
    let needle = format!("-id {id} ");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            let c = format!("{} ", cmdline(pid));
            alive(pid) && c.contains("containerd-shim") && c.contains(&needle)
        })
        .collect()
}

/// The pid is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// Send a signal by pid with kill(1).
fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg("-s")
        .arg(sig)
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

// ---------------------------------------------------------------------------
// Commands and results
// ---------------------------------------------------------------------------

/// What a command did.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Out {
    fn error(msg: &str) -> Out {
        Out {
            code: -1,
            stdout: String::new(),
            stderr: msg.to_string(),
            took: Duration::ZERO,
        }
    }

    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    fn describe(&self) -> String {
        format!(
            "exit {} in {:.2} s\n  stdout: {:?}\n  stderr: {:?}",
            self.code,
            self.took.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

impl From<&Out> for String {
    fn from(o: &Out) -> String {
        o.describe()
    }
}

/// Run with output in files (a container could inherit a pipe and keep it
/// open), killing the command by pid after `timeout`. Stdin is /dev/null
/// unless the caller set it.
fn run_timed(cmd: &mut Command, timeout: Duration) -> Out {
    let t0 = Instant::now();
    let (Ok(mut out), Ok(mut err)) = (tempfile::tempfile(), tempfile::tempfile()) else {
        return Out::error("cannot create output files");
    };
    let (Ok(o), Ok(e)) = (out.try_clone(), err.try_clone()) else {
        return Out::error("cannot dup output files");
    };
    let mut child = match cmd.stdout(o).stderr(e).spawn() {
        Ok(c) => c,
        Err(e) => return Out::error(&format!("spawn {cmd:?}: {e}")),
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if t0.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let read = |f: &mut std::fs::File| {
        use std::io::{Read, Seek};
        let mut s = String::new();
        let _ = f.rewind();
        let mut v = Vec::new();
        let _ = f.read_to_end(&mut v);
        s.push_str(&String::from_utf8_lossy(&v));
        s
    };
    let mut stderr = read(&mut err);
    let code = match status {
        Some(s) => s.code().unwrap_or_else(|| {
            128 + std::os::unix::process::ExitStatusExt::signal(&s).unwrap_or(0)
        }),
        None => {
            stderr.push_str(&format!("\n[timed out after {timeout:?}; killed]"));
            -1
        }
    };
    Out {
        code,
        stdout: read(&mut out),
        stderr,
        took: t0.elapsed(),
    }
}

/// Poll `f` every 50 ms until it holds or `timeout` passes.
fn poll(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    loop {
        if f() {
            return true;
        }
        if t0.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l.trim_end_matches('\r') == line)
}

/// "796KiB", "1.2MiB": a size docker printed that is above zero.
fn size_is_nonzero(s: &str) -> bool {
    let digits: String = s
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse::<f64>().is_ok_and(|v| v > 0.0)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every check's outcome; the test fails at the end if any failed.
#[derive(Default)]
struct Checks {
    results: Vec<(String, bool, String, Duration)>,
    started: Option<Instant>,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        let took = self.started.map(|t| t.elapsed()).unwrap_or_default();
        self.started = Some(Instant::now());
        self.results
            .push((name.to_string(), ok, detail.into(), took));
    }

    fn pass(&mut self, name: &str, took: Duration) {
        self.results
            .push((name.to_string(), true, String::new(), took));
        self.started = Some(Instant::now());
    }

    fn fail(&mut self, name: &str, detail: impl Into<String>) {
        self.check(name, false, detail);
    }

    fn all_ok(&self) -> bool {
        self.results.iter().all(|r| r.1)
    }

    fn failures(&self) -> Vec<String> {
        self.results
            .iter()
            .filter(|r| !r.1)
            .map(|(name, _, detail, _)| format!("FAIL {name}: {detail}"))
            .collect()
    }

    fn table(&self) -> String {
        let mut s = String::from("docker test results:\n");
        for (name, ok, _, took) in &self.results {
            let _ = writeln!(
                s,
                "  {} {:6.2}s  {name}",
                if *ok { "ok  " } else { "FAIL" },
                took.as_secs_f64()
            );
        }
        s
    }
}
