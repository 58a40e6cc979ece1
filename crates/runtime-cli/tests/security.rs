//! Regression tests for the runc escapes, tried against berth-runtime:
//! CVE-2019-5736 (overwriting the runtime binary through /proc/<pid>/exe)
//! and CVE-2024-21626 (a leaked descriptor or a cwd outside the rootfs).

mod util;

use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;

use util::*;

/// The exploit's last step is opening the runtime's executable for writing
/// through /proc/<pid>/exe of a process that runs it. For every such process
/// a container could see (the created init, a foreground runtime), that
/// open must fail because the file cannot be written at all (read-only
/// overlay: EROFS; sealed memfd: EPERM) — not merely because it is busy.
fn assert_exe_unwritable(pid: i64, what: &str) {
    let exe = format!("/proc/{pid}/exe");
    let err = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&exe)
        .expect_err(&format!("{what}: {exe} must not open for writing"));
    let code = err.raw_os_error().unwrap_or_default();
    assert!(
        code == libc::EROFS || code == libc::EPERM,
        "{what}: opening {exe} for writing failed with {err} ({:?}), expected EROFS or EPERM (sealed binary)",
        err.kind()
    );
    assert_ne!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn cve_2019_5736_runtime_binary_is_sealed() {
    if !require_root("cve_2019_5736_runtime_binary_is_sealed") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["sleep", "1000"]);
    rt.create(&b, "seal");
    // The created init is a clone of the runtime: until start it executes
    // the runtime's code, visible to anything in its pid namespace.
    let init = rt.state("seal")["pid"].as_i64().unwrap();
    assert_exe_unwritable(init, "created container init");
    // A foreground runtime (`run`, `exec`) too.
    let b2 = Bundle::busybox(&["sleep", "1000"]);
    let mut run = rt
        .cmd()
        .args(["run", "--bundle", path(b2.path()), "seal-run"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("run to start", || {
        rt.output(&["state", "seal-run"]).status.success()
    });
    assert_exe_unwritable(run.id() as i64, "foreground `run`");
    rt.ok(&["kill", "seal-run", "KILL"]);
    run.wait().unwrap();
    rt.ok(&["delete", "--force", "seal"]);
    assert_clean(&b);
    assert_clean(&b2);
}

#[test]
fn cve_2024_21626_cwd_through_a_leaked_fd_is_refused() {
    if !require_root("cve_2024_21626_cwd_through_a_leaked_fd_is_refused") {
        return;
    }
    let rt = Runtime::new();
    // The attack sets process.cwd to /proc/self/fd/N hoping N is a host
    // directory the runtime left open; whatever N is, it must be refused.
    for n in 3..10 {
        let mut b = Bundle::busybox(&["sh", "-c", "pwd; ls /"]);
        b.edit(|c| c["process"]["cwd"] = format!("/proc/self/fd/{n}").into());
        let id = format!("cwd{n}");
        let (code, out, err) = rt.run(&b, &id);
        assert_ne!(code, 0, "cwd /proc/self/fd/{n} was accepted: {out}");
        assert!(err.contains("cwd"), "{err}");
        assert_clean(&b);
    }
}

/// The descriptor numbers in `ls -l /proc/<pid>/fd` output.
fn fd_numbers(ls: &str) -> Vec<String> {
    ls.lines()
        .filter(|l| l.contains(" -> "))
        .filter_map(|l| {
            l.split(" -> ")
                .next()?
                .split_whitespace()
                .last()
                .map(str::to_string)
        })
        .filter(|n| n.parse::<u32>().is_ok())
        .collect()
}

#[test]
fn cve_2024_21626_no_descriptor_leaks_into_the_container() {
    if !require_root("cve_2024_21626_no_descriptor_leaks_into_the_container") {
        return;
    }
    let rt = Runtime::new();
    // Every fd the container's first process has: only 0, 1, 2 (`ls` lists
    // the shell's descriptors, not its own; the trailing command keeps the
    // shell from exec'ing ls in its place).
    let b = Bundle::busybox(&["sh", "-c", "ls -l /proc/$$/fd; true"]);
    let out = rt.run_ok(&b, "fds");
    assert_eq!(
        fd_numbers(&out),
        ["0", "1", "2"],
        "descriptors in the container:\n{out}"
    );
    // Same for exec.
    let b = Bundle::busybox(&["sleep", "1000"]);
    rt.create(&b, "fdexec");
    rt.ok(&["start", "fdexec"]);
    let out = rt.ok(&["exec", "fdexec", "sh", "-c", "ls -l /proc/$$/fd; true"]);
    assert_eq!(
        fd_numbers(&out),
        ["0", "1", "2"],
        "descriptors in the exec'd process:\n{out}"
    );
    // And the exec'd process's cwd is inside the container.
    let cwd = rt.ok(&[
        "exec",
        "fdexec",
        "sh",
        "-c",
        "readlink /proc/self/cwd; ls /",
    ]);
    assert!(cwd.starts_with("/\n"), "{cwd}");
    assert!(cwd.contains("busybox") || cwd.contains("bin"), "{cwd}");
    rt.ok(&["delete", "--force", "fdexec"]);
    assert_clean(&b);
}
