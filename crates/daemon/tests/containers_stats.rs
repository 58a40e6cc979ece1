//! `docker top`, `docker stats` and `docker update` on berthd through the
//! real docker CLI (and the API where the CLI hides the body): the rows,
//! figures and limits are checked against the container's own pid and its
//! cgroup files. One scenario runs against dockerd 20.10 too (when it is
//! installed) and asks for the same answers: top's rows, the stats body's
//! keys and figures, update's refusals and recorded values; where berthd
//! words an error better than dockerd the test says so. Root only;
//! nothing may be left behind.

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::*;

/// The container's cgroup directories (under the test daemon's parent).
fn cgroup_dirs(d: &Berthd, id: &str) -> Vec<PathBuf> {
    berth_testutil::cgroup_dirs_named(&format!("{}/{id}", d.cgroup_parent()))
}

/// A file of the container's cgroup, from whichever hierarchy has it.
fn cgroup_file(d: &Berthd, id: &str, file: &str) -> String {
    let dirs = cgroup_dirs(d, id);
    for d in &dirs {
        if let Ok(s) = std::fs::read_to_string(d.join(file)) {
            return s.trim().to_string();
        }
    }
    panic!("no {file} in {dirs:?}");
}

fn no_leaks(d: &Berthd, ids: &[String]) {
    for id in ids {
        assert!(
            berth_testutil::mounts_containing(id).is_empty(),
            "mounts of {id} left"
        );
        assert!(cgroup_dirs(d, id).is_empty(), "cgroups of {id} left");
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

fn run(d: &Berthd, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    ok(d.docker(&all)).trim().to_string()
}

fn inspect(d: &Berthd, name: &str, format: &str) -> String {
    ok(d.docker(&["inspect", "-f", format, name]))
        .trim()
        .to_string()
}

/// `docker stats --no-stream --format '{{json .}}'` of one container.
fn cli_stats(d: &Berthd, name: &str) -> serde_json::Value {
    let out = ok(d.docker(&["stats", "--no-stream", "--format", "{{json .}}", name]));
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn top_lists_the_containers_processes() {
    let Some((d, _dir)) = daemon_with_busybox("top_lists_the_containers_processes", &[]) else {
        return;
    };
    let id = run(&d, &["--name", "topme", "busybox", "sleep", "1000"]);
    let pid = inspect(&d, "topme", "{{.State.Pid}}");
    let out = ok(d.docker(&["top", "topme"]));
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{out}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "only the container's process: {out}");
    let row: Vec<&str> = rows[0].split_whitespace().collect();
    assert_eq!(row[0], "root");
    assert_eq!(row[1], pid);
    assert!(rows[0].ends_with("sleep 1000"), "{out}");

    // An exec'd process shows too; berthd's own processes never do.
    ok(d.docker(&["exec", "-d", "topme", "sleep", "999"]));
    wait_for("the exec'd sleep", || {
        let out = d.docker(&["top", "topme", "-o", "pid,comm"]);
        String::from_utf8_lossy(&out.stdout)
            .matches("sleep")
            .count()
            == 2
    });
    let r = d.api(
        "GET",
        "/v1.47/containers/topme/top?ps_args=-o%20pid,comm",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["Titles"], serde_json::json!(["PID", "COMMAND"]));
    let procs = v["Processes"].as_array().unwrap();
    assert_eq!(procs.len(), 2, "{v}");
    assert_eq!(procs[0], serde_json::json!([pid, "sleep"]));
    assert_eq!(procs[1][1], "sleep");

    // dockerd's refusals.
    let err = fails(d.docker(&["top", "topme", "-o", "uid=PID"]), 1);
    assert!(
        err.contains("specifying \"uid=PID\" is not allowed"),
        "{err}"
    );
    let err = fails(d.docker(&["top", "topme", "--no-headers"]), 1);
    assert!(err.contains("option --no-headers is not allowed"), "{err}");
    let err = fails(d.docker(&["top", "topme", "--bogus-option"]), 1);
    assert!(err.contains("Error response from daemon: ps: "), "{err}");

    ok(d.docker(&["stop", "-t", "0", "topme"]));
    let err = fails(d.docker(&["top", "topme"]), 1);
    assert!(
        err.contains(&format!("Container {id} is not running")),
        "{err}"
    );
    let r = d.api("GET", "/v1.47/containers/topme/top", None);
    assert_eq!(r.status, 409);
    let err = fails(d.docker(&["top", "nosuch"]), 1);
    assert!(err.contains("No such container: nosuch"), "{err}");
    ok(d.docker(&["rm", "topme"]));
    no_leaks(&d, &[id]);
}

#[test]
fn stats_report_the_cgroups_figures() {
    let Some((d, _dir)) = daemon_with_busybox("stats_report_the_cgroups_figures", &[]) else {
        return;
    };
    let id = run(
        &d,
        &[
            "--name",
            "statme",
            "-m",
            "64m",
            "busybox",
            "sh",
            "-c",
            "sleep 1000 & sleep 1000 & wait",
        ],
    );
    wait_for("statme's two sleeps", || {
        top_shows(|a| d.docker(a), "statme", 3)
    });
    let s = cli_stats(&d, "statme");
    assert_eq!(s["Name"], "statme");
    assert_eq!(s["ID"], id[..12]);
    assert_eq!(s["PIDs"], "3", "{s}");
    let mem = s["MemUsage"].as_str().unwrap();
    let (used, limit) = mem.split_once(" / ").unwrap();
    assert_eq!(limit, "64MiB", "{s}");
    assert!(!used.starts_with("0B"), "{s}");

    // The body itself, one shot: the cgroup's own numbers.
    let r = d.api(
        "GET",
        "/v1.47/containers/statme/stats?stream=false&one-shot=true",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["name"], "/statme");
    assert_eq!(v["id"], id);
    assert_eq!(v["memory_stats"]["limit"], 64 << 20);
    assert_eq!(v["pids_stats"]["current"], 3);
    assert!(v["memory_stats"]["usage"].as_u64().unwrap() > 0, "{v}");
    assert!(v["cpu_stats"]["cpu_usage"]["total_usage"].as_u64().unwrap() > 0);
    assert!(v["cpu_stats"]["system_cpu_usage"].as_u64().unwrap() > 0);
    assert!(v["cpu_stats"]["online_cpus"].as_u64().unwrap() >= 1);
    assert_eq!(v["preread"], "0001-01-01T00:00:00Z");
    let stat_key = if berth_testutil::cgroup_v2() {
        "inactive_file"
    } else {
        "total_inactive_file"
    };
    assert!(v["memory_stats"]["stats"].get(stat_key).is_some(), "{v}");
    let usage_file = if berth_testutil::cgroup_v2() {
        "memory.current"
    } else {
        "memory.usage_in_bytes"
    };
    let cg_usage: u64 = cgroup_file(&d, &id, usage_file).parse().unwrap();
    let reported = v["memory_stats"]["usage"].as_u64().unwrap();
    assert!(
        reported.abs_diff(cg_usage) < 4 << 20,
        "{reported} vs {cg_usage}"
    );
    // Without one-shot: a second reading, the first as precpu.
    let r = d.api("GET", "/v1.47/containers/statme/stats?stream=false", None);
    let v = r.json();
    assert_ne!(v["preread"], "0001-01-01T00:00:00Z");
    assert!(v["precpu_stats"]["system_cpu_usage"].as_u64().unwrap() > 0);
    let r = d.api(
        "GET",
        "/v1.47/containers/statme/stats?stream=true&one-shot=true",
        None,
    );
    assert_eq!(r.status, 400);

    // A stream: a reading a second, until the container is removed.
    let mut sock = UnixStream::connect(d.socket()).unwrap();
    sock.write_all(b"GET /v1.47/containers/statme/stats HTTP/1.1\r\nHost: berth\r\n\r\n")
        .unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut raw = Vec::new();
    let readings = |raw: &[u8]| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(raw)
            .split('\n')
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while readings(&raw).len() < 3 {
        assert!(Instant::now() < deadline, "stream stalled: {raw:?}");
        let mut buf = [0u8; 65536];
        if let Ok(n) = sock.read(&mut buf) {
            assert!(n > 0, "stream ended early");
            raw.extend_from_slice(&buf[..n]);
        }
    }
    let got = readings(&raw);
    assert_eq!(got[0]["preread"], "0001-01-01T00:00:00Z");
    assert_eq!(got[2]["preread"], got[1]["read"]);
    assert_eq!(got[2]["precpu_stats"], got[1]["cpu_stats"]);
    // A second stream that the client drops: berthd carries on.
    let mut dropped = UnixStream::connect(d.socket()).unwrap();
    dropped
        .write_all(b"GET /v1.47/containers/statme/stats HTTP/1.1\r\nHost: berth\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let _ = dropped.read(&mut buf).unwrap();
    drop(dropped);
    ok(d.docker(&["rm", "-f", "statme"]));
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "stream did not end");
        let mut buf = [0u8; 65536];
        match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.ends_with(b"0\r\n\r\n") {
                    break;
                }
            }
            Err(e) => panic!("stream did not end: {e}"),
        }
    }
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
    no_leaks(&d, &[id]);
}

#[test]
fn stats_and_top_of_a_stopped_container() {
    let Some((d, _dir)) = daemon_with_busybox("stats_and_top_of_a_stopped_container", &[]) else {
        return;
    };
    ok(d.docker(&["create", "--name", "idle", "busybox", "true"]));
    let s = cli_stats(&d, "idle");
    assert_eq!(s["CPUPerc"], "0.00%");
    assert_eq!(s["MemUsage"], "0B / 0B");
    assert_eq!(s["PIDs"], "0");
    let r = d.api("GET", "/v1.47/containers/idle/stats?stream=false", None);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["read"], "0001-01-01T00:00:00Z");
    assert_eq!(v["name"], "/idle");
    assert_eq!(v["memory_stats"], serde_json::json!({}));
    assert_eq!(v["pids_stats"], serde_json::json!({}));
    let err = fails(d.docker(&["top", "idle"]), 1);
    assert!(err.contains("is not running"), "{err}");
    let r = d.api("GET", "/v1.47/containers/nosuch/stats?stream=false", None);
    assert_eq!(r.status, 404);
    ok(d.docker(&["rm", "idle"]));
    no_leaks(&d, &[]);
}

#[test]
fn update_changes_limits_live_and_on_record() {
    let Some((d, _dir)) = daemon_with_busybox("update_changes_limits_live_and_on_record", &[])
    else {
        return;
    };
    let v2 = berth_testutil::cgroup_v2();
    let id = run(
        &d,
        &["--name", "upd", "-m", "64m", "busybox", "sleep", "1000"],
    );
    let (memory_file, pids_file) = if v2 {
        ("memory.max", "pids.max")
    } else {
        ("memory.limit_in_bytes", "pids.max")
    };
    assert_eq!(cgroup_file(&d, &id, memory_file), (64u64 << 20).to_string());

    assert_eq!(
        ok(d.docker(&["update", "-m", "128m", "--cpus", "0.5", "upd"])).trim(),
        "upd"
    );
    assert_eq!(
        inspect(&d, "upd", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}"),
        format!("{} 500000000", 128u64 << 20)
    );
    assert_eq!(
        cgroup_file(&d, &id, memory_file),
        (128u64 << 20).to_string()
    );
    if v2 {
        assert_eq!(cgroup_file(&d, &id, "cpu.max"), "50000 100000");
    } else {
        assert_eq!(cgroup_file(&d, &id, "cpu.cfs_quota_us"), "50000");
        assert_eq!(cgroup_file(&d, &id, "cpu.cfs_period_us"), "100000");
    }
    let s = cli_stats(&d, "upd");
    assert!(
        s["MemUsage"].as_str().unwrap().ends_with(" / 128MiB"),
        "{s}"
    );

    ok(d.docker(&["update", "--pids-limit", "50", "--cpu-shares", "512", "upd"]));
    assert_eq!(cgroup_file(&d, &id, pids_file), "50");
    if !v2 {
        assert_eq!(cgroup_file(&d, &id, "cpu.shares"), "512");
    }
    assert_eq!(
        inspect(
            &d,
            "upd",
            "{{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}}"
        ),
        "50 512"
    );
    let r = d.api(
        "GET",
        "/v1.47/containers/upd/stats?stream=false&one-shot=true",
        None,
    );
    assert_eq!(r.json()["pids_stats"]["limit"], 50);
    ok(d.docker(&["update", "--pids-limit", "-1", "upd"]));
    assert_eq!(cgroup_file(&d, &id, pids_file), "max");

    // dockerd's refusals; nothing changes.
    let err = fails(d.docker(&["update", "-m", "1m", "upd"]), 1);
    assert!(err.contains("Minimum memory limit allowed is 6MB"), "{err}");
    let err = fails(d.docker(&["update", "-m", "512m", "upd"]), 1);
    assert!(
        err.contains(&format!("Cannot update container {id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")),
        "{err}"
    );
    let err = fails(d.docker(&["update", "--memory-swap", "100m", "upd"]), 1);
    assert!(
        err.contains("Minimum memoryswap limit should be larger than memory limit"),
        "{err}"
    );
    let err = fails(d.docker(&["update", "--cpu-period", "50000", "upd"]), 1);
    assert!(
        err.contains("CPU Period cannot be updated as NanoCPUs has already been set"),
        "{err}"
    );
    // The cgroup refuses: the record is put back.
    let err = fails(d.docker(&["update", "--cpuset-cpus", "99", "upd"]), 1);
    assert!(
        err.contains(&format!("Cannot update container {id}: ")),
        "{err}"
    );
    assert_eq!(inspect(&d, "upd", "{{.HostConfig.CpusetCpus}}"), "");
    let err = fails(d.docker(&["update", "--restart", "bogus", "upd"]), 1);
    assert!(!err.is_empty());
    let err = fails(d.docker(&["update", "-m", "64m", "nosuch"]), 1);
    assert!(err.contains("No such container: nosuch"), "{err}");
    assert_eq!(
        cgroup_file(&d, &id, memory_file),
        (128u64 << 20).to_string()
    );
    assert_eq!(
        inspect(
            &d,
            "upd",
            "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}"
        ),
        format!("{} {}", 128u64 << 20, 128u64 << 20)
    );

    // Raising memory with its swap; the restart policy; both survive a restart.
    ok(d.docker(&[
        "update",
        "-m",
        "256m",
        "--memory-swap",
        "512m",
        "--restart",
        "on-failure:3",
        "upd",
    ]));
    assert_eq!(
        cgroup_file(&d, &id, memory_file),
        (256u64 << 20).to_string()
    );
    if !v2 {
        assert_eq!(
            cgroup_file(&d, &id, "memory.memsw.limit_in_bytes"),
            (512u64 << 20).to_string()
        );
    }
    ok(d.docker(&["restart", "-t", "0", "upd"]));
    assert_eq!(
        cgroup_file(&d, &id, memory_file),
        (256u64 << 20).to_string()
    );
    assert_eq!(
        inspect(
            &d,
            "upd",
            "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "on-failure:3"
    );

    // A stopped container takes the update at its next start.
    ok(d.docker(&["stop", "-t", "0", "upd"]));
    ok(d.docker(&["update", "-m", "96m", "upd"]));
    ok(d.docker(&["start", "upd"]));
    assert_eq!(cgroup_file(&d, &id, memory_file), (96u64 << 20).to_string());

    // `--rm` containers keep "no restart".
    let rm_id = run(&d, &["--rm", "--name", "gone", "busybox", "sleep", "1000"]);
    let err = fails(d.docker(&["update", "--restart", "always", "gone"]), 1);
    assert!(
        err.contains(
            "Restart policy cannot be updated because AutoRemove is enabled for the container"
        ),
        "{err}"
    );
    ok(d.docker(&["rm", "-f", "upd", "gone"]));
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
    no_leaks(&d, &[id, rm_id]);
}

/// The keys of a JSON object, recursively (`a.b.c`); arrays are leaves
/// (whether a counter list has entries depends on the run).
fn key_paths(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    if let serde_json::Value::Object(m) = v {
        for (k, x) in m {
            let p = format!("{prefix}.{k}");
            out.push(p.clone());
            key_paths(x, &p, out);
        }
    }
}

#[test]
fn top_stats_and_update_answer_as_dockerd_does() {
    const TEST: &str = "top_stats_and_update_answer_as_dockerd_does";
    let Some((d, dir)) = daemon_with_busybox(TEST, &[]) else {
        return;
    };
    let Some(mut reference) = berth_testutil::dockerd::Dockerd::start(TEST, &[]) else {
        return;
    };
    let on_dockerd = |args: &[&str]| {
        reference
            .docker(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap()
    };
    let tar = dir.path().join("busybox.tar");
    ok(on_dockerd(&[
        "import",
        tar.to_str().unwrap(),
        "busybox:latest",
    ]));
    let both = |args: &[&str]| -> [std::process::Output; 2] { [d.docker(args), on_dockerd(args)] };
    let ids: Vec<String> = both(&[
        "run",
        "-d",
        "--name",
        "vs",
        "--network",
        "none",
        "-m",
        "64m",
        "busybox",
        "sh",
        "-c",
        "sleep 1000 & sleep 1000 & wait",
    ])
    .into_iter()
    .map(|o| ok(o).trim().to_string())
    .collect();
    let unify = |s: &str, i: usize| s.replace(&ids[i], "<id>");
    wait_for("vs's two sleeps on berthd", || {
        top_shows(|a| d.docker(a), "vs", 3)
    });
    wait_for("vs's two sleeps on dockerd", || {
        top_shows(on_dockerd, "vs", 3)
    });

    // top: same titles, same commands (pids differ).
    let tops: Vec<Vec<Vec<String>>> = both(&["top", "vs", "-o", "pid,comm,args"])
        .into_iter()
        .map(|o| {
            ok(o)
                .lines()
                .map(|l| l.split_whitespace().skip(1).map(str::to_string).collect())
                .collect()
        })
        .collect();
    assert_eq!(tops[0], tops[1], "berthd vs dockerd top");
    let heads: Vec<String> = both(&["top", "vs"])
        .into_iter()
        .map(|o| ok(o).lines().next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(heads[0], heads[1]);

    // stats: the same keys, the same limit and pid count.
    let stats: Vec<serde_json::Value> =
        both(&["stats", "--no-stream", "--format", "{{json .}}", "vs"])
            .into_iter()
            .map(|o| serde_json::from_str(ok(o).trim()).unwrap())
            .collect();
    for k in ["Name", "PIDs", "NetIO"] {
        assert_eq!(stats[0][k], stats[1][k], "{k}: {stats:?}");
    }
    let limit = |s: &serde_json::Value| {
        s["MemUsage"]
            .as_str()
            .unwrap()
            .split(" / ")
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(limit(&stats[0]), limit(&stats[1]));
    let berth_body = d
        .api("GET", "/v1.41/containers/vs/stats?stream=false", None)
        .json();
    let out = on_dockerd(&["version", "-f", "{{.Server.APIVersion}}"]);
    assert!(ok(out).starts_with("1.41"));
    let socket = reference.socket();
    let mut s = UnixStream::connect(&socket).unwrap();
    let docker_body = berth_testutil::berthd::http_request(
        &mut s,
        "GET",
        "/v1.41/containers/vs/stats?stream=false",
        &[],
        None,
    )
    .unwrap()
    .json();
    let (mut bk, mut dk) = (Vec::new(), Vec::new());
    key_paths(&berth_body, "", &mut bk);
    key_paths(&docker_body, "", &mut dk);
    assert_eq!(
        bk, dk,
        "stats keys:\nberthd {berth_body}\ndockerd {docker_body}"
    );
    assert_eq!(
        berth_body["memory_stats"]["limit"],
        docker_body["memory_stats"]["limit"]
    );
    assert_eq!(berth_body["pids_stats"], docker_body["pids_stats"]);

    // update: the same refusals, the same recorded values.
    for args in [
        &["update", "-m", "1m", "vs"][..],
        &["update", "-m", "512m", "vs"],
        &["update", "--cpus", "1000", "vs"],
    ] {
        let [b, r] = both(args);
        assert_eq!(
            (
                b.status.code(),
                unify(&String::from_utf8_lossy(&b.stderr), 0)
            ),
            (
                r.status.code(),
                unify(&String::from_utf8_lossy(&r.stderr), 1)
            ),
            "{args:?}"
        );
    }
    // Bad restart policies: refused by both; berthd words them as current
    // moby does ("invalid restart policy: …"), dockerd 20.10 did not.
    for args in [
        &["update", "--restart", "on-failure:-1", "vs"][..],
        &["update", "--restart", "always:3", "vs"],
    ] {
        let [b, r] = both(args);
        assert_eq!(b.status.code(), r.status.code(), "{args:?}");
        let err = String::from_utf8_lossy(&b.stderr);
        assert!(err.contains("invalid restart policy: "), "{err}");
    }
    // Negative CPU shares: dockerd 20.10 hands them to runc as a huge
    // number (runc's error); berthd refuses them as create does.
    let [b, r] = both(&["update", "--cpu-shares", "-5", "vs"]);
    assert_eq!(b.status.code(), r.status.code());
    assert!(
        String::from_utf8_lossy(&b.stderr)
            .contains("invalid CPU shares: must be a positive integer")
    );
    // Memory+swap below memory: dockerd passes runc's write error on;
    // berthd says which rule it breaks. Same code, same prefix.
    let [b, r] = both(&["update", "--memory-swap", "32m", "vs"]);
    assert_eq!(b.status.code(), r.status.code());
    for (i, o) in [&b, &r].into_iter().enumerate() {
        let err = unify(&String::from_utf8_lossy(&o.stderr), i);
        assert!(
            err.starts_with("Error response from daemon: Cannot update container <id>: "),
            "{err}"
        );
    }
    assert!(
        String::from_utf8_lossy(&b.stderr)
            .contains("Minimum memoryswap limit should be larger than memory limit")
    );
    for args in [
        &["update", "-m", "128m", "--cpus", "0.5", "vs"][..],
        &[
            "update",
            "--pids-limit",
            "50",
            "--restart",
            "unless-stopped",
            "vs",
        ],
        &["update", "--cpu-period", "50000", "vs"],
        &["update", "--memory-swap", "-1", "-m", "96m", "vs"],
        &["update", "--pids-limit", "-1", "vs"],
    ] {
        let [b, r] = both(args);
        assert_eq!(
            (
                b.status.code(),
                unify(&String::from_utf8_lossy(&b.stderr), 0)
            ),
            (
                r.status.code(),
                unify(&String::from_utf8_lossy(&r.stderr), 1)
            ),
            "{args:?}"
        );
        let f = "{{json .HostConfig.Memory}} {{json .HostConfig.MemorySwap}} {{json .HostConfig.NanoCpus}} {{json .HostConfig.CpuPeriod}} {{json .HostConfig.RestartPolicy}}";
        let [bi, ri] = both(&["inspect", "-f", f, "vs"]);
        assert_eq!(ok(bi), ok(ri), "after {args:?}");
        // PidsLimit once an update set it (before that berthd shows 0
        // where dockerd 20.10 shows null: a create-side difference).
        if args.contains(&"--pids-limit") {
            let f = "{{json .HostConfig.PidsLimit}}";
            let [bi, ri] = both(&["inspect", "-f", f, "vs"]);
            assert_eq!(ok(bi), ok(ri), "PidsLimit after {args:?}");
        }
    }

    // Stopped: zeroed stats and the same refusal of top.
    both(&["stop", "-t", "0", "vs"]).into_iter().for_each(|o| {
        ok(o);
    });
    let [b, r] = both(&["top", "vs"]);
    assert_eq!(
        (
            b.status.code(),
            unify(&String::from_utf8_lossy(&b.stderr), 0)
        ),
        (
            r.status.code(),
            unify(&String::from_utf8_lossy(&r.stderr), 1)
        )
    );
    let zeroed: Vec<String> = both(&["stats", "--no-stream", "--format", "{{json .}}", "vs"])
        .into_iter()
        .enumerate()
        .map(|(i, o)| unify(&ok(o), i).replace(&ids[i][..12], "<id>"))
        .collect();
    assert_eq!(zeroed[0], zeroed[1]);

    both(&["rm", "-f", "vs"]).into_iter().for_each(|o| {
        ok(o);
    });
    let leaks = reference.shutdown();
    assert!(leaks.is_empty(), "dockerd left: {leaks:?}");
    no_leaks(&d, &ids[..1]);
}
