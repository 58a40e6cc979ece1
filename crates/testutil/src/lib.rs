//! Test fixtures shared by Berth's integration tests: OCI bundles made at
//! test time from Debian's `busybox-static` (never a committed binary),
//! unique names with the `berth` prefix, and the root check every
//! privileged test starts with.

#![forbid(unsafe_code)]

pub mod berthd;
pub mod dockerd;
pub mod images;
pub mod registry;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

/// Where `busybox-static` installs its binary.
pub const BUSYBOX: &str = "/bin/busybox";

/// True when running as root. Otherwise prints a loud SKIP line naming the
/// test, so a skipped privileged test is never mistaken for a pass.
pub fn require_root(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    eprintln!("SKIP: {test}: needs root (namespaces, mounts, cgroups); run the suite as root");
    false
}

/// Is the host on cgroup v2 only (the VM lane)?
pub fn cgroup_v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// A name unique to this process and call: `berth-<tag>-<pid>-<n>`.
pub fn unique(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "berth-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An OCI bundle in a temporary directory: a busybox root filesystem and a
/// `config.json` the test edits as JSON.
#[derive(Debug)]
pub struct Bundle {
    dir: tempfile::TempDir,
    /// The configuration; written by [`Bundle::save`].
    pub config: Value,
}

impl Bundle {
    /// A busybox bundle whose process runs `args`, with runc's default
    /// namespaces, mounts and masked paths, no terminal, and the cgroup
    /// `/berth-test-…` (a unique path, so parallel tests never share one).
    pub fn busybox(args: &[&str]) -> Bundle {
        let dir = tempfile::Builder::new()
            .prefix("berth-bundle-")
            .tempdir()
            .expect("create a temporary bundle directory");
        make_rootfs(&dir.path().join("rootfs"));
        let config = default_config(args, &unique("test"));
        let b = Bundle { dir, config };
        b.save();
        b
    }

    /// The bundle directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The root filesystem.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }

    /// Write `config.json`.
    pub fn save(&self) {
        std::fs::write(
            self.dir.path().join("config.json"),
            serde_json::to_vec_pretty(&self.config).expect("serialize config"),
        )
        .expect("write config.json");
    }

    /// Edit the config and save it.
    pub fn edit(&mut self, f: impl FnOnce(&mut Value)) -> &mut Bundle {
        f(&mut self.config);
        self.save();
        self
    }

    /// The cgroup path the config uses.
    pub fn cgroups_path(&self) -> String {
        self.config["linux"]["cgroupsPath"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// `rootfs` as a tarball at `tar` (for `docker import`).
pub fn tar_rootfs(rootfs: &Path, tar: &Path) {
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .arg("-cf")
        .arg(tar)
        .arg(".")
        .status()
        .expect("run tar");
    assert!(status.success(), "tar of {}", rootfs.display());
}

/// A busybox root filesystem ([`make_rootfs`]) made in `dir` and packed as
/// `dir/busybox.tar`, which is returned.
pub fn busybox_tarball(dir: &Path) -> std::path::PathBuf {
    let rootfs = dir.join("rootfs");
    make_rootfs(&rootfs);
    let tar = dir.join("busybox.tar");
    tar_rootfs(&rootfs, &tar);
    tar
}

/// A busybox root filesystem at `root`: the static binary, a symlink per
/// applet, and the files a shell expects.
pub fn make_rootfs(root: &Path) {
    assert!(
        Path::new(BUSYBOX).exists(),
        "{BUSYBOX} is missing: install Debian's busybox-static (the test command does)"
    );
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home",
        "var",
    ] {
        std::fs::create_dir_all(root.join(d)).expect("create rootfs directories");
    }
    std::fs::copy(BUSYBOX, root.join("bin/busybox")).expect("copy busybox");
    let list = std::process::Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let link = root.join("bin").join(applet);
        if applet != "busybox" && !link.exists() {
            std::os::unix::fs::symlink("busybox", &link).expect("applet symlink");
        }
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .expect("write passwd");
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
    )
    .expect("write group");
    let tmp = root.join("tmp");
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o1777))
        .expect("chmod /tmp");
}

/// runc's default configuration (as `runc spec` writes it), adjusted for
/// tests: no terminal, a unique cgroup, and `args`.
pub fn default_config(args: &[&str], cgroup: &str) -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.2.0",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "ambient": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "berth-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "cgroupsPath": format!("/{cgroup}"),
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// Directories named `name` under any cgroup hierarchy (to prove cleanup).
pub fn cgroup_dirs_named(name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut roots = vec![PathBuf::from("/sys/fs/cgroup")];
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        for e in rd.flatten() {
            if e.path().is_dir() && !cgroup_v2() {
                roots.push(e.path());
            }
        }
    }
    for r in roots {
        let p = r.join(name.trim_start_matches('/'));
        if p.exists() {
            found.push(p);
        }
    }
    found
}

/// Mount points whose path contains `needle` (to prove cleanup).
pub fn mounts_containing(needle: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.contains(needle))
        .map(str::to_string)
        .collect()
}

/// The network interfaces of the caller's network namespace, by name.
/// Read from `/proc/self/net/dev`, which follows the reader's namespace
/// (`/sys/class/net` follows the namespace sysfs was mounted in, so it
/// shows the host's interfaces to a process in a private one).
pub fn net_links() -> Vec<String> {
    std::fs::read_to_string("/proc/self/net/dev")
        .unwrap_or_default()
        .lines()
        .skip(2)
        .filter_map(|l| Some(l.split_once(':')?.0.trim().to_string()))
        .collect()
}

/// Files under `dir` (recursively, symbolic links not followed), to prove a store is empty or
/// find what it holds.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The processes whose command line (arguments joined by spaces) contains `needle`, read from
/// /proc (no procps needed, as in the VM lane).
pub fn processes_with(needle: &str) -> Vec<u32> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline)
                .replace('\0', " ")
                .contains(needle)
        })
        .collect()
}
