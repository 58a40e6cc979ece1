//! `berth-bench runtime` end to end, as root, against the real kernel and
//! the real runtimes: a short benchmark of runc (and berth-runtime when it
//! is built) prints the table and leaves nothing behind; a runtime that
//! cannot run a container is skipped with its own words as the reason; the
//! profile prints strace's summary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BENCH: &str = env!("CARGO_BIN_EXE_berth-bench");

/// One benchmark at a time: they share the cgroup parents and /tmp, which
/// the tests inspect for leftovers.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
const RUNC: &str = "/usr/sbin/runc";

fn berth_runtime() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/berth-runtime");
    p.exists().then_some(p)
}

fn bench(args: &[&str]) -> Output {
    let out = Command::new(BENCH)
        .arg("runtime")
        .args(args)
        .output()
        .expect("run berth-bench");
    eprintln!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `berth-bench-<runtime>` cgroup parents in any hierarchy.
fn cgroup_parents(runtime: &str) -> Vec<PathBuf> {
    berth_testutil::cgroup_dirs_named(&format!("berth-bench-{runtime}"))
}

#[test]
fn a_short_benchmark_prints_the_table_and_leaves_nothing() {
    let _serial = serial();
    if !berth_testutil::require_root("a_short_benchmark_prints_the_table_and_leaves_nothing") {
        return;
    }
    if !Path::new(RUNC).exists() {
        eprintln!("SKIP: a_short_benchmark_prints_the_table_and_leaves_nothing: {RUNC} missing");
        return;
    }
    let before: Vec<PathBuf> = scratch_dirs();
    let mut args = vec!["--runs", "3", "--warmup", "1", "--runtime", RUNC];
    let berth = berth_runtime();
    let berth_str = berth.as_ref().map(|p| p.to_string_lossy().into_owned());
    if let Some(b) = &berth_str {
        args.extend(["--runtime", b]);
    } else {
        eprintln!("NOTE: target/release/berth-runtime is not built; measuring runc alone");
    }
    let out = bench(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {}", out.status);
    assert!(!stderr.contains("LEFTOVERS"));

    let row = |scenario: &str, subject: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {scenario} | {subject} |")))
            .unwrap_or_else(|| panic!("no row for {scenario} {subject}"))
            .to_string()
    };
    let runc_run = row("run", "runc");
    assert!(runc_run.contains("| 3 |"), "{runc_run}");
    assert!(runc_run.contains("| 1.00× |"), "{runc_run}");
    row("create/start/wait/delete", "runc");
    row("floor", "busybox true");
    row(
        "floor",
        "unshare --pid --fork --mount --uts --ipc --net true",
    );
    if berth.is_some() {
        row("run", "berth-runtime");
        assert!(stdout.contains("Goal: berth-runtime"));
    }
    assert!(stdout.contains("- cgroups: "));
    assert!(stdout.contains("Load average: "));

    for rt in ["runc", "berth-runtime"] {
        let left = cgroup_parents(rt);
        assert!(left.is_empty(), "cgroups left: {left:?}");
    }
    let new: Vec<PathBuf> = scratch_dirs()
        .into_iter()
        .filter(|d| !before.contains(d))
        .collect();
    assert!(new.is_empty(), "scratch directories left: {new:?}");
}

#[test]
fn a_runtime_that_cannot_run_a_container_is_skipped_with_its_reason() {
    let _serial = serial();
    if !berth_testutil::require_root(
        "a_runtime_that_cannot_run_a_container_is_skipped_with_its_reason",
    ) {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-bench-test-")
        .tempdir()
        .unwrap();
    let fake = dir.path().join("fakert");
    std::fs::write(
        &fake,
        "#!/bin/sh\ncase \"$*\" in\n*--version*) echo 'fakert version 0.0';;\n\
         *) echo 'this host is not supported (hybrid cgroups)' >&2; exit 1;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let missing = dir.path().join("no-such-runtime");

    let out = bench(&[
        "--runs",
        "1",
        "--runtime",
        &fake.to_string_lossy(),
        "--runtime",
        &missing.to_string_lossy(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "no runtime usable must fail");
    assert!(
        stdout.contains(
            "- SKIPPED fakert (") && stdout.contains(
            "fakert version 0.0): cannot run a container on this host: `run` failed (exit status: 1): this host is not supported (hybrid cgroups)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("no-such-runtime does not exist"),
        "{stdout}"
    );
    assert!(stderr.contains("no runtime can run a container on this host"));
    assert!(cgroup_parents("fakert").is_empty());
}

#[test]
fn the_profile_prints_the_top_system_calls() {
    let _serial = serial();
    if !berth_testutil::require_root("the_profile_prints_the_top_system_calls") {
        return;
    }
    if !Path::new("/usr/bin/strace").exists() || !Path::new(RUNC).exists() {
        eprintln!("SKIP: the_profile_prints_the_top_system_calls: strace or runc missing");
        return;
    }
    let out = bench(&["--profile", "--runtime", RUNC]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {}", out.status);
    assert!(
        stdout.contains("by wall-clock time in each call (-w)"),
        "{stdout}"
    );
    assert!(stdout.contains("by system CPU time"), "{stdout}");
    assert_eq!(stdout.matches("% time").count(), 2);
    assert_eq!(stdout.matches(" total\n").count(), 2);
    assert!(cgroup_parents("runc").is_empty());
}

/// /tmp/berth-bench-* directories.
fn scratch_dirs() -> Vec<PathBuf> {
    std::fs::read_dir("/tmp")
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.starts_with("berth-bench-") && !n.starts_with("berth-bench-test-")
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_runtime_that_leaves_its_container_behind_fails_the_benchmark_loudly() {
    let _serial = serial();
    if !berth_testutil::require_root(
        "a_runtime_that_leaves_its_container_behind_fails_the_benchmark_loudly",
    ) {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-bench-test-")
        .tempdir()
        .unwrap();
    // "Runs" a container by making its state directory and (on v1) its pids
    // cgroup, and never removes either.
    let leaky = dir.path().join("leaky");
    std::fs::write(
        &leaky,
        "#!/bin/sh\n\
         if [ \"$1\" = --version ]; then echo 'leaky version 0.0'; exit 0; fi\n\
         root=$2; cmd=$3; eval id=\\${$#}\n\
         case \"$cmd\" in\n\
         run) mkdir -p \"$root/$id\"\n\
              if [ -d /sys/fs/cgroup/pids ]; then mkdir -p /sys/fs/cgroup/pids/berth-bench-leaky/\"$id\"; fi\n\
              exit 0;;\n\
         delete) exit 0;;\n\
         esac\n\
         exit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&leaky, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let out = bench(&["--runs", "2", "--runtime", &leaky.to_string_lossy()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit {}", out.status);
    assert!(
        stderr.contains("LEAK: leaky left container berth-bench-"),
        "{stderr}"
    );
    assert!(stderr.contains("!!! LEFTOVERS"), "{stderr}");
    assert!(
        stderr.contains("leaky left container state /tmp/berth-bench-"),
        "{stderr}"
    );
    if Path::new("/sys/fs/cgroup/pids").exists() {
        assert!(
            stderr.contains("leaky left cgroup /sys/fs/cgroup/pids/berth-bench-leaky/"),
            "{stderr}"
        );
    }
    // …and the benchmark removed them.
    assert!(cgroup_parents("leaky").is_empty());
}
