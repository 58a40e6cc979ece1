//! `process.rlimits`: checked up front against what this runtime may grant,
//! then set in the container's process.

use oci_spec::runtime::{Capability, PosixRlimit, PosixRlimitType};
use rustix::process::{Resource, Rlimit};

use crate::{Error, Result};

/// The kernel resource and the name runc uses for it.
pub fn resource(t: PosixRlimitType) -> (Resource, &'static str) {
    use PosixRlimitType::*;
    match t {
        RlimitCpu => (Resource::Cpu, "RLIMIT_CPU"),
        RlimitFsize => (Resource::Fsize, "RLIMIT_FSIZE"),
        RlimitData => (Resource::Data, "RLIMIT_DATA"),
        RlimitStack => (Resource::Stack, "RLIMIT_STACK"),
        RlimitCore => (Resource::Core, "RLIMIT_CORE"),
        RlimitRss => (Resource::Rss, "RLIMIT_RSS"),
        RlimitNproc => (Resource::Nproc, "RLIMIT_NPROC"),
        RlimitNofile => (Resource::Nofile, "RLIMIT_NOFILE"),
        RlimitMemlock => (Resource::Memlock, "RLIMIT_MEMLOCK"),
        RlimitAs => (Resource::As, "RLIMIT_AS"),
        RlimitLocks => (Resource::Locks, "RLIMIT_LOCKS"),
        RlimitSigpending => (Resource::Sigpending, "RLIMIT_SIGPENDING"),
        RlimitMsgqueue => (Resource::Msgqueue, "RLIMIT_MSGQUEUE"),
        RlimitNice => (Resource::Nice, "RLIMIT_NICE"),
        RlimitRtprio => (Resource::Rtprio, "RLIMIT_RTPRIO"),
        RlimitRttime => (Resource::Rttime, "RLIMIT_RTTIME"),
    }
}

fn limit(v: u64) -> Option<u64> {
    (v != u64::MAX).then_some(v)
}

/// Refuse, before anything is created, limits this process cannot grant:
/// raising a hard limit needs `CAP_SYS_RESOURCE` (in the runtime's user
/// namespace), and soft may not exceed hard.
pub fn check(rlimits: &[PosixRlimit], field: &str) -> Result<()> {
    let privileged = crate::capabilities::have(Capability::SysResource);
    for (i, r) in rlimits.iter().enumerate() {
        let (res, name) = resource(r.typ());
        if r.soft() > r.hard() {
            return Err(Error::config(
                format!("{field}[{i}]"),
                format!(
                    "{name}: soft limit {} is above hard limit {}",
                    r.soft(),
                    r.hard()
                ),
            ));
        }
        if r.typ() == PosixRlimitType::RlimitNofile {
            let nr_open: u64 = std::fs::read_to_string("/proc/sys/fs/nr_open")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(1 << 20);
            if r.hard() > nr_open && r.hard() != u64::MAX {
                return Err(Error::config(
                    format!("{field}[{i}]"),
                    format!(
                        "{name}: hard limit {} is above the kernel's maximum (fs.nr_open = {nr_open})",
                        r.hard()
                    ),
                ));
            }
        }
        if privileged {
            continue;
        }
        let current = rustix::process::getrlimit(res);
        let cur_hard = current.maximum.unwrap_or(u64::MAX);
        if r.hard() > cur_hard {
            return Err(Error::config(
                format!("{field}[{i}]"),
                format!(
                    "{name}: hard limit {} is above this runtime's hard limit {cur_hard}, \
                     and raising it needs CAP_SYS_RESOURCE, which the runtime does not have",
                    r.hard()
                ),
            ));
        }
    }
    Ok(())
}

/// Set the limits in the calling process.
pub fn apply(rlimits: &[PosixRlimit]) -> std::result::Result<(), String> {
    for r in rlimits {
        let (res, name) = resource(r.typ());
        rustix::process::setrlimit(
            res,
            Rlimit {
                current: limit(r.soft()),
                maximum: limit(r.hard()),
            },
        )
        .map_err(|e| {
            format!(
                "setrlimit {name} (soft {}, hard {}): {e}",
                r.soft(),
                r.hard()
            )
        })?;
    }
    Ok(())
}
