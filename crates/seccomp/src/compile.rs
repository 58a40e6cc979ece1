//! Profile → [`Program`]: builds the filter with libseccomp, exports its BPF,
//! prepends the [`enosys`](crate::enosys) stub and works out the
//! `SECCOMP_FILTER_FLAG_*` bits. Nothing here touches kernel state.

use std::io::{Read, Seek, SeekFrom};

use libseccomp::{
    ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall, error::SeccompError,
};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompOperator, LinuxSyscall,
};
use rustix::fs::{MemfdFlags, memfd_create};

use crate::{
    arch,
    bpf::{JumpOutOfRange, SockFilter},
    enosys, filter_flags,
    program::{MAX_INSTRUCTIONS, Program},
    validate::validate_profile,
};

/// Above this many (rule, name) pairs libseccomp is asked for a binary tree
/// instead of a linear list of comparisons (runc's threshold; libseccomp
/// 2.5.x misbehaves with the tree and zero rules).
const BINARY_TREE_THRESHOLD: usize = 32;

/// libseccomp could not build the filter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// `seccomp_init` refused the default action.
    #[error("create a libseccomp filter with default action {action}: {source}")]
    CreateFilter {
        /// The profile's default action.
        action: LinuxSeccompAction,
        /// libseccomp's error.
        #[source]
        source: SeccompError,
    },
    /// `seccomp_arch_add` failed.
    #[error("linux.seccomp.architectures[{index}]: add {arch} to the filter: {source}")]
    AddArch {
        /// Index in `architectures`.
        index: usize,
        /// The architecture.
        arch: Arch,
        /// libseccomp's error.
        #[source]
        source: SeccompError,
    },
    /// Enabling the binary-tree optimization failed.
    #[error("enable libseccomp's binary-tree optimization: {source}")]
    Optimize {
        /// libseccomp's error.
        #[source]
        source: SeccompError,
    },
    /// `seccomp_rule_add_array` refused a rule (e.g. two rules that conflict).
    #[error(
        "linux.seccomp.syscalls[{rule}].names[{name_index}]: add the rule for {name:?}: {source}"
    )]
    AddRule {
        /// Index in `syscalls`.
        rule: usize,
        /// Index in that rule's `names`.
        name_index: usize,
        /// The syscall name.
        name: String,
        /// libseccomp's error.
        #[source]
        source: SeccompError,
    },
    /// No memfd to export the program into.
    #[error("create a memfd for libseccomp's BPF export: {source}")]
    Memfd {
        /// The OS error.
        #[source]
        source: rustix::io::Errno,
    },
    /// `seccomp_export_bpf` failed.
    #[error("export the filter's BPF from libseccomp: {source}")]
    Export {
        /// libseccomp's error.
        #[source]
        source: SeccompError,
    },
    /// Reading the exported program back failed.
    #[error("read back libseccomp's BPF export: {source}")]
    ReadExport {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The export is not a whole, non-empty number of instructions.
    #[error("libseccomp exported {len} bytes, not a whole number of BPF instructions")]
    ExportSize {
        /// Bytes exported.
        len: usize,
    },
    /// The ENOSYS stub could not be assembled.
    #[error("assemble the ENOSYS stub: {source}")]
    Stub {
        /// The offending jump.
        #[source]
        source: JumpOutOfRange,
    },
    /// The program is longer than the kernel accepts.
    #[error(
        "the filter has {count} BPF instructions; the kernel accepts at most {MAX_INSTRUCTIONS}"
    )]
    TooLong {
        /// Instructions generated.
        count: usize,
    },
}

impl Program {
    /// Validates the profile (see [`validate`](crate::validate)) and compiles
    /// it. Pure: no kernel state is touched (the kernel is only asked which
    /// filter flags it knows, once per process).
    pub fn compile(s: &LinuxSeccomp) -> crate::Result<Program> {
        validate_profile(s)?;
        Ok(compile_valid(s)?)
    }
}

/// Syscall names in the profile that the linked libseccomp does not know;
/// [`Program::compile`] skips them (as runc does). For logging.
pub fn unknown_syscalls(s: &LinuxSeccomp) -> Vec<String> {
    let mut names: Vec<String> = s
        .syscalls()
        .iter()
        .flatten()
        .flat_map(|r| r.names())
        .filter(|n| ScmpSyscall::from_name(n).is_err())
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

fn compile_valid(s: &LinuxSeccomp) -> Result<Program, CompileError> {
    let default = scmp_action(s.default_action(), s.default_errno_ret());
    let mut ctx = ScmpFilterContext::new(default).map_err(|source| CompileError::CreateFilter {
        action: s.default_action(),
        source,
    })?;
    for (index, &a) in s.architectures().iter().flatten().enumerate() {
        ctx.add_arch(arch::to_scmp(a))
            .map_err(|source| CompileError::AddArch {
                index,
                arch: a,
                source,
            })?;
    }

    let rules = s.syscalls().as_deref().unwrap_or_default();
    let pairs: usize = rules.iter().map(|r| r.names().len()).sum();
    if pairs > BINARY_TREE_THRESHOLD {
        ctx.set_ctl_optimize(2)
            .map_err(|source| CompileError::Optimize { source })?;
    }

    let mut needs_listener = false;
    for (i, rule) in rules.iter().enumerate() {
        let action = scmp_action(rule.action(), rule.errno_ret());
        if action == default {
            // Redundant, and libseccomp refuses it.
            continue;
        }
        needs_listener |= rule.action() == LinuxSeccompAction::ScmpActNotify;
        add_rule(&mut ctx, i, rule, action)?;
    }

    let libseccomp_program = export(&ctx)?;
    let maxima = if enosys::applies(s) {
        enosys::max_syscalls(s)
    } else {
        Vec::new()
    };
    let mut filter = if maxima.is_empty() {
        Vec::new()
    } else {
        enosys::stub(&maxima).map_err(|source| CompileError::Stub { source })?
    };
    filter.extend_from_slice(&libseccomp_program);
    if filter.len() > MAX_INSTRUCTIONS {
        return Err(CompileError::TooLong {
            count: filter.len(),
        });
    }

    let (flags, optional_flags) = flags(s, needs_listener);
    Ok(Program {
        filter,
        flags,
        optional_flags,
        needs_listener,
    })
}

/// The seccomp(2) flags, and which of them install may drop.
fn flags(s: &LinuxSeccomp, needs_listener: bool) -> (u32, u32) {
    let (mut flags, optional) = match s.flags() {
        // runc's default: no flags field means SPEC_ALLOW when available.
        None => (filter_flags::SPEC_ALLOW, filter_flags::SPEC_ALLOW),
        Some(list) => (
            list.iter()
                .map(|&f| filter_flags::bit(f))
                .fold(0, |a, b| a | b),
            0,
        ),
    };
    if needs_listener {
        flags |= filter_flags::NEW_LISTENER;
        if flags & filter_flags::TSYNC != 0 {
            // The kernel refuses TSYNC with NEW_LISTENER unless a sync
            // failure is reported as ESRCH (the return value is the fd).
            flags |= filter_flags::TSYNC_ESRCH;
        }
    }
    (flags, optional)
}

/// The libseccomp action for a profile action; a missing errno is `EPERM`.
fn scmp_action(action: LinuxSeccompAction, errno: Option<u32>) -> ScmpAction {
    // validate() bounds errno to 4095 for ERRNO and 65535 for TRACE.
    let errno = errno.unwrap_or(libc::EPERM as u32);
    match action {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno as i32),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(errno as u16),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActNotify => ScmpAction::Notify,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
    }
}

fn condition(arg: &LinuxSeccompArg) -> ScmpArgCompare {
    // validate() bounds the index to 0..=5.
    let index = arg.index() as u32;
    match arg.op() {
        LinuxSeccompOperator::ScmpCmpMaskedEq => ScmpArgCompare::new(
            index,
            ScmpCompareOp::MaskedEqual(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
        op => {
            let op = match op {
                LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
                LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
                LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
                LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
                LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
                _ => ScmpCompareOp::Equal,
            };
            ScmpArgCompare::new(index, op, arg.value())
        }
    }
}

/// Adds one profile rule for each of its names. Conditions on distinct
/// argument indexes are ANDed in one libseccomp rule; if two conditions share
/// an index, each condition becomes its own rule (OR), as runc does.
fn add_rule(
    ctx: &mut ScmpFilterContext,
    i: usize,
    rule: &LinuxSyscall,
    action: ScmpAction,
) -> Result<(), CompileError> {
    let args = rule.args().as_deref().unwrap_or_default();
    let conditions: Vec<ScmpArgCompare> = args.iter().map(condition).collect();
    let mut seen = [0u8; 6];
    for a in args {
        seen[a.index().min(5)] += 1;
    }
    let shared_index = seen.iter().any(|&n| n > 1);

    for (j, name) in rule.names().iter().enumerate() {
        let Ok(nr) = ScmpSyscall::from_name(name) else {
            // Unknown to libseccomp: skipped, see unknown_syscalls().
            continue;
        };
        let err = |source| CompileError::AddRule {
            rule: i,
            name_index: j,
            name: name.clone(),
            source,
        };
        if shared_index {
            for c in &conditions {
                ctx.add_rule_conditional(action, nr, std::slice::from_ref(c))
                    .map_err(err)?;
            }
        } else {
            ctx.add_rule_conditional(action, nr, &conditions)
                .map_err(err)?;
        }
    }
    Ok(())
}

/// libseccomp 2.5 can only export to an fd; a memfd keeps it in memory.
fn export(ctx: &ScmpFilterContext) -> Result<Vec<SockFilter>, CompileError> {
    let fd = memfd_create("berth-seccomp-bpf", MemfdFlags::CLOEXEC)
        .map_err(|source| CompileError::Memfd { source })?;
    ctx.export_bpf(&fd)
        .map_err(|source| CompileError::Export { source })?;
    let mut file = std::fs::File::from(fd);
    let mut raw = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut raw))
        .map_err(|source| CompileError::ReadExport { source })?;
    const INSN: usize = std::mem::size_of::<SockFilter>();
    if raw.is_empty() || raw.len() % INSN != 0 {
        return Err(CompileError::ExportSize { len: raw.len() });
    }
    // seccomp_export_bpf writes host-endian `struct sock_filter`s.
    Ok(raw
        .chunks_exact(INSN)
        .map(|c| SockFilter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: &str) -> LinuxSeccomp {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn libseccomp_is_linked_statically() {
        // .cargo/config.toml asks libseccomp-sys for the static archive.
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(!maps.contains("libseccomp.so"), "libseccomp.so is mapped");
        assert_eq!(crate::validate::libseccomp_version(), "2.5.4");
    }

    #[test]
    fn conflicting_unconditional_rules_keep_the_first() {
        // libseccomp (and so runc) accepts this silently; the first rule for
        // a syscall decides.
        let rets = |first: &str, second: &str| -> Vec<u32> {
            Program::compile(&profile(&format!(
                r#"{{"defaultAction":"SCMP_ACT_ALLOW","flags":[],"syscalls":[
                    {{"names":["uname"],"action":"{first}"}},
                    {{"names":["uname"],"action":"{second}"}}]}}"#
            )))
            .unwrap()
            .instructions()
            .iter()
            .filter(|i| i.code == crate::bpf::RET_K)
            .map(|i| i.k)
            .collect()
        };
        const ERRNO_EPERM: u32 = 0x0005_0001;
        const KILL_PROCESS: u32 = 0x8000_0000;
        let a = rets("SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS");
        assert!(
            a.contains(&ERRNO_EPERM) && !a.contains(&KILL_PROCESS),
            "{a:x?}"
        );
        let b = rets("SCMP_ACT_KILL_PROCESS", "SCMP_ACT_ERRNO");
        assert!(
            b.contains(&KILL_PROCESS) && !b.contains(&ERRNO_EPERM),
            "{b:x?}"
        );
    }

    #[test]
    fn rules_equal_to_the_default_are_dropped() {
        let with = Program::compile(&profile(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                {"names":["read"],"action":"SCMP_ACT_ALLOW"},
                {"names":["uname"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
        ))
        .unwrap();
        let without = Program::compile(&profile(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                {"names":["read","uname"],"action":"SCMP_ACT_ALLOW"}]}"#,
        ))
        .unwrap();
        // uname still counts for the ENOSYS maximum, so only the rule differs.
        assert!(with.instructions().len() < without.instructions().len());
    }
}
