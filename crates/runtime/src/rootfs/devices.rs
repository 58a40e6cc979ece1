//! `/dev` inside the container: the default devices every container gets,
//! `linux.devices`, the standard symlinks, and `/dev/console`.

use std::os::fd::BorrowedFd;
use std::path::Path;

use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};
use rustix::fs::{FileType, Mode};

use super::mount::sys_mount;
use super::resolve::{self, Create};
use crate::Result;
use crate::error::OsContext;

/// (path, type, major, minor) of the devices runc always creates.
const DEFAULTS: &[(&str, u32, u32)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// The symlinks of a standard /dev.
const SYMLINKS: &[(&str, &str)] = &[
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
];

/// Create the default and listed devices. In a user namespace mknod is not
/// allowed, so the host's node is bind-mounted instead.
pub fn create(root: BorrowedFd<'_>, listed: &[LinuxDevice], userns: bool) -> Result<()> {
    for &(path, major, minor) in DEFAULTS {
        if listed.iter().any(|d| d.path() == Path::new(path)) {
            continue;
        }
        node(
            root,
            Path::new(path),
            FileType::CharacterDevice,
            major,
            minor,
            0o666,
            0,
            0,
            userns,
        )?;
    }
    for d in listed {
        let kind = match d.typ() {
            LinuxDeviceType::B => FileType::BlockDevice,
            LinuxDeviceType::P => FileType::Fifo,
            _ => FileType::CharacterDevice,
        };
        node(
            root,
            d.path(),
            kind,
            d.major() as u32,
            d.minor() as u32,
            d.file_mode().unwrap_or(0o666),
            d.uid().unwrap_or(0),
            d.gid().unwrap_or(0),
            userns,
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn node(
    root: BorrowedFd<'_>,
    path: &Path,
    kind: FileType,
    major: u32,
    minor: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    userns: bool,
) -> Result<()> {
    let what = || format!("create device {}", path.display());
    if userns {
        let target = resolve::open_in_root(root, path, Create::File).step(what)?;
        return sys_mount(
            Some(&path.display().to_string()),
            &resolve::fd_path(&target),
            None,
            libc::MS_BIND,
            "",
        )
        .step(|| format!("bind host device {}", path.display()));
    }
    let rel = resolve::relative(path);
    let (parent, name) = match (rel.parent(), rel.file_name()) {
        (Some(p), Some(n)) => (p.to_path_buf(), n.to_owned()),
        _ => {
            return Err(crate::Error::config(
                "linux.devices",
                format!("{}: not a device path", path.display()),
            ));
        }
    };
    let dir = resolve::open_in_root(root, &parent, Create::Dir).step(what)?;
    let dir = resolve::reopen_dir(&dir).step(what)?;
    // Replace whatever the image has at that path.
    let _ = rustix::fs::unlinkat(&dir, name.as_os_str(), rustix::fs::AtFlags::empty());
    let dev = rustix::fs::makedev(major, minor);
    rustix::fs::mknodat(
        &dir,
        name.as_os_str(),
        kind,
        Mode::from_raw_mode(mode & 0o7777),
        dev,
    )
    .step(what)?;
    rustix::fs::chownat(
        &dir,
        name.as_os_str(),
        Some(rustix::fs::Uid::from_raw(uid)),
        Some(rustix::fs::Gid::from_raw(gid)),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .step(|| format!("chown device {}", path.display()))?;
    Ok(())
}

/// `/dev/fd`, `/dev/std*`, `/dev/core` (when the host has /proc/kcore), and
/// `/dev/ptmx -> pts/ptmx` when devpts is mounted.
pub fn symlinks(root: BorrowedFd<'_>, devpts: bool) -> Result<()> {
    let dev = resolve::open_in_root(root, Path::new("/dev"), Create::Dir)
        .step(|| "open /dev".to_string())?;
    let dev = resolve::reopen_dir(&dev).step(|| "open /dev".to_string())?;
    let mut links: Vec<(&str, &str)> = SYMLINKS.to_vec();
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "/dev/core"));
    }
    if devpts {
        let _ = rustix::fs::unlinkat(&dev, "ptmx", rustix::fs::AtFlags::empty());
        links.push(("pts/ptmx", "/dev/ptmx"));
    }
    for (target, link) in links {
        let name = &link["/dev/".len()..];
        match rustix::fs::symlinkat(target, &dev, name) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(crate::Error::os(format!("symlink {link} -> {target}"), e)),
        }
    }
    Ok(())
}

/// Bind the pty slave `/dev/pts/N` over `/dev/console` (after pivot_root).
pub fn console(slave_name: &str) -> Result<()> {
    let fd = rustix::fs::open(
        "/dev/console",
        rustix::fs::OFlags::CREATE
            | rustix::fs::OFlags::WRONLY
            | rustix::fs::OFlags::CLOEXEC
            | rustix::fs::OFlags::NOFOLLOW,
        Mode::from_raw_mode(0o600),
    )
    .step(|| "create /dev/console".to_string())?;
    drop(fd);
    sys_mount(Some(slave_name), "/dev/console", None, libc::MS_BIND, "")
        .step(|| format!("bind {slave_name} on /dev/console"))
}
