//! [`Mount`]: a mount as plain data — what a snapshotter hands out and the engine (or a
//! runtime's `config.json`) performs — and [`Mount::mount`], which performs one.
//!
//! A snapshotter never mounts anything itself; it returns `Vec<Mount>`, as containerd's
//! `mount.Mount` ("the lingua franca"). The fields are those of an OCI `config.json` mount
//! minus the destination.
//!
//! # Many layers: the page limit of `mount(2)`
//!
//! `mount(2)` copies at most one page (4096 bytes) of options, and an image with many layers
//! has a long `lowerdir=a:b:c:…`. Two answers, both in this crate:
//! - the overlay snapshotter names each layer directory by a short number
//!   (`<root>/snapshots/<n>/fs`), so the classic option string stays under a page for typical
//!   stacks (about 80 layers under `/var/lib/berth/snapshots/overlay`), and consumers that use
//!   `mount(2)` keep working there;
//! - [`Mount::mount`] does not use `mount(2)` for overlays: it uses the new mount API
//!   (`fsopen`/`fsconfig`/`fsmount`/`move_mount`) and passes every lower directory as its own
//!   `lowerdir+` parameter (Linux ≥ 6.8), so there is no limit on the total length, only the
//!   kernel's limit of 500 layers. `fsconfig` takes string values of at most 255 bytes: a
//!   longer directory path is passed as an `O_PATH` file descriptor instead (Linux ≥ 6.13).
//!   On kernels without `lowerdir+` it falls back to `mount(2)` with the classic string.

use std::ffi::CString;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MoveMountFlags, OpenTreeFlags,
    UnmountFlags,
};

/// A mount to perform, as plain data.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mount {
    /// The filesystem type: `overlay`, `bind`, … (`type` in JSON, as in a `config.json`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The source: a directory for `bind`, the string `overlay` for an overlay.
    pub source: String,
    /// Where to mount relative to the mount point given to [`Mount::mount_at_root`]; `None`
    /// for the mount point itself (every mount a snapshotter returns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Mount options as `mount -o` takes them: flags (`ro`, `rbind`, `nosuid`, …) and
    /// filesystem parameters (`lowerdir=…`, `upperdir=…`, `index=off`, …).
    #[serde(default)]
    pub options: Vec<String>,
}

/// A mount or unmount that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MountError {
    /// `fsopen` of the filesystem type failed (unknown type, no privilege).
    #[error("open a {kind} filesystem context")]
    Open {
        kind: String,
        #[source]
        source: io::Error,
    },
    /// `fsconfig` refused a parameter.
    #[error("set the {kind} mount parameter {key}={value}")]
    Configure {
        kind: String,
        key: String,
        value: String,
        #[source]
        source: io::Error,
    },
    /// Creating the filesystem instance failed; `log` holds the kernel's messages.
    #[error("create the {kind} filesystem: {log}")]
    Create {
        kind: String,
        log: String,
        #[source]
        source: io::Error,
    },
    /// `mount(2)` (the fallback for old kernels) failed.
    #[error("mount {kind} on {}", target.display())]
    Legacy {
        kind: String,
        target: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Cloning the source tree of a bind mount failed.
    #[error("bind: open the tree {}", source_path.display())]
    BindSource {
        source_path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Setting mount attributes (read-only, nosuid, …) failed.
    #[error("set the attributes {options:?} of the mount for {}", target.display())]
    Attributes {
        target: PathBuf,
        options: Vec<String>,
        #[source]
        source: io::Error,
    },
    /// Attaching the new mount at its target failed.
    #[error("attach the mount at {}", target.display())]
    Attach {
        target: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The mount type is not one this crate performs.
    #[error("unsupported mount type {kind:?}")]
    UnsupportedType { kind: String },
    /// A mount's `target` leaves its mount point, or an option has an invalid byte.
    #[error("invalid mount: {reason}")]
    Invalid { reason: String },
    /// `umount2` failed.
    #[error("unmount {}", target.display())]
    Unmount {
        target: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl MountError {
    /// The category for an API status code.
    pub fn category(&self) -> crate::Category {
        match self {
            MountError::UnsupportedType { .. } | MountError::Invalid { .. } => {
                crate::Category::Invalid
            }
            _ => crate::Category::Other,
        }
    }
}

/// Mount attribute flags from options.
fn attr_flags(options: &[String]) -> MountAttrFlags {
    let mut f = MountAttrFlags::empty();
    for o in options {
        match o.as_str() {
            "ro" => f |= MountAttrFlags::MOUNT_ATTR_RDONLY,
            "nosuid" => f |= MountAttrFlags::MOUNT_ATTR_NOSUID,
            "nodev" => f |= MountAttrFlags::MOUNT_ATTR_NODEV,
            "noexec" => f |= MountAttrFlags::MOUNT_ATTR_NOEXEC,
            "noatime" => f |= MountAttrFlags::MOUNT_ATTR_NOATIME,
            "strictatime" => f |= MountAttrFlags::MOUNT_ATTR_STRICTATIME,
            "nodiratime" => f |= MountAttrFlags::MOUNT_ATTR_NODIRATIME,
            _ => {}
        }
    }
    f
}

/// Options that are mount attributes or bind flags, not filesystem parameters.
fn is_vfs_option(o: &str) -> bool {
    matches!(
        o,
        "ro" | "rw"
            | "nosuid"
            | "suid"
            | "nodev"
            | "dev"
            | "noexec"
            | "exec"
            | "noatime"
            | "relatime"
            | "strictatime"
            | "nodiratime"
            | "bind"
            | "rbind"
            | "defaults"
    )
}

/// Split a `lowerdir` value on `:` that is not escaped with a backslash.
pub fn split_lowerdir(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ':' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

impl Mount {
    /// Is the mount read-only (`ro` among its options)?
    pub fn is_read_only(&self) -> bool {
        self.options.iter().any(|o| o == "ro")
    }

    /// The value of option `key=value`, the last one when repeated.
    pub fn option_value(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find_map(|o| o.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
    }

    /// The lower directories of an overlay mount, uppermost first.
    pub fn lowerdirs(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .option_value("lowerdir")
            .map(split_lowerdir)
            .unwrap_or_default();
        v.extend(
            self.options
                .iter()
                .filter_map(|o| o.strip_prefix("lowerdir+="))
                .map(str::to_string),
        );
        v
    }

    /// Perform this mount on `target` (an existing directory) in the caller's mount namespace.
    pub fn mount(&self, target: &Path) -> Result<(), MountError> {
        match self.kind.as_str() {
            "overlay" => self.mount_overlay(target),
            "bind" | "rbind" => self.mount_bind(target),
            _ if self.options.iter().any(|o| o == "bind" || o == "rbind") => {
                self.mount_bind(target)
            }
            _ => Err(MountError::UnsupportedType {
                kind: self.kind.clone(),
            }),
        }
    }

    /// Perform this mount below the mount point `root`, at its [`Mount::target`].
    pub fn mount_at_root(&self, root: &Path) -> Result<(), MountError> {
        match &self.target {
            None => self.mount(root),
            Some(t) => {
                let rel = Path::new(t.trim_start_matches('/'));
                if rel
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return Err(MountError::Invalid {
                        reason: format!("target {t:?} leaves the mount point"),
                    });
                }
                self.mount(&root.join(rel))
            }
        }
    }

    fn mount_bind(&self, target: &Path) -> Result<(), MountError> {
        let recursive = self.kind == "rbind" || self.options.iter().any(|o| o == "rbind");
        let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
        if recursive {
            flags |= OpenTreeFlags::AT_RECURSIVE;
        }
        let tree = rustix::mount::open_tree(rustix::fs::CWD, self.source.as_str(), flags).map_err(
            |e| MountError::BindSource {
                source_path: PathBuf::from(&self.source),
                source: e.into(),
            },
        )?;
        let attrs = attr_flags(&self.options);
        if !attrs.is_empty() {
            mount_setattr(tree.as_fd(), recursive, attrs.bits().into()).map_err(|source| {
                MountError::Attributes {
                    target: target.to_path_buf(),
                    options: self.options.clone(),
                    source,
                }
            })?;
        }
        attach(&tree, target)
    }

    fn mount_overlay(&self, target: &Path) -> Result<(), MountError> {
        match self.overlay_detached()? {
            Some(mnt) => attach(&mnt, target),
            None => self.mount_legacy(target),
        }
    }

    /// Create the overlay as a detached mount (not attached anywhere: it disappears when the
    /// fd is closed). `None` when the kernel lacks `lowerdir+` and the lower directories do
    /// not fit one `fsconfig` string: only `mount(2)` can do it then.
    pub(crate) fn overlay_detached(&self) -> Result<Option<OwnedFd>, MountError> {
        let kind = self.kind.clone();
        let fs = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC).map_err(|e| {
            MountError::Open {
                kind: kind.clone(),
                source: e.into(),
            }
        })?;
        let conf_err = |key: &str, value: &str, e: Errno| MountError::Configure {
            kind: kind.clone(),
            key: key.to_string(),
            value: value.to_string(),
            source: e.into(),
        };
        rustix::mount::fsconfig_set_string(&fs, "source", self.source.as_str())
            .map_err(|e| conf_err("source", &self.source, e))?;
        for opt in &self.options {
            if is_vfs_option(opt) {
                continue;
            }
            match opt.split_once('=') {
                Some(("lowerdir", value)) => {
                    for (i, dir) in split_lowerdir(value).iter().enumerate() {
                        match set_dir(&fs, "lowerdir+", dir) {
                            Ok(()) => {}
                            // No `lowerdir+` (Linux < 6.8): the whole list as one string.
                            Err(Errno::INVAL) if i == 0 && dir.len() < 256 => {
                                if value.len() >= 256 {
                                    return Ok(None);
                                }
                                rustix::mount::fsconfig_set_string(&fs, "lowerdir", value)
                                    .map_err(|e| conf_err("lowerdir", value, e))?;
                                break;
                            }
                            Err(e) => return Err(conf_err("lowerdir+", dir, e)),
                        }
                    }
                }
                Some((key @ ("upperdir" | "workdir" | "lowerdir+" | "datadir+"), value)) => {
                    set_dir(&fs, key, value).map_err(|e| conf_err(key, value, e))?;
                }
                Some((key, value)) => {
                    rustix::mount::fsconfig_set_string(&fs, key, value)
                        .map_err(|e| conf_err(key, value, e))?;
                }
                None => {
                    rustix::mount::fsconfig_set_flag(&fs, opt.as_str())
                        .map_err(|e| conf_err(opt, "", e))?;
                }
            }
        }
        rustix::mount::fsconfig_create(&fs).map_err(|e| MountError::Create {
            kind: kind.clone(),
            log: context_log(&fs),
            source: e.into(),
        })?;
        let mnt = rustix::mount::fsmount(
            &fs,
            FsMountFlags::FSMOUNT_CLOEXEC,
            attr_flags(&self.options),
        )
        .map_err(|e| MountError::Create {
            kind: kind.clone(),
            log: context_log(&fs),
            source: e.into(),
        })?;
        Ok(Some(mnt))
    }

    /// `mount(2)` with the options joined by commas (one page at most).
    fn mount_legacy(&self, target: &Path) -> Result<(), MountError> {
        let mut flags = MountFlags::empty();
        if self.is_read_only() {
            flags |= MountFlags::RDONLY;
        }
        let data: Vec<&str> = self
            .options
            .iter()
            .filter(|o| !is_vfs_option(o))
            .map(String::as_str)
            .collect();
        let data = CString::new(data.join(",")).map_err(|_| MountError::Invalid {
            reason: "an option contains a NUL byte".into(),
        })?;
        rustix::mount::mount(
            self.source.as_str(),
            target,
            self.kind.as_str(),
            flags,
            Some(data.as_c_str()),
        )
        .map_err(|e| MountError::Legacy {
            kind: self.kind.clone(),
            target: target.to_path_buf(),
            source: e.into(),
        })
    }
}

/// Set a directory parameter: as a string when short enough for `fsconfig` (255 bytes), else
/// as an `O_PATH` descriptor.
fn set_dir(fs: &OwnedFd, key: &str, dir: &str) -> Result<(), Errno> {
    if dir.len() < 256 {
        return rustix::mount::fsconfig_set_string(fs, key, dir);
    }
    let fd = rustix::fs::open(
        dir,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    rustix::mount::fsconfig_set_fd(fs, key, fd.as_fd())
}

/// The messages the kernel logged on a filesystem context (`e overlayfs: …` lines).
fn context_log(fs: &OwnedFd) -> String {
    let mut lines = Vec::new();
    let mut buf = [0u8; 1024];
    let mut file = std::fs::File::from(match fs.try_clone() {
        Ok(fd) => fd,
        Err(_) => return String::new(),
    });
    while let Ok(n) = file.read(&mut buf) {
        if n == 0 {
            break;
        }
        lines.push(String::from_utf8_lossy(&buf[..n]).trim_end().to_string());
    }
    if lines.is_empty() {
        "no kernel message".into()
    } else {
        lines.join("; ")
    }
}

fn attach(mnt: &OwnedFd, target: &Path) -> Result<(), MountError> {
    rustix::mount::move_mount(
        mnt,
        "",
        rustix::fs::CWD,
        target,
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
    .map_err(|e| MountError::Attach {
        target: target.to_path_buf(),
        source: e.into(),
    })
}

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], {attr_set})`: rustix has no wrapper.
fn mount_setattr(fd: BorrowedFd<'_>, recursive: bool, set: u64) -> io::Result<()> {
    const AT_RECURSIVE: libc::c_uint = 0x8000;
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= AT_RECURSIVE;
    }
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: `attr` is a valid, initialised mount_attr whose size is passed; the path is an
    // empty NUL-terminated string (AT_EMPTY_PATH); `fd` is a live descriptor.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Perform `mounts` in order at their targets below `root`.
pub fn mount_all(mounts: &[Mount], root: &Path) -> Result<(), MountError> {
    for m in mounts {
        m.mount_at_root(root)?;
    }
    Ok(())
}

/// Unmount the mount at `target` (not lazily: a mount that stays busy is an error).
///
/// `EBUSY` is retried for about two seconds first. A process that forks (berthd starting a
/// shim, a test spawning a child) copies the whole fd table, including the close-on-exec fds
/// another thread holds open inside `target` at that instant, and the child pins the mount until
/// it reaches `exec`. containerd's unmount retries for the same reason.
pub fn unmount(target: &Path) -> Result<(), MountError> {
    let mut pause = std::time::Duration::from_millis(1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match rustix::mount::unmount(target, UnmountFlags::empty()) {
            Err(Errno::BUSY) if std::time::Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(100));
            }
            result => {
                return result.map_err(|e| MountError::Unmount {
                    target: target.to_path_buf(),
                    source: e.into(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowerdir_splitting() {
        assert_eq!(split_lowerdir("/a:/b"), vec!["/a", "/b"]);
        assert_eq!(split_lowerdir("/a\\:x:/b"), vec!["/a:x", "/b"]);
        let m = Mount {
            kind: "overlay".into(),
            source: "overlay".into(),
            target: None,
            options: vec![
                "index=off".into(),
                "lowerdir=/1:/2".into(),
                "upperdir=/u".into(),
            ],
        };
        assert_eq!(m.lowerdirs(), vec!["/1", "/2"]);
        assert_eq!(m.option_value("upperdir"), Some("/u"));
        assert_eq!(m.option_value("upper"), None);
        assert!(!m.is_read_only());
    }

    #[test]
    fn json_form_is_the_oci_one() {
        let m = Mount {
            kind: "bind".into(),
            source: "/s".into(),
            target: None,
            options: vec!["ro".into(), "rbind".into()],
        };
        let j = serde_json::to_value(&m).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"type": "bind", "source": "/s", "options": ["ro", "rbind"]})
        );
    }
}
