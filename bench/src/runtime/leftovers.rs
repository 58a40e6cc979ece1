//! Proving that each runtime cleaned up after itself, and cleaning up after
//! it when it did not — loudly.
//!
//! What the benchmark creates, and where:
//!
//! ```text
//! <scratch>/<runtime>/<id>/                      the runtime's state
//! /sys/fs/cgroup/<hierarchy>/berth-bench-<runtime>/<id>/
//!                                                the container's cgroup, in
//!                                                every v1 hierarchy and the
//!                                                cgroup2 one (or only
//!                                                /sys/fs/cgroup on v2)
//! children of the benchmark                      container inits reparented
//!                                                to it (it is a subreaper)
//! ```
//!
//! After every sample the container's state directory and cgroups must be
//! gone; a runtime that removes them late (within a grace period) is only
//! counted, one that does not remove them fails the benchmark. At the end,
//! [`clean_up`] deletes what is left (`delete --force`, SIGKILL to the
//! processes of a left cgroup, `rmdir`), removes the `berth-bench-<runtime>`
//! parents, and reports every leftover it found.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use rustix::process::{Pid, Signal, WaitOptions};

use super::under_test::RuntimeUnderTest;
use crate::spawn;

/// How long a runtime may take, after its command returned, for its
/// container's state and cgroups to disappear before that counts as a leak.
const GRACE: Duration = Duration::from_secs(1);

static LATE_REMOVALS: AtomicUsize = AtomicUsize::new(0);

/// How many containers were removed only after their runtime's command had
/// returned (within the grace period).
pub fn late_removals() -> usize {
    LATE_REMOVALS.load(Ordering::Relaxed)
}

/// The cgroup hierarchies of this host: `/sys/fs/cgroup` on v2, otherwise
/// each directory under it (the v1 controllers, name=systemd, and the
/// hybrid layout's `unified`).
pub fn cgroup_hierarchies() -> Vec<PathBuf> {
    let top = Path::new("/sys/fs/cgroup");
    if top.join("cgroup.controllers").exists() {
        return vec![top.to_path_buf()];
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(top)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// What of container `id` still exists: its state directory and its cgroup
/// directories.
fn remains_of(rt: &RuntimeUnderTest, id: &str) -> Vec<PathBuf> {
    let mut left = Vec::new();
    let state = rt.root.join(id);
    if state.exists() {
        left.push(state);
    }
    let cgroup = rt.cgroups_path(id);
    for h in cgroup_hierarchies() {
        let dir = h.join(cgroup.trim_start_matches('/'));
        if dir.exists() {
            left.push(dir);
        }
    }
    left
}

/// Fail unless container `id` of `rt` is gone (state directory and every
/// cgroup), allowing [`GRACE`] for asynchronous removal.
pub fn check_container_removed(rt: &RuntimeUnderTest, id: &str) -> anyhow::Result<()> {
    let mut left = remains_of(rt, id);
    if left.is_empty() {
        return Ok(());
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        left = remains_of(rt, id);
        if left.is_empty() {
            LATE_REMOVALS.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
    }
    let shown: Vec<String> = left.iter().map(|p| p.display().to_string()).collect();
    bail!(
        "LEAK: {} left container {id} behind after it said it was removed: {}",
        rt.name,
        shown.join(", ")
    )
}

/// Delete everything `rt` left behind and remove its cgroup parents.
/// Returns one line per leftover found or per thing that could not be
/// removed; empty when the runtime left nothing.
pub fn clean_up(rt: &RuntimeUnderTest, id_prefix: &str) -> Vec<String> {
    let mut problems = Vec::new();

    // Containers still in the runtime's state directory (other entries are
    // the runtime's own, such as berth-runtime's `.exeseal`; they go with
    // the scratch directory).
    if let Ok(rd) = std::fs::read_dir(&rt.root) {
        for entry in rd.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            if !id.starts_with(id_prefix) {
                continue;
            }
            problems.push(format!(
                "{} left container state {}",
                rt.name,
                entry.path().display()
            ));
            if let Ok(mut cmd) = rt.command(&["delete", "--force", &id]) {
                let _ = spawn::measure(&mut cmd);
            }
            if entry.path().exists() {
                problems.push(format!(
                    "{} delete --force {id} did not remove {}",
                    rt.name,
                    entry.path().display()
                ));
            }
        }
    }

    // Cgroups under berth-bench-<runtime> in every hierarchy.
    let parent = rt.cgroup_parent();
    for h in cgroup_hierarchies() {
        let dir = h.join(&parent);
        if !dir.exists() {
            continue;
        }
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for entry in rd.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !entry.file_type().is_ok_and(|t| t.is_dir()) || !name.starts_with(id_prefix) {
                    continue;
                }
                problems.push(format!(
                    "{} left cgroup {}",
                    rt.name,
                    entry.path().display()
                ));
                if let Err(e) = remove_cgroup_tree(&entry.path()) {
                    problems.push(e);
                }
            }
        }
        // Another benchmark may be using the same parent: leave it then.
        match std::fs::remove_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            Err(e) => problems.push(format!("remove {}: {e}", dir.display())),
        }
    }
    problems
}

/// Kill every process in the cgroup tree at `dir` (these are processes of a
/// container the benchmark created) and remove it, children first.
fn remove_cgroup_tree(dir: &Path) -> Result<(), String> {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for entry in rd.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_tree(&entry.path())?;
            }
        }
    }
    let procs = dir.join("cgroup.procs");
    let deadline = Instant::now() + GRACE;
    loop {
        let pids: Vec<i32> = std::fs::read_to_string(&procs)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if pids.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "processes {pids:?} in {} survive SIGKILL",
                dir.display()
            ));
        }
        for raw in pids {
            if let Some(pid) = Pid::from_raw(raw) {
                let _ = rustix::process::kill_process(pid, Signal::KILL);
            }
        }
        // Exited processes leave cgroup.procs even as zombies; they are
        // reaped at the end (kill_live_children, reap_children).
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::remove_dir(dir).map_err(|e| format!("remove {}: {e}", dir.display()))
}

/// Reap every child that has exited (inits reparented to us); returns how
/// many. Called between samples, when no measured command is running.
pub fn reap_children() -> usize {
    let mut n = 0;
    while let Ok(Some(_)) = rustix::process::waitpid(None, WaitOptions::NOHANG) {
        n += 1;
    }
    n
}

/// Children of ours still alive after the benchmark (orphaned container
/// processes): each is killed and reaped, and reported.
pub fn kill_live_children() -> Vec<String> {
    let me = std::process::id().to_string();
    let mut problems = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return problems;
    };
    for entry in rd.flatten() {
        let Ok(raw) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may hold spaces and parentheses.
        let Some(after_comm) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        let mut fields = after_comm.split_whitespace();
        let _state = fields.next();
        if fields.next() != Some(me.as_str()) {
            continue;
        }
        let comm = stat
            .split_once('(')
            .and_then(|(_, r)| r.rsplit_once(')'))
            .map_or("?", |(c, _)| c);
        problems.push(format!("process {raw} ({comm}) was left running; killed"));
        if let Some(pid) = Pid::from_raw(raw) {
            let _ = rustix::process::kill_process(pid, Signal::KILL);
        }
    }
    if !problems.is_empty() {
        std::thread::sleep(Duration::from_millis(50));
        reap_children();
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchies_are_found() {
        let h = cgroup_hierarchies();
        assert!(!h.is_empty());
        assert!(h.iter().all(|p| p.starts_with("/sys/fs/cgroup")));
    }

    #[test]
    fn a_left_cgroup_with_a_process_is_killed_and_removed() {
        if !berth_testutil::require_root("a_left_cgroup_with_a_process_is_killed_and_removed") {
            return;
        }
        // A leftover as a runtime would leave it: a cgroup with a live
        // process in it, in the pids hierarchy (v1) or the v2 root.
        let h = cgroup_hierarchies();
        let base = h
            .iter()
            .find(|p| p.ends_with("pids"))
            .cloned()
            .unwrap_or_else(|| h[0].clone());
        let name = berth_testutil::unique("bench-leftover");
        let dir = base.join(&name);
        std::fs::create_dir(&dir).unwrap();
        let mut child = std::process::Command::new(berth_testutil::BUSYBOX)
            .args(["sleep", "30"])
            .spawn()
            .unwrap();
        std::fs::write(dir.join("cgroup.procs"), child.id().to_string()).unwrap();

        let result = remove_cgroup_tree(&dir);
        let status = child.wait().unwrap();
        assert_eq!(result, Ok(()));
        assert!(!dir.exists(), "{} still exists", dir.display());
        assert!(!status.success(), "the process was not killed: {status}");
    }
}
