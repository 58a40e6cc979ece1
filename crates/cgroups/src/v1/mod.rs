//! The cgroup v1 backend, for legacy and hybrid hosts: one directory per mounted v1 hierarchy
//! (every controller hierarchy and named ones such as `name=systemd`, like runc), plus on hybrid
//! hosts one in the cgroup2 hierarchy at `/sys/fs/cgroup/unified`.
//!
//! On a hybrid host a controller can be bound to the unified hierarchy instead of a v1 one
//! (hugetlb on the development host): hugetlb and rdma are then applied there, with the cgroup
//! v2 files, after enabling the controller in the unified ancestors' `cgroup.subtree_control`;
//! `linux.resources.unified` may write only files of controllers that live there (and the
//! `cgroup.*` core files).

pub(crate) mod blkio;
pub(crate) mod cpu;
pub(crate) mod cpuacct;
pub(crate) mod cpuset;
pub(crate) mod devices;
pub(crate) mod freezer;
pub(crate) mod hugetlb;
pub(crate) mod memory;
pub(crate) mod net_cls;
pub(crate) mod net_prio;

use std::path::Path;

use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};
use crate::oom::OomWatcher;
use crate::state::HierarchyState;
use crate::stats::Stats;
use crate::v2;
use crate::validate::{self, require};
use crate::{CgroupMode, FreezerState, dir_tree, signal};

/// A container's cgroup on a legacy or hybrid host.
#[derive(Clone, Debug)]
pub(crate) struct V1Cgroup {
    pub(crate) mode: CgroupMode,
    /// The v1 hierarchies.
    pub(crate) hierarchies: Vec<HierarchyState>,
    /// Hybrid hosts: the directory in the cgroup2 hierarchy.
    pub(crate) unified: Option<HierarchyState>,
}

/// Where a controller that may live on either side of a hybrid host is.
enum Location<'a> {
    V1(&'a Path),
    Unified(&'a HierarchyState),
    Nowhere,
}

impl V1Cgroup {
    fn hierarchy(&self, controller: &str) -> Option<&HierarchyState> {
        self.hierarchies.iter().find(|h| h.has(controller))
    }

    fn dir(&self, controller: &str) -> Option<&Path> {
        self.hierarchy(controller).map(|h| h.path.as_path())
    }

    /// The controllers the unified hierarchy offers (hybrid only), read once per operation.
    fn unified_offers(&self, cache: &mut Option<Vec<String>>, controller: &str) -> Result<bool> {
        let Some(u) = &self.unified else {
            return Ok(false);
        };
        if cache.is_none() {
            *cache = Some(v2::controllers::available(&u.mountpoint)?);
        }
        Ok(cache.iter().flatten().any(|c| c == controller))
    }

    fn locate(&self, controller: &str, cache: &mut Option<Vec<String>>) -> Result<Location<'_>> {
        if let Some(d) = self.dir(controller) {
            return Ok(Location::V1(d));
        }
        match &self.unified {
            Some(u) if self.unified_offers(cache, controller)? => Ok(Location::Unified(u)),
            _ => Ok(Location::Nowhere),
        }
    }

    fn need(&self, field: &str, controller: &str) -> Result<&Path> {
        self.dir(controller)
            .ok_or_else(|| Error::ControllerUnavailable {
                field: field.to_owned(),
                controller: controller.to_owned(),
                mode: self.mode,
            })
    }

    /// Every hierarchy, v1 ones first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &HierarchyState> {
        self.hierarchies.iter().chain(self.unified.iter())
    }

    pub(crate) fn all_mut(&mut self) -> impl Iterator<Item = &mut HierarchyState> {
        self.hierarchies.iter_mut().chain(self.unified.iter_mut())
    }

    pub(crate) fn validate(&self, r: &LinuxResources) -> Result<()> {
        let mode = self.mode;
        validate::common(r, mode)?;
        let has = |c: &str| self.hierarchy(c).is_some();
        let mut cache = None;
        if let Some(m) = r.memory() {
            if validate::wants_memory(m) {
                require("linux.resources.memory", "memory", has("memory"), mode)?;
            }
            if let (Some(s), Some(h)) = (m.swap().filter(|s| *s > 0), self.hierarchy("memory")) {
                if m.limit() == Some(-1) {
                    return Err(Error::InvalidResource {
                        field: "linux.resources.memory.swap".to_owned(),
                        reason: format!(
                            "memory+swap limit {s} with unlimited memory is impossible on cgroup v1"
                        ),
                    });
                }
                let memsw = h.mountpoint.join("memory.memsw.limit_in_bytes");
                if !memsw.exists() {
                    return Err(Error::KnobUnavailable {
                        field: "linux.resources.memory.swap".to_owned(),
                        file: memsw,
                    });
                }
            }
        }
        if let Some(c) = r.cpu() {
            if validate::wants_cpu(c) {
                require("linux.resources.cpu", "cpu", has("cpu"), mode)?;
            }
            if validate::wants_cpuset(c) {
                require("linux.resources.cpu.cpus", "cpuset", has("cpuset"), mode)?;
            }
        }
        if r.pids().is_some() {
            require("linux.resources.pids", "pids", has("pids"), mode)?;
        }
        if r.block_io().as_ref().is_some_and(validate::wants_blkio) {
            require("linux.resources.blockIO", "blkio", has("blkio"), mode)?;
        }
        if r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty()) {
            let ok = !matches!(self.locate("hugetlb", &mut cache)?, Location::Nowhere);
            require("linux.resources.hugepageLimits", "hugetlb", ok, mode)?;
        }
        if let Some(n) = r.network() {
            if validate::wants_net_cls(n) {
                require(
                    "linux.resources.network.classID",
                    "net_cls",
                    has("net_cls"),
                    mode,
                )?;
            }
            if validate::wants_net_prio(n) {
                require(
                    "linux.resources.network.priorities",
                    "net_prio",
                    has("net_prio"),
                    mode,
                )?;
            }
        }
        if r.rdma().as_ref().is_some_and(|m| !m.is_empty()) {
            let ok = !matches!(self.locate("rdma", &mut cache)?, Location::Nowhere);
            require("linux.resources.rdma", "rdma", ok, mode)?;
        }
        if r.devices().is_some() {
            // Running without the device controller would expose every host device.
            require("linux.resources.devices", "devices", has("devices"), mode)?;
        }
        for key in r.unified().iter().flat_map(|u| u.keys()) {
            let c = validate::unified_key(key)?;
            if c == "cgroup" {
                continue;
            }
            let field = format!("linux.resources.unified[{key:?}]");
            if has(c) {
                return Err(Error::InvalidResource {
                    field,
                    reason: format!(
                        "the {c} controller is bound to a cgroup v1 hierarchy on this hybrid host; set it through its OCI field instead"
                    ),
                });
            }
            require(&field, c, self.unified_offers(&mut cache, c)?, mode)?;
        }
        Ok(())
    }

    pub(crate) fn create(&mut self) -> Result<()> {
        for h in self.all_mut() {
            dir_tree::make(h)?;
            if h.has("cpuset") && !h.created.is_empty() {
                cpuset::init_created(h)?;
            }
        }
        Ok(())
    }

    pub(crate) fn apply(&self, r: &LinuxResources) -> Result<()> {
        let mut cache = None;
        if let Some(c) = r.cpu()
            && validate::wants_cpuset(c)
        {
            cpuset::apply(self.need("linux.resources.cpu.cpus", "cpuset")?, c)?;
        }
        if let Some(m) = r.memory()
            && validate::wants_memory(m)
        {
            memory::apply(self.need("linux.resources.memory", "memory")?, m)?;
        }
        if let Some(c) = r.cpu()
            && validate::wants_cpu(c)
        {
            self.need("linux.resources.cpu", "cpu")?;
            if let Some(h) = self.hierarchy("cpu") {
                cpu::apply(h, c)?;
            }
        }
        if let Some(p) = r.pids() {
            v2::pids::apply(self.need("linux.resources.pids", "pids")?, p)?;
        }
        if let Some(b) = r.block_io()
            && validate::wants_blkio(b)
        {
            blkio::apply(self.need("linux.resources.blockIO", "blkio")?, b)?;
        }
        if let Some(limits) = r.hugepage_limits().as_ref().filter(|l| !l.is_empty()) {
            match self.locate("hugetlb", &mut cache)? {
                Location::V1(dir) => hugetlb::apply(dir, limits)?,
                Location::Unified(u) => {
                    v2::controllers::enable(u, v2::controllers::Wanted::These(&["hugetlb"]))?;
                    v2::hugetlb::apply(&u.path, limits)?;
                }
                Location::Nowhere => {
                    require(
                        "linux.resources.hugepageLimits",
                        "hugetlb",
                        false,
                        self.mode,
                    )?;
                }
            }
        }
        if let Some(n) = r.network() {
            if let Some(id) = n.class_id() {
                net_cls::apply(self.need("linux.resources.network.classID", "net_cls")?, id)?;
            }
            if let Some(p) = n.priorities().as_ref().filter(|p| !p.is_empty()) {
                net_prio::apply(
                    self.need("linux.resources.network.priorities", "net_prio")?,
                    p,
                )?;
            }
        }
        if let Some(rdma) = r.rdma().as_ref().filter(|m| !m.is_empty()) {
            match self.locate("rdma", &mut cache)? {
                Location::V1(dir) => v2::rdma::apply(dir, rdma)?,
                Location::Unified(u) => {
                    v2::controllers::enable(u, v2::controllers::Wanted::These(&["rdma"]))?;
                    v2::rdma::apply(&u.path, rdma)?;
                }
                Location::Nowhere => require("linux.resources.rdma", "rdma", false, self.mode)?,
            }
        }
        if let Some(d) = r.devices() {
            devices::apply(self.need("linux.resources.devices", "devices")?, d)?;
        }
        if let Some(u) = r.unified().as_ref().filter(|u| !u.is_empty()) {
            let Some(uh) = &self.unified else {
                return Err(Error::InvalidResource {
                    field: "linux.resources.unified".to_owned(),
                    reason: "needs cgroup v2, but this host has only cgroup v1 hierarchies"
                        .to_owned(),
                });
            };
            let mut ctrls: Vec<&str> = u
                .keys()
                .map(|k| validate::unified_key(k))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .filter(|c| *c != "cgroup")
                .collect();
            ctrls.sort_unstable();
            ctrls.dedup();
            if !ctrls.is_empty() {
                v2::controllers::enable(uh, v2::controllers::Wanted::These(&ctrls))?;
            }
            v2::unified::apply(&uh.path, u)?;
        }
        Ok(())
    }

    pub(crate) fn add_task(&self, pid: i32) -> Result<()> {
        for h in self.all() {
            dir_tree::add_pid(&h.path, pid)?;
        }
        Ok(())
    }

    /// Move the calling thread into every v1 hierarchy through `tasks` (see
    /// [`crate::Manager::join_v1_self`]).
    pub(crate) fn join_self(&self) -> Result<()> {
        for h in &self.hierarchies {
            crate::cgroup_file::write(&h.path, "tasks", "0").map_err(|source| Error::AddTask {
                pid: 0,
                path: h.path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    pub(crate) fn unified(&self) -> Option<&HierarchyState> {
        self.unified.as_ref()
    }

    /// The freezer to use: the v1 freezer hierarchy, or on hybrid hosts without one the
    /// unified directory's `cgroup.freeze` (every task is in it too).
    fn freezer(&self) -> Result<(&Path, bool)> {
        if let Some(d) = self.dir("freezer") {
            return Ok((d, true));
        }
        if let Some(u) = self
            .unified
            .as_ref()
            .filter(|u| u.path.join("cgroup.freeze").exists())
        {
            return Ok((&u.path, false));
        }
        Err(Error::NoController {
            operation: "freeze",
            controller: "freezer",
            mode: self.mode,
        })
    }

    pub(crate) fn freeze(&self) -> Result<()> {
        match self.freezer()? {
            (d, true) => freezer::freeze(d),
            (d, false) => v2::freezer::freeze(d),
        }
    }

    pub(crate) fn thaw(&self) -> Result<()> {
        match self.freezer()? {
            (d, true) => freezer::thaw(d),
            (d, false) => v2::freezer::thaw(d),
        }
    }

    pub(crate) fn freezer_state(&self) -> Result<FreezerState> {
        match self.freezer()? {
            (d, true) => freezer::state(d),
            (d, false) => v2::freezer::state(d),
        }
    }

    /// The hierarchy whose process list is authoritative: the freezer one (what signal_all
    /// freezes), else pids, else the first.
    fn procs_dir(&self) -> &Path {
        self.dir("freezer")
            .or_else(|| self.dir("pids"))
            .or_else(|| self.all().next().map(|h| h.path.as_path()))
            .unwrap_or(Path::new("/nonexistent"))
    }

    pub(crate) fn pids(&self) -> Result<Vec<i32>> {
        dir_tree::pids_recursive(self.procs_dir())
    }

    pub(crate) fn signal_all(&self, sig: i32) -> Result<()> {
        let freeze = || self.freeze();
        let thaw = || self.thaw();
        let freezer = self.freezer().is_ok().then_some(signal::Freezer {
            freeze: &freeze,
            thaw: &thaw,
        });
        signal::signal_all_frozen(sig, freezer, &|| self.pids())
    }

    pub(crate) fn stats(&self) -> Result<Stats> {
        let mut s = Stats::default();
        if let Some(d) = self.dir("cpuacct") {
            cpuacct::stats(d, &mut s.cpu)?;
        }
        if let Some(d) = self.dir("cpu") {
            cpu::stats(d, &mut s.cpu)?;
        }
        if let Some(d) = self.dir("cpuset") {
            cpuset::stats(d, &mut s.cpuset)?;
        }
        if let Some(d) = self.dir("memory") {
            memory::stats(d, &mut s.memory)?;
        }
        if let Some(d) = self.dir("pids") {
            v2::pids::stats(d, &mut s.pids)?;
        }
        if let Some(d) = self.dir("blkio") {
            blkio::stats(d, &mut s.blkio)?;
        }
        if let Some(d) = self.dir("hugetlb") {
            hugetlb::stats(d, &mut s.hugetlb)?;
        } else if let Some(u) = &self.unified {
            // Files exist only when hugetlb is enabled for the unified directory.
            v2::hugetlb::stats(&u.path, &mut s.hugetlb)?;
        }
        Ok(s)
    }

    pub(crate) fn oom_watcher(&self) -> Result<OomWatcher> {
        let dir = self.dir("memory").ok_or(Error::NoController {
            operation: "watch OOM events",
            controller: "memory",
            mode: self.mode,
        })?;
        Ok(OomWatcher::v1(dir)?)
    }
}
