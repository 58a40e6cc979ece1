//! `SECCOMP_FILTER_FLAG_*`: the bits seccomp(2) takes, how the profile's
//! `flags` map to them, and which of them the running kernel accepts.

use std::sync::OnceLock;

use oci_spec::runtime::LinuxSeccompFilterFlag;
use rustix::io::Errno;

use crate::sys;

pub(crate) const TSYNC: u32 = 1 << 0;
pub(crate) const LOG: u32 = 1 << 1;
pub(crate) const SPEC_ALLOW: u32 = 1 << 2;
pub(crate) const NEW_LISTENER: u32 = 1 << 3;
pub(crate) const TSYNC_ESRCH: u32 = 1 << 4;
pub(crate) const WAIT_KILLABLE_RECV: u32 = 1 << 5;

/// Every bit a [`Program`](crate::Program) may carry.
pub(crate) const KNOWN: u32 =
    TSYNC | LOG | SPEC_ALLOW | NEW_LISTENER | TSYNC_ESRCH | WAIT_KILLABLE_RECV;

/// The flags the runtime-spec names, in the order `features` lists them.
pub(crate) const SPEC_FLAGS: [LinuxSeccompFilterFlag; 4] = [
    LinuxSeccompFilterFlag::SeccompFilterFlagTsync,
    LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow,
    LinuxSeccompFilterFlag::SeccompFilterFlagLog,
    LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv,
];

/// The seccomp(2) bit for a profile flag.
pub(crate) fn bit(flag: LinuxSeccompFilterFlag) -> u32 {
    match flag {
        LinuxSeccompFilterFlag::SeccompFilterFlagTsync => TSYNC,
        LinuxSeccompFilterFlag::SeccompFilterFlagLog => LOG,
        LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => SPEC_ALLOW,
        LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => WAIT_KILLABLE_RECV,
    }
}

/// The bits the kernel needs alongside `flag` for a probe to be meaningful:
/// `WAIT_KILLABLE_RECV` is only valid with `NEW_LISTENER`.
fn probe_bits(flag: LinuxSeccompFilterFlag) -> u32 {
    match flag {
        LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
            WAIT_KILLABLE_RECV | NEW_LISTENER
        }
        other => bit(other),
    }
}

/// Whether the running kernel accepts `flag`. Probed once per process with a
/// NULL program (see [`sys::set_mode_filter`]); nothing is installed.
pub(crate) fn kernel_supports(flag: LinuxSeccompFilterFlag) -> bool {
    static PROBED: OnceLock<[bool; 4]> = OnceLock::new();
    let probed = PROBED.get_or_init(|| SPEC_FLAGS.map(|f| probe(probe_bits(f))));
    SPEC_FLAGS
        .iter()
        .position(|&f| f == flag)
        .is_some_and(|i| probed[i])
}

fn probe(bits: u32) -> bool {
    // EFAULT: the flags passed the kernel's checks and it went on to read the
    // (NULL) program.
    matches!(sys::set_mode_filter(bits, None), Err(Errno::FAULT))
}

/// The spec's name of a flag, `SECCOMP_FILTER_FLAG_*`.
pub(crate) fn name(flag: LinuxSeccompFilterFlag) -> String {
    flag.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_match_the_kernel_uapi() {
        assert_eq!(u64::from(TSYNC), libc::SECCOMP_FILTER_FLAG_TSYNC);
        assert_eq!(u64::from(LOG), libc::SECCOMP_FILTER_FLAG_LOG);
        assert_eq!(u64::from(SPEC_ALLOW), libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW);
        assert_eq!(
            u64::from(NEW_LISTENER),
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
        );
        assert_eq!(
            u64::from(TSYNC_ESRCH),
            libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH
        );
        assert_eq!(
            u64::from(WAIT_KILLABLE_RECV),
            libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        );
    }

    #[test]
    fn this_kernel_supports_every_spec_flag() {
        // The test machine runs Linux 6.18; WAIT_KILLABLE_RECV exists since 5.19.
        for f in SPEC_FLAGS {
            assert!(kernel_supports(f), "{f}");
        }
        // A bit no kernel knows is refused.
        assert!(!probe(1 << 30));
    }
}
