//! The cgroup mounts of `/proc/self/mountinfo`, parsed once per [`Manager::new`](crate::Manager::new).

use std::path::{Path, PathBuf};

use crate::cgroup_file::{self, FileError};

const MOUNTINFO: &str = "/proc/self/mountinfo";

/// A failure to read or understand the mount table.
#[derive(Debug, thiserror::Error)]
pub enum MountinfoError {
    /// Reading `/proc/self/mountinfo` failed.
    #[error("read the mount table")]
    Read(#[source] FileError),
    /// A line does not have the documented shape.
    #[error("{MOUNTINFO} line {line}: malformed entry {entry:?}")]
    Malformed { line: usize, entry: String },
}

/// Which cgroup version a hierarchy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MountKind {
    V1,
    V2,
}

/// One mounted cgroup hierarchy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CgroupMount {
    pub kind: MountKind,
    /// The path inside the hierarchy that is mounted (the 4th field; "/" unless bind-mounted or
    /// seen from a cgroup namespace).
    pub root: PathBuf,
    pub mountpoint: PathBuf,
    /// v1: controllers bound to the hierarchy (`cpu`, `cpuacct`, `name=systemd`); v2: empty.
    pub controllers: Vec<String>,
}

/// Super options of a v1 cgroup mount that are not controllers.
fn is_controller_option(opt: &str) -> bool {
    !matches!(
        opt,
        "rw" | "ro"
            | "noprefix"
            | "clone_children"
            | "xattr"
            | "cpuset_v2_mode"
            | "all"
            | "none"
            | "favordynmods"
    ) && !opt.starts_with("release_agent=")
}

/// Undo the octal escapes (`\040` for space, ...) the kernel uses in mountinfo paths.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let oct = &b[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = u32::from(oct[0] - b'0') * 64
                    + u32::from(oct[1] - b'0') * 8
                    + u32::from(oct[2] - b'0');
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse mountinfo text, keeping cgroup mounts; a hierarchy mounted twice is kept once (first
/// mount wins), identified by its device number.
pub(crate) fn parse(text: &str) -> Result<Vec<CgroupMount>, MountinfoError> {
    let mut mounts = Vec::new();
    let mut seen_devices: Vec<&str> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let malformed = || MountinfoError::Malformed {
            line: n + 1,
            entry: line.to_owned(),
        };
        let (pre, post) = line.split_once(" - ").ok_or_else(malformed)?;
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 6 || post.len() < 3 {
            return Err(malformed());
        }
        let kind = match post[0] {
            "cgroup" => MountKind::V1,
            "cgroup2" => MountKind::V2,
            _ => continue,
        };
        let device = pre[2];
        if seen_devices.contains(&device) {
            continue;
        }
        seen_devices.push(device);
        let controllers = match kind {
            MountKind::V1 => post[2]
                .split(',')
                .filter(|o| is_controller_option(o))
                .map(str::to_owned)
                .collect(),
            MountKind::V2 => Vec::new(),
        };
        mounts.push(CgroupMount {
            kind,
            root: PathBuf::from(unescape(pre[3])),
            mountpoint: PathBuf::from(unescape(pre[4])),
            controllers,
        });
    }
    Ok(mounts)
}

/// The cgroup mounts of the calling process's mount namespace.
pub(crate) fn cgroup_mounts() -> Result<Vec<CgroupMount>, MountinfoError> {
    let text = cgroup_file::read_path(Path::new(MOUNTINFO)).map_err(MountinfoError::Read)?;
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
22 1 0:21 / /proc rw,nosuid - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:5 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
90 31 0:32 /docker /mnt/mem\\040dup rw - cgroup cgroup rw,memory
";

    #[test]
    fn parses_v1_controllers_names_and_v2() {
        let m = parse(HYBRID).unwrap();
        assert_eq!(m.len(), 4, "{m:?}");
        assert_eq!(m[0].controllers, vec!["cpu", "cpuacct"]);
        assert_eq!(m[0].mountpoint, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
        assert_eq!(m[1].controllers, vec!["memory"]);
        assert_eq!(m[2].controllers, vec!["name=systemd"]);
        assert_eq!(m[3].kind, MountKind::V2);
        assert!(m[3].controllers.is_empty());
    }

    #[test]
    fn duplicate_mounts_of_one_hierarchy_are_dropped_and_escapes_decoded() {
        let text = "90 31 0:32 /docker /mnt/mem\\040dup rw - cgroup cgroup rw,memory\n";
        let m = parse(text).unwrap();
        assert_eq!(m[0].mountpoint, Path::new("/mnt/mem dup"));
        assert_eq!(m[0].root, Path::new("/docker"));
        let m = parse(HYBRID).unwrap();
        assert_eq!(m.iter().filter(|m| m.controllers == ["memory"]).count(), 1);
    }

    #[test]
    fn malformed_line_is_an_error_naming_the_line() {
        let e = parse("1 2 3\n").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn reads_this_process_mount_table() {
        // Every Linux test host mounts some cgroup hierarchy.
        let m = cgroup_mounts().unwrap();
        assert!(!m.is_empty());
    }
}
