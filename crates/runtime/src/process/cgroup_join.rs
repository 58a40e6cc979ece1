//! Putting a new process into its cgroups without the slow path.
//!
//! Writing a pid to a v1 `cgroup.procs` takes the kernel's global
//! threadgroup rwsem for writing, which waits for an RCU grace period: 5 to
//! 12 ms on the test machine, most of a container start. A single-threaded
//! process moving *itself* by writing `0` to `tasks` skips that lock
//! (0.2 ms). On cgroup2 (including the unified hierarchy of a hybrid host)
//! `clone3(CLONE_INTO_CGROUP)` creates the process in place.
//!
//! So: the runtime opens the cgroup2 directory for the clone, and the first
//! process it creates joins the v1 hierarchies itself, before anything else
//! (while its credentials are still the runtime's, so even a process in a
//! new user namespace may write the files). An intermediate's children
//! inherit its cgroups.

use std::ffi::CString;
use std::os::fd::OwnedFd;

use berth_cgroups::{CgroupState, CgroupVersion};

use crate::Result;
use crate::error::OsContext;

/// How a new process gets into the container's cgroups.
#[derive(Debug)]
pub struct CgroupJoin {
    /// `tasks` files of the v1 hierarchies (joined with `0` by the child).
    v1_tasks: Vec<CString>,
    /// The cgroup2 directory, for `CLONE_INTO_CGROUP`.
    pub v2_dir: Option<OwnedFd>,
    /// `cgroup.procs` of the cgroup2 directory, for kernels without
    /// `CLONE_INTO_CGROUP` (the child then writes `0` there too).
    v2_procs: Option<CString>,
    /// Set when the clone could not place the child.
    pub v2_fallback: std::cell::Cell<bool>,
}

impl CgroupJoin {
    /// Prepare (runtime side).
    pub fn new(state: &CgroupState) -> Result<CgroupJoin> {
        let mut v1_tasks = Vec::new();
        let mut v2_dir = None;
        let mut v2_procs = None;
        for h in &state.hierarchies {
            match h.version {
                CgroupVersion::V1 => {
                    let p = h.path.join("tasks");
                    v1_tasks.push(
                        CString::new(p.into_os_string().into_encoded_bytes()).unwrap_or_default(),
                    );
                }
                CgroupVersion::V2 => {
                    v2_dir = Some(
                        rustix::fs::open(
                            &h.path,
                            rustix::fs::OFlags::RDONLY
                                | rustix::fs::OFlags::DIRECTORY
                                | rustix::fs::OFlags::CLOEXEC,
                            rustix::fs::Mode::empty(),
                        )
                        .step(|| format!("open cgroup {}", h.path.display()))?,
                    );
                    let p = h.path.join("cgroup.procs");
                    v2_procs = Some(
                        CString::new(p.into_os_string().into_encoded_bytes()).unwrap_or_default(),
                    );
                }
            }
        }
        Ok(CgroupJoin {
            v1_tasks,
            v2_dir,
            v2_procs,
            v2_fallback: std::cell::Cell::new(false),
        })
    }

    /// Join (child side, first thing after the clone).
    pub fn join_self(&self) -> std::result::Result<(), String> {
        let write0 = |path: &CString| -> std::result::Result<(), String> {
            let fd = rustix::fs::open(
                path.as_c_str(),
                rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| format!("open {}: {e}", path.to_string_lossy()))?;
            rustix::io::write(&fd, b"0")
                .map_err(|e| format!("join cgroup via {}: {e}", path.to_string_lossy()))?;
            Ok(())
        };
        for t in &self.v1_tasks {
            write0(t)?;
        }
        if self.v2_fallback.get() {
            if let Some(p) = &self.v2_procs {
                write0(p)?;
            }
        }
        Ok(())
    }
}
