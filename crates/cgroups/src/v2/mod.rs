//! The cgroup v2 backend: one directory in the unified hierarchy. Controllers are enabled in
//! the ancestors' `cgroup.subtree_control` at create time; devices are an eBPF program; the
//! freezer is `cgroup.freeze`; SIGKILL to everything is `cgroup.kill`.
//!
//! Some of these modules (hugetlb, rdma, unified, controllers) also serve the unified part of a
//! hybrid host, see [`crate::v1`].

pub(crate) mod controllers;
pub(crate) mod cpu;
pub(crate) mod cpuset;
pub mod devices;
pub(crate) mod freezer;
pub(crate) mod hugetlb;
pub(crate) mod io;
pub(crate) mod memory;
pub(crate) mod pids;
pub(crate) mod rdma;
pub(crate) mod unified;

use std::os::fd::OwnedFd;
use std::path::Path;

use oci_spec::runtime::LinuxResources;
use rustix::fs::{Mode, OFlags};

use crate::error::{Error, Result};
use crate::oom::OomWatcher;
use crate::state::HierarchyState;
use crate::stats::{self, Stats};
use crate::validate::{self, require};
use crate::{CgroupMode, FreezerState, cgroup_file, dir_tree, signal};

const MODE: CgroupMode = CgroupMode::Unified;

/// A container's cgroup on a cgroup v2 host.
#[derive(Clone, Debug)]
pub(crate) struct V2Cgroup {
    pub(crate) h: HierarchyState,
}

fn psi(dir: &Path, file: &str) -> Result<Option<stats::PsiStats>> {
    // Absent without CONFIG_PSI; EOPNOTSUPP when disabled at boot (psi=0).
    match cgroup_file::read(dir, file) {
        Ok(t) => Ok(stats::parse_psi(&t)),
        Err(e) if e.is_not_found() || e.errno() == Some(libc::EOPNOTSUPP) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl V2Cgroup {
    fn dir(&self) -> &Path {
        &self.h.path
    }

    pub(crate) fn validate(&self, r: &LinuxResources) -> Result<()> {
        validate::common(r, MODE)?;
        let mut needs: Vec<(&str, &str)> = Vec::new();
        if r.memory().as_ref().is_some_and(validate::wants_memory) {
            needs.push(("linux.resources.memory", "memory"));
        }
        if let Some(c) = r.cpu() {
            if validate::wants_cpu(c) {
                needs.push(("linux.resources.cpu", "cpu"));
            }
            if validate::wants_cpuset(c) {
                needs.push(("linux.resources.cpu.cpus", "cpuset"));
            }
        }
        if r.pids().is_some() {
            needs.push(("linux.resources.pids", "pids"));
        }
        if r.block_io().as_ref().is_some_and(validate::wants_blkio) {
            needs.push(("linux.resources.blockIO", "io"));
        }
        if r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty()) {
            needs.push(("linux.resources.hugepageLimits", "hugetlb"));
        }
        if r.rdma().as_ref().is_some_and(|m| !m.is_empty()) {
            needs.push(("linux.resources.rdma", "rdma"));
        }
        let unified_ctrls: Vec<(String, &str)> = r
            .unified()
            .iter()
            .flatten()
            .filter_map(|(k, _)| {
                validate::unified_key(k)
                    .ok()
                    .map(|c| (format!("linux.resources.unified[{k:?}]"), c))
            })
            .filter(|(_, c)| *c != "cgroup")
            .collect();
        for (f, c) in &unified_ctrls {
            needs.push((f.as_str(), c));
        }
        if let Some(n) = r.network() {
            if validate::wants_net_cls(n) {
                require("linux.resources.network.classID", "net_cls", false, MODE)?;
            }
            if validate::wants_net_prio(n) {
                require(
                    "linux.resources.network.priorities",
                    "net_prio",
                    false,
                    MODE,
                )?;
            }
        }
        if needs.is_empty() {
            return Ok(());
        }
        let avail = controllers::available(&self.h.mountpoint)?;
        for (field, c) in needs {
            require(field, c, avail.iter().any(|a| a == c), MODE)?;
        }
        Ok(())
    }

    pub(crate) fn create(&mut self) -> Result<()> {
        dir_tree::make(&mut self.h)?;
        controllers::enable(&self.h, controllers::Wanted::AllAvailable)
    }

    pub(crate) fn apply(&self, r: &LinuxResources) -> Result<()> {
        let dir = self.dir();
        if let Some(c) = r.cpu() {
            cpuset::apply(dir, c)?;
        }
        if let Some(m) = r.memory() {
            memory::apply(dir, m)?;
        }
        if let Some(c) = r.cpu() {
            cpu::apply(dir, c)?;
        }
        if let Some(p) = r.pids() {
            pids::apply(dir, p)?;
        }
        if let Some(b) = r.block_io() {
            io::apply(dir, b)?;
        }
        if let Some(h) = r.hugepage_limits() {
            hugetlb::apply(dir, h)?;
        }
        if let Some(rd) = r.rdma() {
            rdma::apply(dir, rd)?;
        }
        if let Some(n) = r.network() {
            // net_cls and net_prio do not exist in cgroup v2.
            if validate::wants_net_cls(n) {
                require("linux.resources.network.classID", "net_cls", false, MODE)?;
            }
            if validate::wants_net_prio(n) {
                require(
                    "linux.resources.network.priorities",
                    "net_prio",
                    false,
                    MODE,
                )?;
            }
        }
        if let Some(d) = r.devices() {
            devices::apply(dir, d)?;
        }
        if let Some(u) = r.unified() {
            unified::apply(dir, u)?;
        }
        Ok(())
    }

    pub(crate) fn add_task(&self, pid: i32) -> Result<()> {
        dir_tree::add_pid(self.dir(), pid)
    }

    pub(crate) fn leaf_dir_fd(&self) -> Result<OwnedFd> {
        rustix::fs::open(
            self.dir(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::OpenDir {
            path: self.dir().to_path_buf(),
            source: e.into(),
        })
    }

    pub(crate) fn freeze(&self) -> Result<()> {
        freezer::freeze(self.dir())
    }

    pub(crate) fn thaw(&self) -> Result<()> {
        freezer::thaw(self.dir())
    }

    pub(crate) fn freezer_state(&self) -> Result<FreezerState> {
        freezer::state(self.dir())
    }

    pub(crate) fn pids(&self) -> Result<Vec<i32>> {
        dir_tree::pids_recursive(self.dir())
    }

    pub(crate) fn signal_all(&self, sig: i32) -> Result<()> {
        signal::check(sig)?;
        if sig == libc::SIGKILL {
            // cgroup.kill (5.14+) kills the whole subtree atomically, forks included.
            match cgroup_file::write(self.dir(), "cgroup.kill", "1") {
                Ok(()) => return Ok(()),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(Error::SignalAll(crate::ErrorList(vec![e.into()]))),
            }
        }
        let freeze = || self.freeze();
        let thaw = || self.thaw();
        let has_freezer = self.dir().join("cgroup.freeze").exists();
        signal::signal_all_frozen(
            sig,
            has_freezer.then_some(signal::Freezer {
                freeze: &freeze,
                thaw: &thaw,
            }),
            &|| self.pids(),
        )
    }

    pub(crate) fn stats(&self) -> Result<Stats> {
        let dir = self.dir();
        let mut s = Stats::default();
        cpu::stats(dir, &mut s.cpu)?;
        s.cpu.psi = psi(dir, "cpu.pressure")?;
        memory::stats(dir, &mut s.memory)?;
        s.memory.psi = psi(dir, "memory.pressure")?;
        pids::stats(dir, &mut s.pids)?;
        io::stats(dir, &mut s.blkio)?;
        s.blkio.psi = psi(dir, "io.pressure")?;
        hugetlb::stats(dir, &mut s.hugetlb)?;
        Ok(s)
    }

    pub(crate) fn oom_watcher(&self) -> Result<OomWatcher> {
        Ok(OomWatcher::v2(self.dir())?)
    }
}
