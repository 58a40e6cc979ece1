//! [`Manager`]: the container's cgroup across every hierarchy of the host, dispatching to the
//! v1 (legacy and hybrid) or v2 backend.

use std::os::fd::OwnedFd;
use std::path::Path;

use oci_spec::runtime::LinuxResources;

use crate::cgroups_path::{self, CgroupsPath};
use crate::error::{Error, ErrorList, Result};
use crate::mountinfo::{self, CgroupMount, MountKind};
use crate::oom::OomWatcher;
use crate::own_cgroup::{self, Membership};
use crate::state::{CgroupState, CgroupVersion, HierarchyState};
use crate::stats::Stats;
use crate::v1::V1Cgroup;
use crate::v2::V2Cgroup;
use crate::{CgroupMode, FreezerState, dir_tree, mode};

#[derive(Clone, Debug)]
enum Backend {
    V1(V1Cgroup),
    V2(V2Cgroup),
}

/// A container's cgroup. See the crate documentation for the lifecycle.
#[derive(Clone, Debug)]
pub struct Manager {
    backend: Backend,
}

fn hierarchy_for(
    m: &CgroupMount,
    path: &CgroupsPath,
    own: Option<&[Membership]>,
) -> Result<HierarchyState> {
    let name = match m.kind {
        MountKind::V1 => m.controllers.join(","),
        MountKind::V2 => "cgroup2".to_owned(),
    };
    let own_rel = match own {
        Some(memberships) => {
            let own = own_cgroup::relative_to_mount(memberships, &m.controllers, &m.root)?;
            // On cgroup2 the caller's own cgroup holds processes, and the
            // kernel refuses controllers (and new processes) in a child of
            // such a cgroup: go from its parent, as runc's fs2 driver does.
            Some(match m.kind {
                MountKind::V2 => own.parent().map(Path::to_path_buf).unwrap_or_default(),
                MountKind::V1 => own,
            })
        }
        None => None,
    };
    let rel = path.resolve(own_rel.as_deref(), &name)?;
    Ok(HierarchyState {
        version: match m.kind {
            MountKind::V1 => CgroupVersion::V1,
            MountKind::V2 => CgroupVersion::V2,
        },
        controllers: m.controllers.clone(),
        mountpoint: m.mountpoint.clone(),
        path: m.mountpoint.join(rel),
        created: Vec::new(),
    })
}

impl Manager {
    /// Resolve an OCI `linux.cgroupsPath` for container `id` without changing anything:
    ///
    /// - absolute (`/a/b`): `a/b` under the root of every hierarchy;
    /// - relative (`a/b`): under the calling process's own cgroup in each hierarchy (like runc's
    ///   cgroupfs driver);
    /// - `None` or empty: `/berth-<id>`;
    /// - `slice:prefix:name` (systemd form): [`Error::SystemdUnsupported`].
    ///
    /// `..` components are applied lexically and may not climb above a hierarchy root.
    /// Reads `/proc/self/mountinfo` once, and `/proc/self/cgroup` only for a relative path.
    pub fn new(cgroups_path: Option<&Path>, id: &str) -> Result<Manager> {
        let path = cgroups_path::parse(cgroups_path, id)?;
        let mode = mode::mode()?;
        let mounts = mountinfo::cgroup_mounts()?;
        let own = if path.is_relative() {
            Some(own_cgroup::read()?)
        } else {
            None
        };
        let own = own.as_deref();
        let backend = match mode {
            CgroupMode::Unified => {
                // Prefer the mount at /sys/fs/cgroup if the hierarchy is visible twice.
                let m = mounts
                    .iter()
                    .filter(|m| m.kind == MountKind::V2)
                    .min_by_key(|m| m.mountpoint != Path::new(mode::CGROUP_ROOT))
                    .ok_or(Error::NoHierarchy {
                        kind: "cgroup2",
                        mode,
                    })?;
                Backend::V2(V2Cgroup {
                    h: hierarchy_for(m, &path, own)?,
                })
            }
            CgroupMode::Legacy | CgroupMode::Hybrid => {
                let hierarchies = mounts
                    .iter()
                    .filter(|m| m.kind == MountKind::V1 && !m.controllers.is_empty())
                    .map(|m| hierarchy_for(m, &path, own))
                    .collect::<Result<Vec<_>>>()?;
                if hierarchies.is_empty() {
                    return Err(Error::NoHierarchy {
                        kind: "cgroup v1",
                        mode,
                    });
                }
                let unified = if mode == CgroupMode::Hybrid {
                    mounts
                        .iter()
                        .find(|m| {
                            m.kind == MountKind::V2
                                && m.mountpoint == Path::new(mode::HYBRID_UNIFIED)
                        })
                        .or_else(|| mounts.iter().find(|m| m.kind == MountKind::V2))
                        .map(|m| hierarchy_for(m, &path, own))
                        .transpose()?
                } else {
                    None
                };
                Backend::V1(V1Cgroup {
                    mode,
                    hierarchies,
                    unified,
                })
            }
        };
        Ok(Manager { backend })
    }

    /// Re-open a cgroup described by [`Manager::state`] (in another process). The state is
    /// checked for consistency; nothing is read from the filesystem.
    pub fn from_state(state: &CgroupState) -> Result<Manager> {
        state.check()?;
        let backend = match state.mode {
            CgroupMode::Unified => {
                let h = state
                    .hierarchies
                    .first()
                    .cloned()
                    .ok_or(Error::InvalidState {
                        path: Default::default(),
                        reason: "no hierarchy",
                    })?;
                Backend::V2(V2Cgroup { h })
            }
            mode => {
                let (unified, v1): (Vec<_>, Vec<_>) = state
                    .hierarchies
                    .iter()
                    .cloned()
                    .partition(|h| h.version == CgroupVersion::V2);
                Backend::V1(V1Cgroup {
                    mode,
                    hierarchies: v1,
                    unified: unified.into_iter().next(),
                })
            }
        };
        Ok(Manager { backend })
    }

    /// The plain description to store and later pass to [`Manager::from_state`].
    pub fn state(&self) -> CgroupState {
        match &self.backend {
            Backend::V1(b) => CgroupState {
                mode: b.mode,
                hierarchies: b.all().cloned().collect(),
            },
            Backend::V2(b) => CgroupState {
                mode: CgroupMode::Unified,
                hierarchies: vec![b.h.clone()],
            },
        }
    }

    /// The host layout this manager works with.
    pub fn mode(&self) -> CgroupMode {
        match &self.backend {
            Backend::V1(b) => b.mode,
            Backend::V2(_) => CgroupMode::Unified,
        }
    }

    /// The container's cgroup directory in every hierarchy.
    pub fn paths(&self) -> Vec<&Path> {
        match &self.backend {
            Backend::V1(b) => b.all().map(|h| h.path.as_path()).collect(),
            Backend::V2(b) => vec![b.h.path.as_path()],
        }
    }

    /// Remove this cgroup's directory in every hierarchy where it is empty (no child cgroup, no
    /// process): a daemon's parent cgroup once its last container is gone. A busy or missing
    /// directory is left alone, and nothing above it is touched. Returns how many were removed.
    pub fn remove_if_empty(&self) -> usize {
        self.paths()
            .into_iter()
            .filter(|p| rustix::fs::rmdir(*p).is_ok())
            .count()
    }

    /// Check `r` against what this host supports, before anything is created: syntax and
    /// ranges, consistency (swap >= memory), huge page sizes, and that every controller with a
    /// setting is available. Errors name the OCI field (`linux.resources.memory.swap: ...`).
    pub fn validate(&self, r: &LinuxResources) -> Result<()> {
        match &self.backend {
            Backend::V1(b) => b.validate(r),
            Backend::V2(b) => b.validate(r),
        }
    }

    fn hierarchies_mut(&mut self) -> Vec<&mut HierarchyState> {
        match &mut self.backend {
            Backend::V1(b) => b.all_mut().collect(),
            Backend::V2(b) => vec![&mut b.h],
        }
    }

    /// Make the cgroup directories (`mkdir -p` in every hierarchy; v1 cpuset levels get their
    /// parent's cpus and mems; v2 ancestors get the available controllers enabled) and record
    /// which directories were made. On failure everything made so far is removed again.
    pub fn create(&mut self) -> Result<()> {
        let res = match &mut self.backend {
            Backend::V1(b) => b.create(),
            Backend::V2(b) => b.create(),
        };
        let Err(err) = res else {
            return Ok(());
        };
        let mut cleanup = Vec::new();
        for h in self.hierarchies_mut() {
            let before = cleanup.len();
            dir_tree::remove_created(h, &mut cleanup);
            if cleanup.len() == before {
                h.created.clear();
            }
        }
        if cleanup.is_empty() {
            Err(err)
        } else {
            Err(Error::CreateRollback {
                source: Box::new(err),
                cleanup: ErrorList(cleanup),
            })
        }
    }

    /// Write the resources that are set (at create time, and for `update`, where only what is
    /// set changes). Stops at the first failure, naming the OCI field.
    pub fn apply(&self, r: &LinuxResources) -> Result<()> {
        match &self.backend {
            Backend::V1(b) => b.apply(r),
            Backend::V2(b) => b.apply(r),
        }
    }

    /// Move process `pid` into the cgroup in every hierarchy.
    pub fn add_task(&self, pid: i32) -> Result<()> {
        if pid <= 0 {
            return Err(Error::InvalidPid { pid });
        }
        match &self.backend {
            Backend::V1(b) => b.add_task(pid),
            Backend::V2(b) => b.add_task(pid),
        }
    }

    /// On v2 hosts, an `O_DIRECTORY | O_CLOEXEC` descriptor of the cgroup directory for
    /// `clone3(CLONE_INTO_CGROUP)`. `None` on v1 and hybrid hosts (the child must join every v1
    /// hierarchy anyway, use [`Manager::add_task`]).
    pub fn leaf_dir_fd(&self) -> Result<Option<OwnedFd>> {
        match &self.backend {
            Backend::V1(_) => Ok(None),
            Backend::V2(b) => b.leaf_dir_fd().map(Some),
        }
    }

    /// An `O_DIRECTORY | O_CLOEXEC` descriptor of the cgroup's directory in the cgroup2
    /// hierarchy, on v2 hosts AND on hybrid hosts (where the unified hierarchy is the kernel's
    /// default hierarchy, so `clone3(CLONE_INTO_CGROUP)` accepts it too). `None` on legacy
    /// hosts. On a hybrid host, pair it with [`Manager::join_v1_self`] in the child.
    pub fn cgroup2_dir_fd(&self) -> Result<Option<OwnedFd>> {
        let dir = match &self.backend {
            Backend::V1(b) => match b.unified() {
                Some(u) => u.path.as_path(),
                None => return Ok(None),
            },
            Backend::V2(b) => b.h.path.as_path(),
        };
        rustix::fs::open(
            dir,
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map(Some)
        .map_err(|e| Error::OpenDir {
            path: dir.to_path_buf(),
            source: e.into(),
        })
    }

    /// Move the CALLING process into the cgroup's v1 hierarchies by writing `0` to each
    /// `tasks` file. The caller must be single-threaded (only the calling thread moves): the
    /// container's init between clone and exec. Unlike [`Manager::add_task`] (a pid written to
    /// `cgroup.procs`), this does not take the kernel's global threadgroup lock, whose first
    /// writer waits for an RCU grace period (about 8 ms per call on the development host).
    /// The cgroup2 part (hybrid hosts) is not joined: use `clone3(CLONE_INTO_CGROUP)` with
    /// [`Manager::cgroup2_dir_fd`], or `add_task`. Does nothing on v2 hosts.
    pub fn join_v1_self(&self) -> Result<()> {
        match &self.backend {
            Backend::V1(b) => b.join_self(),
            Backend::V2(_) => Ok(()),
        }
    }

    /// Freeze every process of the cgroup and wait until the kernel reports it frozen.
    pub fn freeze(&self) -> Result<()> {
        match &self.backend {
            Backend::V1(b) => b.freeze(),
            Backend::V2(b) => b.freeze(),
        }
    }

    /// Thaw the cgroup.
    pub fn thaw(&self) -> Result<()> {
        match &self.backend {
            Backend::V1(b) => b.thaw(),
            Backend::V2(b) => b.thaw(),
        }
    }

    /// The freezer state.
    pub fn freezer_state(&self) -> Result<FreezerState> {
        match &self.backend {
            Backend::V1(b) => b.freezer_state(),
            Backend::V2(b) => b.freezer_state(),
        }
    }

    /// Every process in the cgroup and its sub-cgroups.
    pub fn pids(&self) -> Result<Vec<i32>> {
        match &self.backend {
            Backend::V1(b) => b.pids(),
            Backend::V2(b) => b.pids(),
        }
    }

    /// Signal every process in the cgroup. SIGKILL on v2 with `cgroup.kill` writes it;
    /// otherwise freeze, signal each process, thaw, so that forks cannot escape. Best effort:
    /// all failures are reported together.
    pub fn signal_all(&self, sig: i32) -> Result<()> {
        match &self.backend {
            Backend::V1(b) => b.signal_all(sig),
            Backend::V2(b) => b.signal_all(sig),
        }
    }

    /// Resource usage, serializable as `runc events --stats` prints it.
    pub fn stats(&self) -> Result<Stats> {
        match &self.backend {
            Backend::V1(b) => b.stats(),
            Backend::V2(b) => b.stats(),
        }
    }

    /// Remove the directories this manager created, deepest first, in every hierarchy (retrying
    /// EBUSY briefly). Keeps going after a failure and reports every one. Never removes a
    /// directory it did not create.
    pub fn destroy(&self) -> Result<()> {
        let mut errors = Vec::new();
        match &self.backend {
            Backend::V1(b) => b
                .all()
                .for_each(|h| dir_tree::remove_created(h, &mut errors)),
            Backend::V2(b) => dir_tree::remove_created(&b.h, &mut errors),
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Destroy(ErrorList(errors)))
        }
    }

    /// OOM notification: v1 eventfd on `memory.oom_control`, v2 inotify on `memory.events`.
    pub fn oom_watcher(&self) -> Result<OomWatcher> {
        match &self.backend {
            Backend::V1(b) => b.oom_watcher(),
            Backend::V2(b) => b.oom_watcher(),
        }
    }
}
