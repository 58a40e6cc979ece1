//! Process attributes set right before the user process starts: scheduler,
//! I/O priority, CPU affinity (`exec`), and the Linux-level personality and
//! NUMA memory policy (init).

use oci_spec::runtime::{
    IOPriorityClass, Linux, LinuxMemoryPolicy, LinuxPersonalityDomain, LinuxSchedulerFlag,
    LinuxSchedulerPolicy, MemoryPolicyFlagType, MemoryPolicyModeType, Process,
};

/// Scheduler and I/O priority from `process`.
pub fn apply(p: &Process) -> Result<(), String> {
    if let Some(s) = p.scheduler() {
        let policy = match s.policy() {
            LinuxSchedulerPolicy::SchedOther => 0,
            LinuxSchedulerPolicy::SchedFifo => 1,
            LinuxSchedulerPolicy::SchedRr => 2,
            LinuxSchedulerPolicy::SchedBatch => 3,
            LinuxSchedulerPolicy::SchedIso => 4,
            LinuxSchedulerPolicy::SchedIdle => 5,
            LinuxSchedulerPolicy::SchedDeadline => 6,
        };
        let flags = s
            .flags()
            .as_deref()
            .unwrap_or_default()
            .iter()
            .fold(0u64, |acc, f| {
                acc | match f {
                    LinuxSchedulerFlag::SchedResetOnFork => 0x01,
                    LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
                    LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
                    LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
                    LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
                    LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
                    LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
                }
            });
        crate::sys::sched_setattr(
            policy,
            flags,
            s.nice().unwrap_or(0),
            s.priority().unwrap_or(0) as u32,
            s.runtime().unwrap_or(0),
            s.deadline().unwrap_or(0),
            s.period().unwrap_or(0),
        )
        .map_err(|e| format!("set scheduler {:?}: {e}", s.policy()))?;
    }
    if let Some(io) = p.io_priority() {
        let class = match io.class() {
            IOPriorityClass::IoprioClassRt => 1,
            IOPriorityClass::IoprioClassBe => 2,
            IOPriorityClass::IoprioClassIdle => 3,
        };
        crate::sys::ioprio_set(class, io.priority() as u32)
            .map_err(|e| format!("set I/O priority: {e}"))?;
    }
    Ok(())
}

/// Set the CPU affinity to a list like `0-3,7`.
pub fn set_affinity(list: &str) -> Result<(), String> {
    let cpus = parse_list(list).map_err(|e| format!("CPU affinity {list:?}: {e}"))?;
    let mut set = rustix::thread::CpuSet::new();
    for c in cpus {
        set.set(c as usize);
    }
    rustix::thread::sched_setaffinity(None, &set)
        .map_err(|e| format!("set CPU affinity {list:?}: {e}"))
}

/// `linux.personality` and `linux.memoryPolicy`.
pub fn apply_linux(linux: &Linux) -> Result<(), String> {
    if let Some(p) = linux.personality() {
        const PER_LINUX32: libc::c_ulong = 0x0008;
        let persona = match p.domain() {
            LinuxPersonalityDomain::PerLinux => 0,
            LinuxPersonalityDomain::PerLinux32 => PER_LINUX32,
        };
        crate::sys::personality(persona).map_err(|e| format!("set personality: {e}"))?;
    }
    if let Some(m) = linux.memory_policy() {
        set_mempolicy(m)?;
    }
    Ok(())
}

fn set_mempolicy(m: &LinuxMemoryPolicy) -> Result<(), String> {
    let mode: i32 = match m.mode() {
        MemoryPolicyModeType::MpolDefault => 0,
        MemoryPolicyModeType::MpolPreferred => 1,
        MemoryPolicyModeType::MpolBind => 2,
        MemoryPolicyModeType::MpolInterleave => 3,
        MemoryPolicyModeType::MpolLocal => 4,
        MemoryPolicyModeType::MpolPreferredMany => 5,
        MemoryPolicyModeType::MpolWeightedInterleave => 6,
    };
    let flags = m
        .flags()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .fold(0i32, |acc, f| {
            acc | match f {
                MemoryPolicyFlagType::MpolFStaticNodes => 1 << 15,
                MemoryPolicyFlagType::MpolFRelativeNodes => 1 << 14,
                MemoryPolicyFlagType::MpolFNumaBalancing => 1 << 13,
            }
        });
    let nodes = parse_list(m.nodes().as_deref().unwrap_or(""))
        .map_err(|e| format!("linux.memoryPolicy.nodes: {e}"))?;
    let mut mask = vec![0u64; 16];
    for n in nodes {
        let n = n as usize;
        if n >= mask.len() * 64 {
            return Err(format!(
                "linux.memoryPolicy.nodes: node {n} is out of range"
            ));
        }
        mask[n / 64] |= 1 << (n % 64);
    }
    crate::sys::set_mempolicy(mode | flags, &mask)
        .map_err(|e| format!("set memory policy {:?}: {e}", m.mode()))
}

/// Parse a kernel list (`0-3,7`).
pub fn parse_list(s: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) => (a, b),
            None => (item, item),
        };
        let lo: u32 = lo
            .trim()
            .parse()
            .map_err(|_| format!("{item:?} is not a number or range"))?;
        let hi: u32 = hi
            .trim()
            .parse()
            .map_err(|_| format!("{item:?} is not a number or range"))?;
        if lo > hi || hi > 8191 {
            return Err(format!("{item:?} is not a valid range"));
        }
        out.extend(lo..=hi);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert_eq!(parse_list("0-2,5").unwrap(), vec![0, 1, 2, 5]);
        assert_eq!(parse_list("").unwrap(), Vec::<u32>::new());
        assert!(parse_list("3-1").is_err());
        assert!(parse_list("x").is_err());
    }
}
