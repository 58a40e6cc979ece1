//! Mount options as strings (`"ro"`, `"nosuid"`, `"rbind"`, `"rslave"`,
//! `"rro"`, `"mode=755"`) parsed into what the mount calls take: flags to
//! set and clear, propagation, recursive attributes, and filesystem data.

use rustix::mount::MountFlags as M;

/// A parsed option list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `MS_*` flags to set.
    pub flags: u64,
    /// `MS_*` flags explicitly cleared (`rw`, `suid`, `dev`, ...).
    pub cleared: u64,
    /// Propagation flags, applied after the mount (`MS_SHARED|MS_REC`...).
    pub propagation: Vec<u64>,
    /// Recursive attributes to set with `mount_setattr(AT_RECURSIVE)`.
    pub rec_set: u64,
    /// Recursive attributes to clear.
    pub rec_clear: u64,
    /// Recursive atime mode (`rrelatime`, `rnoatime`, `rstrictatime`).
    pub rec_atime: Option<u64>,
    /// Filesystem-specific options, comma-joined.
    pub data: String,
    /// `tmpcopyup`: copy the target's previous content into a new tmpfs.
    pub tmpcopyup: bool,
    /// `idmap` / `ridmap`: make the bind mount idmapped.
    pub idmap: bool,
}

const MS_BIND: u64 = M::BIND.bits() as u64;
const MS_REC: u64 = 0x4000;

impl Options {
    /// Is this a bind mount (`bind`/`rbind` or type `bind`)?
    pub fn is_bind(&self) -> bool {
        self.flags & MS_BIND != 0
    }

    /// Is the bind recursive?
    pub fn is_recursive(&self) -> bool {
        self.flags & MS_REC != 0
    }
}

// Attribute bits of mount_setattr(2).
pub(crate) const ATTR_RDONLY: u64 = 0x1;
pub(crate) const ATTR_NOSUID: u64 = 0x2;
pub(crate) const ATTR_NODEV: u64 = 0x4;
pub(crate) const ATTR_NOEXEC: u64 = 0x8;
const ATTR_RELATIME: u64 = 0x0;
const ATTR_NOATIME: u64 = 0x10;
const ATTR_STRICTATIME: u64 = 0x20;
const ATTR_ATIME_MASK: u64 = 0x70;
const ATTR_NODIRATIME: u64 = 0x80;
const ATTR_NOSYMFOLLOW: u64 = 0x0020_0000;

/// Parse `options`; `fs_type == "bind"` counts as a bind mount.
pub fn parse(options: &[String], fs_type: Option<&str>) -> Options {
    let mut o = Options::default();
    if fs_type == Some("bind") {
        o.flags |= MS_BIND;
    }
    let mut data = Vec::new();
    for opt in options {
        let (set, clear): (u64, u64) = match opt.as_str() {
            "acl" => (libc::MS_POSIXACL, 0),
            "async" => (0, libc::MS_SYNCHRONOUS),
            "atime" => (0, libc::MS_NOATIME),
            "bind" => (libc::MS_BIND, 0),
            "defaults" => (0, 0),
            "dev" => (0, libc::MS_NODEV),
            "diratime" => (0, libc::MS_NODIRATIME),
            "dirsync" => (libc::MS_DIRSYNC, 0),
            "exec" => (0, libc::MS_NOEXEC),
            "iversion" => (libc::MS_I_VERSION, 0),
            "lazytime" => (libc::MS_LAZYTIME, 0),
            "loud" => (0, libc::MS_SILENT),
            "mand" => (libc::MS_MANDLOCK, 0),
            "noacl" => (0, libc::MS_POSIXACL),
            "noatime" => (libc::MS_NOATIME, 0),
            "nodev" => (libc::MS_NODEV, 0),
            "nodiratime" => (libc::MS_NODIRATIME, 0),
            "noexec" => (libc::MS_NOEXEC, 0),
            "noiversion" => (0, libc::MS_I_VERSION),
            "nolazytime" => (0, libc::MS_LAZYTIME),
            "nomand" => (0, libc::MS_MANDLOCK),
            "norelatime" => (0, libc::MS_RELATIME),
            "nostrictatime" => (0, libc::MS_STRICTATIME),
            "nosuid" => (libc::MS_NOSUID, 0),
            "nosymfollow" => (0x100, 0),
            "rbind" => (libc::MS_BIND | libc::MS_REC, 0),
            "relatime" => (libc::MS_RELATIME, 0),
            "remount" => (libc::MS_REMOUNT, 0),
            "ro" => (libc::MS_RDONLY, 0),
            "rw" => (0, libc::MS_RDONLY),
            "silent" => (libc::MS_SILENT, 0),
            "strictatime" => (libc::MS_STRICTATIME, 0),
            "suid" => (0, libc::MS_NOSUID),
            "sync" => (libc::MS_SYNCHRONOUS, 0),
            "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave" | "unbindable"
            | "runbindable" => {
                o.propagation.push(propagation(opt).unwrap_or(0));
                continue;
            }
            "tmpcopyup" => {
                o.tmpcopyup = true;
                continue;
            }
            "idmap" | "ridmap" => {
                o.idmap = true;
                continue;
            }
            "rrelatime" => {
                o.rec_atime = Some(ATTR_RELATIME);
                continue;
            }
            "rnoatime" => {
                o.rec_atime = Some(ATTR_NOATIME);
                continue;
            }
            "rstrictatime" => {
                o.rec_atime = Some(ATTR_STRICTATIME);
                continue;
            }
            // Relatime is the kernel's default atime mode: nothing to clear.
            "rnorelatime" => continue,
            other => {
                if let Some((set, attr)) = recursive_attr(other) {
                    if set {
                        o.rec_set |= attr;
                        o.rec_clear &= !attr;
                    } else {
                        o.rec_clear |= attr;
                        o.rec_set &= !attr;
                    }
                } else if !other.is_empty() {
                    data.push(other.to_string());
                }
                continue;
            }
        };
        o.flags = (o.flags | set) & !clear;
        o.cleared = (o.cleared | clear) & !set;
    }
    o.data = data.join(",");
    o
}

/// The `MS_*` propagation flags for a name like `rslave`.
pub fn propagation(name: &str) -> Option<u64> {
    Some(match name {
        "private" => libc::MS_PRIVATE,
        "rprivate" => libc::MS_PRIVATE | libc::MS_REC,
        "shared" => libc::MS_SHARED,
        "rshared" => libc::MS_SHARED | libc::MS_REC,
        "slave" => libc::MS_SLAVE,
        "rslave" => libc::MS_SLAVE | libc::MS_REC,
        "unbindable" => libc::MS_UNBINDABLE,
        "runbindable" => libc::MS_UNBINDABLE | libc::MS_REC,
        _ => return None,
    })
}

/// runc's recursive options: (`true` = set / `false` = clear, attribute).
fn recursive_attr(opt: &str) -> Option<(bool, u64)> {
    Some(match opt {
        "rro" => (true, ATTR_RDONLY),
        "rrw" => (false, ATTR_RDONLY),
        "rnosuid" => (true, ATTR_NOSUID),
        "rsuid" => (false, ATTR_NOSUID),
        "rnodev" => (true, ATTR_NODEV),
        "rdev" => (false, ATTR_NODEV),
        "rnoexec" => (true, ATTR_NOEXEC),
        "rexec" => (false, ATTR_NOEXEC),
        "rnodiratime" => (true, ATTR_NODIRATIME),
        "rdiratime" => (false, ATTR_NODIRATIME),
        "ratime" => (false, ATTR_NOATIME),
        "rnostrictatime" => (false, ATTR_STRICTATIME),
        "rnosymfollow" => (true, ATTR_NOSYMFOLLOW),
        "rsymfollow" => (false, ATTR_NOSYMFOLLOW),
        _ => return None,
    })
}

/// The atime mask of `mount_setattr`.
pub const ATTR_ATIME: u64 = ATTR_ATIME_MASK;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(opts: &[&str]) -> Options {
        parse(
            &opts.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            None,
        )
    }

    #[test]
    fn flags_set_and_clear_in_order() {
        let o = p(&["nosuid", "noexec", "ro", "rw", "mode=755", "size=65536k"]);
        assert_eq!(o.flags, libc::MS_NOSUID | libc::MS_NOEXEC);
        assert_eq!(o.cleared, libc::MS_RDONLY);
        assert_eq!(o.data, "mode=755,size=65536k");
    }

    #[test]
    fn binds_propagation_and_recursive_attrs() {
        let o = p(&["rbind", "rslave", "rro"]);
        assert!(o.is_bind() && o.is_recursive());
        assert_eq!(o.propagation, vec![libc::MS_SLAVE | libc::MS_REC]);
        assert_eq!(o.rec_set, ATTR_RDONLY);
        let o = parse(&[], Some("bind"));
        assert!(o.is_bind() && !o.is_recursive());
    }
}
