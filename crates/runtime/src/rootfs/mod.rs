//! The container's mount namespace, built in the container's init before it
//! executes the user process.
//!
//! Order (runc's, which the hooks' contract depends on):
//! 1. [`Rootfs::prepare`] — make `/` rslave (or `rootfsPropagation`), bind
//!    the rootfs onto itself, perform `mounts` in order (each destination
//!    resolved inside the root, see [`resolve`]), create `/dev` nodes and
//!    symlinks;
//! 2. the createContainer hooks run (in the process code);
//! 3. [`Rootfs::enter`] — `pivot_root` (or move + chroot for `--no-pivot`);
//! 4. [`Rootfs::finish`] — masked and read-only paths, read-only root, final
//!    propagation.

mod cgroup_mount;
mod copyup;
pub mod devices;
pub mod idmap;
pub mod mount;
pub mod options;
pub mod paths;
pub mod pivot;
pub mod resolve;

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::Spec;

use crate::error::OsContext;
use crate::{Error, Result};

/// Everything rootfs setup needs from the container's configuration.
#[derive(Debug)]
pub struct Rootfs<'a> {
    /// The root filesystem on the host, absolute.
    pub rootfs: &'a Path,
    /// The bundle directory.
    pub bundle: &'a Path,
    /// The configuration.
    pub spec: &'a Spec,
    /// The container has its own user namespace.
    pub userns: bool,
    /// The container's cgroup, for `cgroup` mounts.
    pub cgroup: Option<&'a berth_cgroups::CgroupState>,
    /// The container has its own cgroup namespace.
    pub cgroupns: bool,
    /// Idmapped trees prepared by the runtime.
    pub idmapped: &'a idmap::Prepared,
}

impl Rootfs<'_> {
    fn propagation(&self) -> Result<Option<u64>> {
        let Some(name) = self
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.rootfs_propagation().as_deref())
        else {
            return Ok(None);
        };
        if name.is_empty() {
            return Ok(None);
        }
        options::propagation(name).map(Some).ok_or_else(|| {
            Error::config(
                "linux.rootfsPropagation",
                format!("unknown propagation {name:?}"),
            )
        })
    }

    fn mount_label(&self) -> Option<&str> {
        self.spec
            .linux()
            .as_ref()?
            .mount_label()
            .as_deref()
            .filter(|l| !l.is_empty())
    }

    /// Step 1: everything before the createContainer hooks.
    pub fn prepare(&self) -> Result<()> {
        rustix::process::umask(rustix::fs::Mode::empty());
        let prop = self.propagation()?;
        // An unbindable / could not give the rootfs bind below: such a
        // request is applied to the new root after pivot_root (finish).
        let initial = match prop {
            Some(p) if p & libc::MS_UNBINDABLE == 0 => p,
            _ => libc::MS_SLAVE | libc::MS_REC,
        };
        mount::sys_mount(None, "/", None, initial, "")
            .step(|| "set the propagation of /".to_string())?;
        // pivot_root refuses a new root whose parent mount is shared; only a
        // recursive slave/private / guarantees it is not.
        let recursive_not_shared = [
            libc::MS_SLAVE | libc::MS_REC,
            libc::MS_PRIVATE | libc::MS_REC,
        ];
        if !recursive_not_shared.contains(&initial) {
            make_parent_private(self.rootfs)?;
        }
        mount::sys_mount(
            Some(&self.rootfs.display().to_string()),
            &self.rootfs.display().to_string(),
            None,
            libc::MS_BIND | libc::MS_REC,
            "",
        )
        .step(|| format!("bind the rootfs {} onto itself", self.rootfs.display()))?;
        let root: OwnedFd = rustix::fs::open(
            self.rootfs,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .step(|| format!("open the rootfs {}", self.rootfs.display()))?;

        let cx = mount::MountContext {
            root: root.as_fd(),
            bundle: self.bundle,
            mount_label: self.mount_label(),
            userns: self.userns,
            cgroup: self.cgroup,
            cgroupns: self.cgroupns,
            idmapped: self.idmapped,
        };
        let mounts = self.spec.mounts().as_deref().unwrap_or_default();
        for (i, m) in mounts.iter().enumerate() {
            mount::mount_one(&cx, i, m)?;
        }
        let dev_bound = mounts.iter().any(|m| {
            m.destination() == Path::new("/dev")
                && options::parse(
                    m.options().as_deref().unwrap_or_default(),
                    m.typ().as_deref(),
                )
                .is_bind()
        });
        if !dev_bound {
            let listed = self
                .spec
                .linux()
                .as_ref()
                .and_then(|l| l.devices().as_deref())
                .unwrap_or_default();
            devices::create(root.as_fd(), listed, self.userns)?;
            let devpts = mounts.iter().any(|m| {
                m.typ().as_deref() == Some("devpts") && m.destination() == Path::new("/dev/pts")
            });
            devices::symlinks(root.as_fd(), devpts)?;
        }
        Ok(())
    }

    /// Step 3: make the rootfs `/`.
    pub fn enter(&self, no_pivot: bool) -> Result<()> {
        if no_pivot {
            pivot::move_root(self.rootfs)
        } else {
            pivot::pivot_root(self.rootfs)
        }
    }

    /// Without a mount namespace of its own (none, or one joined by path)
    /// the container only gets a chroot into its rootfs: mounting in a
    /// namespace others use would change their view (crun's behaviour;
    /// runc mounts in the host's namespace).
    pub fn chroot_only(&self) -> Result<()> {
        rustix::process::chroot(self.rootfs)
            .step(|| format!("chroot into {}", self.rootfs.display()))?;
        rustix::process::chdir("/").step(|| "chdir /".to_string())
    }

    /// Step 4: inside the new root.
    pub fn finish(&self) -> Result<()> {
        if let Some(linux) = self.spec.linux() {
            if let Some(paths) = linux.masked_paths() {
                paths::mask(paths, self.mount_label())?;
            }
            if let Some(paths) = linux.readonly_paths() {
                paths::readonly(paths)?;
            }
        }
        if self.spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
            paths::readonly_root()?;
        }
        if let Some(p) = self.propagation()? {
            mount::sys_mount(None, "/", None, p, "")
                .step(|| "set rootfsPropagation on /".to_string())?;
        }
        Ok(())
    }
}

/// Make the mount that contains `path` private.
fn make_parent_private(path: &Path) -> Result<()> {
    let mnt_id = |p: &Path| -> Result<u64> {
        let st = rustix::fs::statx(
            rustix::fs::CWD,
            p,
            rustix::fs::AtFlags::empty(),
            rustix::fs::StatxFlags::MNT_ID,
        )
        .step(|| format!("statx {}", p.display()))?;
        Ok(st.stx_mnt_id)
    };
    let mut mountpoint = path.parent().unwrap_or(Path::new("/"));
    let id = mnt_id(mountpoint)?;
    while let Some(up) = mountpoint.parent() {
        if mnt_id(up)? != id {
            break;
        }
        mountpoint = up;
    }
    mount::sys_mount(
        None,
        &mountpoint.display().to_string(),
        None,
        libc::MS_PRIVATE,
        "",
    )
    .step(|| format!("make {} private", mountpoint.display()))
}
