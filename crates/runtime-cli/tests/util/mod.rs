//! Helpers for driving the `berth-runtime` binary: a private runtime root
//! per test, command runners, and a leak check when the test ends.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

// Each test binary uses a different subset of these.
#[allow(unused_imports)]
pub use berth_testutil::{Bundle, require_root, unique};
use serde_json::Value;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_berth-runtime"))
}

/// A runtime root of the test's own; on drop every container left in it is
/// force-deleted and the root must then be empty.
pub struct Runtime {
    pub root: tempfile::TempDir,
}

impl Runtime {
    pub fn new() -> Runtime {
        Runtime {
            root: tempfile::Builder::new()
                .prefix("berth-root-")
                .tempdir()
                .expect("runtime root"),
        }
    }

    /// `berth-runtime --root <root> <args>`.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin());
        c.arg("--root").arg(self.root.path());
        c
    }

    /// Run and return the output, whatever the status. Output goes
    /// through files, not pipes: a created container inherits the runtime's
    /// stdio and keeps it open long after the runtime exits.
    pub fn output(&self, args: &[&str]) -> Output {
        let mut out = tempfile::tempfile().expect("stdout file");
        let mut err = tempfile::tempfile().expect("stderr file");
        let status = self
            .cmd()
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(err.try_clone().expect("dup"))
            .status()
            .expect("spawn berth-runtime");
        let read = |f: &mut std::fs::File| {
            use std::io::{Read, Seek};
            let mut v = Vec::new();
            f.rewind().expect("rewind");
            f.read_to_end(&mut v).expect("read output");
            v
        };
        Output {
            status,
            stdout: read(&mut out),
            stderr: read(&mut err),
        }
    }

    /// Run, assert success, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "berth-runtime {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run, assert failure, return stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            !out.status.success(),
            "berth-runtime {args:?} succeeded but should have failed:\nstdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// `run` a bundle in the foreground; returns (exit code, stdout, stderr).
    pub fn run(&self, bundle: &Bundle, id: &str) -> (i32, String, String) {
        let out = self.output(&["run", "--bundle", path(bundle.path()), id]);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `run` that must exit 0; returns stdout.
    pub fn run_ok(&self, bundle: &Bundle, id: &str) -> String {
        let (code, out, err) = self.run(bundle, id);
        assert_eq!(
            code, 0,
            "container {id} exited {code}\nstdout: {out}\nstderr: {err}"
        );
        out
    }

    /// `state <id>` as JSON.
    pub fn state(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["state", id])).expect("state is JSON")
    }

    /// The status field of `state`.
    pub fn status(&self, id: &str) -> String {
        self.state(id)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// `create` a bundle (detached init waiting for start).
    pub fn create(&self, bundle: &Bundle, id: &str) {
        self.ok(&["create", "--bundle", path(bundle.path()), id]);
    }

    fn ids(&self) -> Vec<String> {
        std::fs::read_dir(self.root.path())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let leftovers = self.ids();
        for id in &leftovers {
            let _ = self.output(&["delete", "--force", id]);
        }
        let after = self.ids();
        if !std::thread::panicking() {
            assert!(
                after.is_empty(),
                "containers could not be deleted: {after:?}"
            );
            assert!(
                leftovers.is_empty(),
                "the test left containers behind (force-deleted now): {leftovers:?}"
            );
        }
    }
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Assert the bundle's cgroup and mounts are gone.
pub fn assert_clean(bundle: &Bundle) {
    let cg = bundle.cgroups_path();
    let dirs = berth_testutil::cgroup_dirs_named(&cg);
    assert!(dirs.is_empty(), "cgroup directories left behind: {dirs:?}");
    let mounts = berth_testutil::mounts_containing(path(bundle.path()));
    assert!(mounts.is_empty(), "mounts left behind: {mounts:?}");
}

/// Wait until `f` is true (up to 10 s).
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = std::time::Instant::now();
    while !f() {
        assert!(t0.elapsed().as_secs() < 10, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
