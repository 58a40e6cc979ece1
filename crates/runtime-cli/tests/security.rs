//! Regression tests for the runc escapes, tried against berth-runtime:
//! CVE-2019-5736 (overwriting the runtime binary through /proc/<pid>/exe)
//! and CVE-2024-21626 (a leaked descriptor or a cwd outside the rootfs).

mod util;

use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;

use util::*;

/// The exploit's last step is opening the runtime's executable for writing
/// through /proc/<pid>/exe of a process that runs it, once no process runs
/// it any more (until then the kernel answers ETXTBSY, sealed or not). The
/// file a container could reach must therefore be unwritable for good: on a
/// read-only mount (the private overlay) or a write-sealed memfd.
fn assert_exe_unwritable(pid: i64, what: &str) {
    let exe = format!("/proc/{pid}/exe");
    let st =
        rustix::fs::statvfs(exe.as_str()).unwrap_or_else(|e| panic!("{what}: statvfs {exe}: {e}"));
    let read_only = st.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY);
    let sealed = std::fs::File::open(&exe)
        .ok()
        .and_then(|f| rustix::fs::fcntl_get_seals(&f).ok())
        .is_some_and(|s| s.contains(rustix::fs::SealFlags::WRITE));
    assert!(
        read_only || sealed,
        "{what}: {exe} -> {:?} is writable (neither on a read-only mount nor a sealed memfd)",
        std::fs::read_link(&exe)
    );
    // And the write is refused now too.
    let err = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&exe)
        .expect_err(&format!("{what}: {exe} opened for writing"));
    assert_ne!(err.kind(), ErrorKind::NotFound, "{what}: {err}");
}

/// The processes whose pid namespace is `ns` (a /proc/<pid>/ns/pid link).
fn processes_in_pid_ns(ns: &std::path::Path) -> Vec<i64> {
    let want = std::fs::read_link(ns).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i64>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/ns/pid"))
                .ok()
                .as_ref()
                == Some(&want)
        })
        .collect()
}

#[test]
fn cve_2019_5736_runtime_binary_is_sealed_where_container_processes_can_see_it() {
    if !require_root("cve_2019_5736_runtime_binary_is_sealed_where_container_processes_can_see_it")
    {
        return;
    }
    let rt = Runtime::new();
    // A new pid namespace: the created init (a clone of the runtime) is
    // alone in it, so no container process can reach its executable; this
    // is why create/run skip sealing then (berth_runtime::exeseal).
    let b = Bundle::busybox(&["sleep", "1000"]);
    rt.create(&b, "alone");
    let init = rt.state("alone")["pid"].as_i64().unwrap();
    let ns = std::path::PathBuf::from(format!("/proc/{init}/ns/pid"));
    assert_eq!(
        processes_in_pid_ns(&ns),
        vec![init],
        "the created init is not alone in its pid namespace"
    );
    rt.ok(&["start", "alone"]);
    // An init that joins that (now populated) pid namespace runs from the
    // sealed binary until it executes its program.
    let mut b2 = Bundle::busybox(&["sleep", "1000"]);
    b2.edit(|c| {
        for n in c["linux"]["namespaces"].as_array_mut().unwrap() {
            if n["type"] == "pid" {
                n["path"] = format!("/proc/{init}/ns/pid").into();
            }
        }
    });
    rt.create(&b2, "joiner");
    let joiner = rt.state("joiner")["pid"].as_i64().unwrap();
    assert_exe_unwritable(joiner, "created init joining a populated pid namespace");
    // `exec` puts a clone of the runtime into the container's pid namespace:
    // the exec command runs from the sealed binary.
    let mut exec = rt
        .cmd()
        .args(["exec", "alone", "sleep", "2"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // alone's init, the joiner's init, then the exec'd process.
    wait_for("the exec'd sleep", || processes_in_pid_ns(&ns).len() >= 3);
    assert_exe_unwritable(exec.id() as i64, "foreground `exec`");
    exec.wait().unwrap();
    rt.ok(&["delete", "--force", "joiner"]);
    rt.ok(&["delete", "--force", "alone"]);
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
