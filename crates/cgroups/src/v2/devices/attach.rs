//! Loading the device filter program and attaching it to a cgroup v2 directory, replacing the
//! program attached before (on `update`). Thin wrappers around `bpf(2)`; each `unsafe` block is
//! one syscall.
//!
//! Attach protocol: query the `BPF_CGROUP_DEVICE` programs attached to the cgroup itself; load
//! the new program; if exactly one program was attached, atomically swap it with
//! `BPF_F_ALLOW_MULTI | BPF_F_REPLACE`; otherwise (none, several, or a kernel without
//! `BPF_F_REPLACE`) attach with `BPF_F_ALLOW_MULTI` and then detach every old one. The new program
//! is in place before an old one is removed, so there is no window without a filter.
//! Programs are detached by the kernel when the cgroup is removed.

use std::ffi::c_void;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use super::program::{Instruction, LICENSE, Program};

// Commands, types and flags from include/uapi/linux/bpf.h.
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;
const BPF_F_REPLACE: u32 = 1 << 2;

/// A failed `bpf(2)` step.
#[derive(Debug, thiserror::Error)]
pub enum BpfError {
    /// Opening the cgroup directory failed.
    #[error("open cgroup directory {path}")]
    OpenCgroup {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `BPF_PROG_LOAD` failed; `log` is the verifier's explanation when there is one.
    #[error("load device filter program ({insns} instructions){}", if log.is_empty() { String::new() } else { format!("; verifier log: {log}") })]
    Load {
        insns: usize,
        log: String,
        #[source]
        source: io::Error,
    },
    /// `BPF_PROG_QUERY` failed.
    #[error("query device filter programs attached to {path}")]
    Query {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `BPF_PROG_GET_FD_BY_ID` failed for an attached program.
    #[error("open attached device filter program id {id}")]
    GetFd {
        id: u32,
        #[source]
        source: io::Error,
    },
    /// `BPF_PROG_ATTACH` failed.
    #[error("attach device filter program to {path}")]
    Attach {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `BPF_PROG_DETACH` of an old program failed (the new one is attached).
    #[error("detach old device filter program from {path}")]
    Detach {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// `bpf(cmd, attr, sizeof(*attr))`.
///
/// # Safety
///
/// `attr` must point to a `#[repr(C)]` value whose layout is the prefix of `union bpf_attr` that
/// `cmd` reads, with all padding zeroed; every pointer stored in it must be valid for the access
/// the kernel makes (reads of `insns`/`license`, writes of `log_buf`/`prog_ids` up to the sizes
/// given) for the duration of the call.
unsafe fn sys_bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    let size = std::mem::size_of::<T>() as libc::c_ulong;
    // SAFETY: forwarded from the caller's contract; `attr` is a live exclusive reference.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T as *mut c_void, size) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Take ownership of a fd returned by `bpf(2)`, moving it off 0-2: the kernel reads fd 0 in
/// some attrs as "none".
fn own_fd(raw: libc::c_long) -> io::Result<OwnedFd> {
    let raw =
        i32::try_from(raw).map_err(|_| io::Error::other("bpf returned an out-of-range fd"))?;
    // SAFETY: the kernel just returned this new descriptor to us; nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    if raw > 2 {
        return Ok(fd);
    }
    Ok(rustix::io::fcntl_dupfd_cloexec(&fd, 3)?)
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

const PROG_NAME: &[u8] = b"berth_devices";

fn prog_load(bytes: &[u8], log: Option<&mut Vec<u8>>) -> io::Result<OwnedFd> {
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: u32::try_from(bytes.len() / Instruction::SIZE)
            .map_err(|_| io::Error::other("program too large"))?,
        insns: bytes.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        expected_attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    attr.prog_name[..PROG_NAME.len()].copy_from_slice(PROG_NAME);
    if let Some(log) = log {
        attr.log_level = 1;
        attr.log_size = u32::try_from(log.len()).unwrap_or(u32::MAX);
        attr.log_buf = log.as_mut_ptr() as u64;
    }
    // The verifier can be interrupted by a signal and then returns EAGAIN.
    for _ in 0..10 {
        // SAFETY: ProgLoadAttr is the BPF_PROG_LOAD prefix of bpf_attr (no padding: every field
        // is naturally aligned and sizes add up); insns/license/log_buf point at live buffers of
        // the sizes given, borrowed for the whole call.
        match unsafe { sys_bpf(BPF_PROG_LOAD, &mut attr) } {
            Ok(fd) => return own_fd(fd),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::EAGAIN))
}

/// Load a device filter program; the verifier's log is attached to the error on failure.
pub fn load(program: &Program) -> Result<OwnedFd, BpfError> {
    let bytes = program.to_bytes();
    let insns = program.instructions().len();
    match prog_load(&bytes, None) {
        Ok(fd) => Ok(fd),
        Err(first) => {
            // Retry with the verifier log to explain the failure (off the fast path).
            let mut log = vec![0u8; 64 * 1024];
            let source = match prog_load(&bytes, Some(&mut log)) {
                Ok(fd) => return Ok(fd),
                Err(_) => first,
            };
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let log = String::from_utf8_lossy(&log[..end]).trim().to_owned();
            Err(BpfError::Load { insns, log, source })
        }
    }
}

#[repr(C)]
#[derive(Default)]
struct ProgQueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
    prog_attach_flags: u64,
    link_ids: u64,
    link_attach_flags: u64,
    // Kernels from 6.17 write `revision` whatever size is passed; declaring it keeps that write
    // inside this struct.
    revision: u64,
}

/// Ids of the device filter programs attached directly to the cgroup `dir_fd`.
fn query_ids(dir_fd: BorrowedFd<'_>) -> io::Result<Vec<u32>> {
    // A cgroup holds at most 64 programs per attach type; retry if it grew meanwhile.
    let mut ids = vec![0u32; 64];
    for _ in 0..4 {
        let mut attr = ProgQueryAttr {
            target_fd: dir_fd.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: u32::try_from(ids.len()).unwrap_or(u32::MAX),
            ..Default::default()
        };
        // SAFETY: ProgQueryAttr is the BPF_PROG_QUERY layout of bpf_attr with explicit padding;
        // prog_ids points at `prog_cnt` writable u32s that live across the call.
        match unsafe { sys_bpf(BPF_PROG_QUERY, &mut attr) } {
            Ok(_) => {
                ids.truncate(attr.prog_cnt as usize);
                return Ok(ids);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => {
                ids = vec![0u32; attr.prog_cnt as usize + 8];
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ENOSPC))
}

#[repr(C)]
#[derive(Default)]
struct GetFdByIdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

fn prog_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut attr = GetFdByIdAttr {
        prog_id: id,
        ..Default::default()
    };
    // SAFETY: GetFdByIdAttr is the BPF_PROG_GET_FD_BY_ID layout; it holds no pointers.
    let fd = unsafe { sys_bpf(BPF_PROG_GET_FD_BY_ID, &mut attr) }?;
    own_fd(fd)
}

#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

fn prog_attach(
    cgroup: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    flags: u32,
    replace: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: flags,
        replace_bpf_fd: replace.map_or(0, |fd| fd.as_raw_fd() as u32),
    };
    // SAFETY: AttachAttr is the BPF_PROG_ATTACH prefix of bpf_attr; it holds only descriptors
    // that are open for the duration of the call.
    unsafe { sys_bpf(BPF_PROG_ATTACH, &mut attr) }.map(drop)
}

fn prog_detach(cgroup: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    // SAFETY: as for prog_attach; BPF_PROG_DETACH reads the same fields.
    unsafe { sys_bpf(BPF_PROG_DETACH, &mut attr) }.map(drop)
}

fn open_cgroup(dir: &Path) -> Result<OwnedFd, BpfError> {
    rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| BpfError::OpenCgroup {
        path: dir.to_path_buf(),
        source: e.into(),
    })
}

/// Ids of the device filter programs attached directly to the cgroup directory `dir`.
pub fn attached_program_ids(dir: &Path) -> Result<Vec<u32>, BpfError> {
    let fd = open_cgroup(dir)?;
    query_ids(fd.as_fd()).map_err(|source| BpfError::Query {
        path: dir.to_path_buf(),
        source,
    })
}

/// Load `program` and make it the only device filter attached to the cgroup directory `dir`
/// (see the module doc for the protocol).
pub fn install(dir: &Path, program: &Program) -> Result<(), BpfError> {
    let cgroup = open_cgroup(dir)?;
    let ids = query_ids(cgroup.as_fd()).map_err(|source| BpfError::Query {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut old = Vec::with_capacity(ids.len());
    for id in ids {
        match prog_fd_by_id(id) {
            Ok(fd) => old.push(fd),
            // A program an LSM hides from us can only restrict further; leave it.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES)) => {}
            // Detached meanwhile.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(source) => return Err(BpfError::GetFd { id, source }),
        }
    }
    let new = load(program)?;
    let attach_err = |source| BpfError::Attach {
        path: dir.to_path_buf(),
        source,
    };
    if let [only] = old.as_slice() {
        match prog_attach(
            cgroup.as_fd(),
            new.as_fd(),
            BPF_F_ALLOW_MULTI | BPF_F_REPLACE,
            Some(only.as_fd()),
        ) {
            Ok(()) => return Ok(()),
            // EINVAL: kernel without BPF_F_REPLACE (< 5.6); fall back to attach + detach.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(attach_err(e)),
        }
    }
    prog_attach(cgroup.as_fd(), new.as_fd(), BPF_F_ALLOW_MULTI, None).map_err(attach_err)?;
    for fd in &old {
        match prog_detach(cgroup.as_fd(), fd.as_fd()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(source) => {
                return Err(BpfError::Detach {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(())
}
