//! Linux capabilities: the five sets of `process.capabilities` as bitmasks,
//! and applying them in the order that keeps them across the uid change.

use oci_spec::runtime::{Capabilities, Capability, LinuxCapabilities};
use rustix::thread::{CapabilitySet, CapabilitySets};

/// The kernel's number for a capability.
pub fn number(cap: Capability) -> u32 {
    use Capability::*;
    match cap {
        Chown => 0,
        DacOverride => 1,
        DacReadSearch => 2,
        Fowner => 3,
        Fsetid => 4,
        Kill => 5,
        Setgid => 6,
        Setuid => 7,
        Setpcap => 8,
        LinuxImmutable => 9,
        NetBindService => 10,
        NetBroadcast => 11,
        NetAdmin => 12,
        NetRaw => 13,
        IpcLock => 14,
        IpcOwner => 15,
        SysModule => 16,
        SysRawio => 17,
        SysChroot => 18,
        SysPtrace => 19,
        SysPacct => 20,
        SysAdmin => 21,
        SysBoot => 22,
        SysNice => 23,
        SysResource => 24,
        SysTime => 25,
        SysTtyConfig => 26,
        Mknod => 27,
        Lease => 28,
        AuditWrite => 29,
        AuditControl => 30,
        Setfcap => 31,
        MacOverride => 32,
        MacAdmin => 33,
        Syslog => 34,
        WakeAlarm => 35,
        BlockSuspend => 36,
        AuditRead => 37,
        Perfmon => 38,
        Bpf => 39,
        CheckpointRestore => 40,
    }
}

/// The highest capability this kernel knows (`/proc/sys/kernel/cap_last_cap`).
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// A set of capabilities as the kernel's bitmask.
pub fn mask(caps: Option<&Capabilities>) -> u64 {
    caps.map(|c| c.iter().fold(0u64, |m, &c| m | 1u64 << number(c)))
        .unwrap_or(0)
}

/// The five sets, as bitmasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    /// Bounding set.
    pub bounding: u64,
    /// Effective set.
    pub effective: u64,
    /// Permitted set.
    pub permitted: u64,
    /// Inheritable set.
    pub inheritable: u64,
    /// Ambient set.
    pub ambient: u64,
}

impl CapSets {
    /// From the spec; `None` means "no capabilities at all" (the spec's
    /// meaning of an absent object for a non-privileged process).
    pub fn from_spec(caps: Option<&LinuxCapabilities>) -> CapSets {
        let Some(c) = caps else {
            return CapSets::default();
        };
        CapSets {
            bounding: mask(c.bounding().as_ref()),
            effective: mask(c.effective().as_ref()),
            permitted: mask(c.permitted().as_ref()),
            inheritable: mask(c.inheritable().as_ref()),
            ambient: mask(c.ambient().as_ref()),
        }
    }

    /// Step 1, while still privileged: shrink the bounding set.
    pub fn drop_bounding(&self, last_cap: u32) -> std::io::Result<()> {
        for n in 0..=last_cap {
            if self.bounding & (1 << n) == 0 {
                crate::sys::capbset_drop(n)?;
            }
        }
        Ok(())
    }

    /// Step 3, after the uid change (made with keep-caps): set the
    /// effective, permitted and inheritable sets, then raise ambient ones.
    /// The kernel only lets a capability be ambient when it is permitted and
    /// inheritable; others are skipped, as runc does (its default config
    /// lists ambient capabilities with no inheritable set).
    pub fn apply(&self) -> std::io::Result<()> {
        rustix::thread::set_capabilities(
            None,
            CapabilitySets {
                effective: CapabilitySet::from_bits_retain(self.effective),
                permitted: CapabilitySet::from_bits_retain(self.permitted),
                inheritable: CapabilitySet::from_bits_retain(self.inheritable),
            },
        )?;
        let ambient = self.ambient & self.permitted & self.inheritable;
        for n in 0..64 {
            if ambient & (1 << n) != 0 {
                crate::sys::ambient_raise(n)?;
            }
        }
        Ok(())
    }
}

/// True when the calling process has `CAP_SYS_RESOURCE` in effect.
pub fn have(cap: Capability) -> bool {
    rustix::thread::capabilities(None)
        .map(|s| s.effective.bits() & (1 << number(cap)) != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        let set: Capabilities = [
            Capability::Chown,
            Capability::Kill,
            Capability::CheckpointRestore,
        ]
        .into_iter()
        .collect();
        assert_eq!(mask(Some(&set)), 1 | 1 << 5 | 1 << 40);
        assert_eq!(mask(None), 0);
    }
}
