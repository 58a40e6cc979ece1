//! Helpers shared by the privileged integration tests: root check, unique cgroup names, a
//! guard that destroys the cgroup and fails the test if anything is left, and child processes
//! that wait on stdin until released (so they can be moved into a cgroup before they act).

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth_cgroups::{CgroupMode, CgroupVersion, Manager};

/// True when running as root; otherwise prints a loud SKIP line naming the test.
pub fn root_or_skip(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        true
    } else {
        eprintln!("SKIP: {test}: needs root to create cgroups");
        false
    }
}

/// A unique absolute cgroups path `/berth-test-<pid>-<n>[-suffix]`.
pub fn unique_path(suffix: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let mut s = format!("/berth-test-{}-{n}", std::process::id());
    if !suffix.is_empty() {
        s.push('-');
        s.push_str(suffix);
    }
    PathBuf::from(s)
}

/// Every cgroup mount point (v1 and v2) of this mount namespace.
pub fn cgroup_mountpoints() -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
    text.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let fstype = post.split(' ').next()?;
            if fstype != "cgroup" && fstype != "cgroup2" {
                return None;
            }
            Some(PathBuf::from(pre.split(' ').nth(4)?))
        })
        .collect()
}

/// The directory of the container's cgroup in the hierarchy carrying `controller` (v2: the
/// single directory; `"unified"`: the cgroup2 directory of a hybrid host).
pub fn dir_of(m: &Manager, controller: &str) -> Option<PathBuf> {
    let st = m.state();
    st.hierarchies
        .iter()
        .find(|h| match h.version {
            CgroupVersion::V2 => st.mode == CgroupMode::Unified || controller == "unified",
            CgroupVersion::V1 => h.controllers.iter().any(|c| c == controller),
        })
        .map(|h| h.path.clone())
}

pub fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.join(file).display()))
        .trim()
        .to_owned()
}

/// Destroys the manager's cgroup when dropped and fails the test if any of its directories is
/// left in any hierarchy.
pub struct Guard {
    pub m: Manager,
    pub children: Vec<Child>,
}

impl Guard {
    pub fn new(m: Manager) -> Self {
        Guard {
            m,
            children: Vec::new(),
        }
    }

    /// Kill (by pid) and reap every child this test started.
    pub fn reap_children(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.children.clear();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.reap_children();
        let res = self.m.destroy();
        let left: Vec<PathBuf> = self
            .m
            .paths()
            .into_iter()
            .map(Path::to_path_buf)
            .filter(|p| p.exists())
            .collect();
        if std::thread::panicking() {
            if res.is_err() || !left.is_empty() {
                eprintln!("cleanup after failed test also failed: {res:?}, left {left:?}");
            }
            return;
        }
        if let Err(e) = res {
            panic!("destroy failed: {e}");
        }
        assert!(left.is_empty(), "cgroup directories left behind: {left:?}");
        let mountpoints = cgroup_mountpoints();
        for h in self.m.state().hierarchies {
            for c in &h.created {
                assert!(
                    !c.exists(),
                    "created directory left behind: {}",
                    c.display()
                );
            }
            // And nothing of this test's top-level directory in any hierarchy (v1, v2, unified).
            let rel = h.path.strip_prefix(&h.mountpoint).unwrap_or(Path::new(""));
            if let Some(top) = rel.components().next() {
                let top = top.as_os_str().to_string_lossy();
                if top.starts_with("berth-test-") {
                    for mp in &mountpoints {
                        assert!(
                            !mp.join(&*top).exists(),
                            "left behind: {}",
                            mp.join(&*top).display()
                        );
                    }
                }
            }
        }
    }
}

/// A child process blocked in `read` on its stdin until [`Blocked::release`], then running
/// `script` with `sh`. Its stdout is captured. Killed (by pid) and reaped when dropped.
pub struct Blocked {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    pid: i32,
}

impl Blocked {
    pub fn spawn(script: &str) -> Blocked {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("read _go; {script}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let stdin = child.stdin.take();
        let pid = i32::try_from(child.id()).expect("pid fits i32");
        Blocked {
            child: Some(child),
            stdin,
            pid,
        }
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn release(&mut self) {
        let mut s = self.stdin.take().expect("released twice");
        writeln!(s, "go").expect("write to child");
    }

    /// Wait for exit.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child
            .as_mut()
            .expect("child")
            .wait()
            .expect("wait child")
    }

    /// Release (if not yet), wait for exit, return the status and stdout.
    pub fn finish(mut self) -> (std::process::ExitStatus, String) {
        if self.stdin.is_some() {
            self.release();
        }
        let out = self
            .child
            .take()
            .expect("child")
            .wait_with_output()
            .expect("wait child");
        (
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// Release, wait for exit, return stdout.
    pub fn run(self) -> String {
        self.finish().1
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Poll `f` until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    f()
}
