//! Fixtures for the shim's tests: a busybox bundle, a state directory and a
//! runtime root in temporary directories, and a guard that kills whatever
//! a failed test left (the shim by its pid file, the container through the
//! runtime) and proves nothing leaked.

#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

use berth_shim::{Client, LogSpec, ShimSpec};
use berth_testutil::Bundle;

/// The shim binary under test (`BERTH_SHIM_BIN` overrides it, e.g. with a
/// release build for the memory figures).
pub fn shim_bin() -> PathBuf {
    std::env::var_os("BERTH_SHIM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_berth-shim")))
}

pub struct Fixture {
    pub bundle: Bundle,
    pub dirs: tempfile::TempDir,
    pub spec: ShimSpec,
    pub cgroup: String,
}

impl Fixture {
    pub fn new(args: &[&str]) -> Fixture {
        let bundle = Bundle::busybox(args);
        let dirs = tempfile::Builder::new()
            .prefix("berth-shim-test-")
            .tempdir()
            .expect("tempdir");
        let id = berth_testutil::unique("shim");
        let cgroup = bundle.cgroups_path();
        let spec = ShimSpec {
            id,
            bundle: bundle.path().to_path_buf(),
            runtime_root: dirs.path().join("runtime"),
            state_dir: dirs.path().join("state"),
            log: Some(LogSpec {
                path: dirs.path().join("state/container.log"),
                max_size: None,
                max_file: 1,
            }),
            tty: false,
            open_stdin: false,
            stdin_once: false,
        };
        Fixture {
            bundle,
            dirs,
            spec,
            cgroup,
        }
    }

    pub fn tty(mut self) -> Fixture {
        self.spec.tty = true;
        self.bundle.edit(|c| c["process"]["terminal"] = true.into());
        self
    }

    pub fn spawn(&self) -> Client {
        berth_shim::spawn(&shim_bin(), &self.spec).expect("spawn the shim")
    }

    pub fn log_path(&self) -> PathBuf {
        self.spec.log.as_ref().unwrap().path.clone()
    }

    pub fn shim_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.spec.state_dir.join("shim.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Wait until the shim process is gone (it exits by itself).
    pub fn wait_shim_gone(&self, pid: i32) {
        for _ in 0..500 {
            if !alive(pid) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the shim {pid} did not exit");
    }

    /// Nothing of the container is left.
    pub fn assert_no_leaks(&self) {
        let id = &self.spec.id;
        assert!(
            berth_testutil::cgroup_dirs_named(&self.cgroup).is_empty(),
            "cgroup left: {:?}",
            berth_testutil::cgroup_dirs_named(&self.cgroup)
        );
        assert!(
            berth_testutil::mounts_containing(id).is_empty(),
            "mounts left"
        );
        assert!(
            !self.spec.runtime_root.join(id).exists(),
            "runtime state left"
        );
        assert!(!self.spec.state_dir.join("shim.sock").exists());
    }
}

pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(pid) = self.shim_pid()
            && alive(pid)
            && std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.contains("berth-shim"))
        {
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_raw(pid).unwrap(),
                rustix::process::Signal::KILL,
            );
        }
        if let Ok(c) =
            berth_runtime::container::Container::load(&self.spec.runtime_root, &self.spec.id)
        {
            let _ = c.delete(true);
        }
    }
}

/// Split Docker's multiplexed stream into (stdout, stderr).
pub fn demux(mut b: &[u8]) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while b.len() >= 8 {
        let len = u32::from_be_bytes([b[4], b[5], b[6], b[7]]) as usize;
        assert_eq!(&b[1..4], &[0, 0, 0], "frame header");
        let payload = &b[8..8 + len];
        match b[0] {
            1 => out.extend_from_slice(payload),
            2 => err.extend_from_slice(payload),
            s => panic!("stream id {s}"),
        }
        b = &b[8 + len..];
    }
    assert!(b.is_empty(), "trailing bytes");
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

pub fn read_all(mut s: &std::os::unix::net::UnixStream) -> Vec<u8> {
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut v = Vec::new();
    s.read_to_end(&mut v).expect("read the stream to its end");
    v
}
