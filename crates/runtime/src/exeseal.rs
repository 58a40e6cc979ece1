//! Protection against CVE-2019-5736: a container process must never be able
//! to open the runtime's own binary for writing through `/proc/<pid>/exe`.
//!
//! The container's init is a clone of the runtime, so until it executes the
//! user program its `/proc/self/exe` is the runtime binary; a hostile image
//! can make that execution itself run `/proc/self/exe` (a `#!/proc/self/exe`
//! script, an ELF interpreter), and another process in the container could
//! keep a descriptor to the binary and write to it once the runtime exits.
//!
//! The cure is to run the runtime from a file that cannot be written at all:
//! when `/proc/self/exe` is on a read-only mount (or a sealed memfd) nothing
//! is done — this is the fast path when Berth is installed that way. Else the
//! runtime re-executes itself once through a private, detached, read-only
//! overlayfs whose lower layer is the directory of the binary (no copy; the
//! same approach as runc 1.2), or, where overlayfs cannot be mounted, through
//! a sealed memfd copy.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

const MARKER: &str = "_BERTH_EXESEAL";

/// Does running this container need the sealed binary?
///
/// Not when the init gets a new pid namespace of its own: until it executes
/// the user program it is alone there, so no container process can see its
/// `/proc/<pid>/exe`; and if a hostile image makes that program be the
/// runtime itself (`#!/proc/self/exe`), every process that could reach the
/// file lives in that pid namespace, dies with its init, and cannot open a
/// file being executed for writing (ETXTBSY). `exec`, a joined pid
/// namespace, or the host's pid namespace put the runtime's clone next to
/// container processes that already run: those need the seal.
pub fn required_for(spec: &oci_spec::runtime::Spec) -> bool {
    let new_pid_ns = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| {
            ns.iter().any(|n| {
                n.typ() == oci_spec::runtime::LinuxNamespaceType::Pid
                    && n.path().as_ref().is_none_or(|p| p.as_os_str().is_empty())
            })
        });
    !new_pid_ns
}

/// Is our executable already impossible to write?
pub fn is_sealed() -> bool {
    if let Ok(st) = rustix::fs::statvfs("/proc/self/exe")
        && st.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY)
    {
        return true;
    }
    let Ok(f) = rustix::fs::open(
        "/proc/self/exe",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) else {
        return false;
    };
    rustix::fs::fcntl_get_seals(&f).is_ok_and(|s| s.contains(rustix::fs::SealFlags::WRITE))
}

/// Make sure we run from a sealed executable, re-executing once if not.
/// `scratch` is an empty directory the overlay needs as a second layer.
/// Returns when already sealed (or when sealing is impossible, with the
/// reason, so the caller can log it); does not return after a re-exec.
pub fn ensure_sealed(scratch: &Path) -> Result<(), String> {
    if is_sealed() {
        return Ok(());
    }
    if std::env::var_os(MARKER).is_some() {
        return Err("re-executed but the binary is still writable".into());
    }
    let exe = std::fs::read_link("/proc/self/exe")
        .map_err(|e| format!("readlink /proc/self/exe: {e}"))?;
    let sealed = match overlay(&exe, scratch) {
        Ok(fd) => fd,
        Err(overlay_err) => memfd_copy().map_err(|e| {
            format!("cannot seal the runtime binary: overlayfs: {overlay_err}; memfd: {e}")
        })?,
    };
    let argv: Vec<CString> = std::env::args_os()
        .filter_map(|a| CString::new(a.into_encoded_bytes()).ok())
        .collect();
    let mut envp: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv).ok()
        })
        .collect();
    envp.push(CString::new(format!("{MARKER}=1")).expect("no NUL"));
    let err = crate::sys::execveat(sealed.as_fd(), &argv, &envp);
    Err(format!("re-execute the sealed runtime: {err}"))
}

/// Drop the marker from our environment (so it does not reach containers).
pub fn clear_marker() {
    // SAFETY: called first thing in main, before any thread exists, which
    // is what `remove_var` requires.
    unsafe { std::env::remove_var(MARKER) };
}

fn escape_lowerdir(p: &Path) -> String {
    p.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace(':', "\\:")
}

fn overlay(exe: &Path, scratch: &Path) -> std::io::Result<OwnedFd> {
    use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};
    let (dir, name): (PathBuf, _) = match (exe.parent(), exe.file_name()) {
        (Some(d), Some(n)) => (d.to_path_buf(), n.to_owned()),
        _ => return Err(std::io::Error::other("odd executable path")),
    };
    std::fs::create_dir_all(scratch)?;
    let fs = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    // Two lower layers and no upper one: a read-only overlay; the binary's
    // directory on top so nothing in the scratch layer can shadow it.
    let lower = format!("{}:{}", escape_lowerdir(&dir), escape_lowerdir(scratch));
    rustix::mount::fsconfig_set_string(&fs, "lowerdir", lower.as_str())?;
    let _ = rustix::mount::fsconfig_set_string(&fs, "xino", "off");
    rustix::mount::fsconfig_create(&fs)?;
    let mnt = rustix::mount::fsmount(
        &fs,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::MOUNT_ATTR_RDONLY
            | MountAttrFlags::MOUNT_ATTR_NODEV
            | MountAttrFlags::MOUNT_ATTR_NOSUID,
    )?;
    Ok(rustix::fs::openat(
        &mnt,
        name.as_os_str(),
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC | rustix::fs::OFlags::NOFOLLOW,
        rustix::fs::Mode::empty(),
    )?)
}

fn memfd_copy() -> std::io::Result<OwnedFd> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let mem = rustix::fs::memfd_create(
        "berth-runtime",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut src = std::fs::File::open("/proc/self/exe")?;
    let mut dst = std::fs::File::from(mem);
    std::io::copy(&mut src, &mut dst)?;
    let mem = OwnedFd::from(dst);
    rustix::fs::fcntl_add_seals(
        &mem,
        SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
    )?;
    Ok(mem)
}
