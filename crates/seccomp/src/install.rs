//! Attaching a [`Program`] to the calling process.
//!
//! The caller is expected to be the container's init (or an exec'd process)
//! right before `execve`, typically a freshly cloned single-threaded child.
//! Therefore [`Program::install`] does not allocate at all, before or after the
//! syscall, and its error holds only plain values.
//!
//! Preconditions the caller owns: either `no_new_privs` is set
//! (`prctl(PR_SET_NO_NEW_PRIVS)`), or the process has `CAP_SYS_ADMIN` in its
//! user namespace; otherwise the kernel answers `EACCES`. When the filter is
//! installed while capabilities are still held, every syscall made
//! afterwards (capability dropping, `execve`) must be allowed by it.

use std::os::fd::{FromRawFd, OwnedFd};

use rustix::io::Errno;

use crate::{filter_flags, program::Program, sys};

/// The kernel refused the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// `seccomp(SECCOMP_SET_MODE_FILTER)` failed.
    #[error("seccomp(SECCOMP_SET_MODE_FILTER, flags {flags:#x}): {source}")]
    SetModeFilter {
        /// The `SECCOMP_FILTER_FLAG_*` bits passed.
        flags: u32,
        /// The kernel's answer: `EACCES` without `no_new_privs` or
        /// `CAP_SYS_ADMIN`, `EINVAL` for a flag it does not know, `ESRCH` when
        /// `TSYNC` could not synchronize another thread.
        #[source]
        source: Errno,
    },
}

impl Program {
    /// `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)` in the calling thread
    /// (all threads with `SECCOMP_FILTER_FLAG_TSYNC`).
    ///
    /// The flags are exactly the profile's (`TSYNC`, `LOG`, `SPEC_ALLOW`,
    /// `WAIT_KILLABLE_RECV`), plus `NEW_LISTENER` (and `TSYNC_ESRCH` with
    /// `TSYNC`) when a rule uses `SCMP_ACT_NOTIFY`. If the profile has no
    /// `flags` field, `SPEC_ALLOW` is requested and dropped again if the
    /// kernel predates it (`EINVAL`).
    ///
    /// Returns the listener fd (close-on-exec) when `NEW_LISTENER` was used.
    /// Never allocates.
    pub fn install(&self) -> crate::Result<Option<OwnedFd>> {
        Ok(self.install_raw()?)
    }

    fn install_raw(&self) -> Result<Option<OwnedFd>, InstallError> {
        let mut flags = self.flags;
        let fd = loop {
            match sys::set_mode_filter(flags, Some(&self.filter)) {
                Ok(fd) => break fd,
                Err(Errno::INVAL) if flags & self.optional_flags != 0 => {
                    flags &= !self.optional_flags;
                }
                Err(source) => return Err(InstallError::SetModeFilter { flags, source }),
            }
        };
        if flags & filter_flags::NEW_LISTENER == 0 {
            return Ok(None);
        }
        // SAFETY: with NEW_LISTENER the kernel's successful return value is a
        // new file descriptor that nothing else owns.
        Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
}
