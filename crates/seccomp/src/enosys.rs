//! The ENOSYS stub: syscalls newer than the profile return `ENOSYS`, not the
//! profile's default action.
//!
//! # Why
//!
//! A profile is an allow-list written against the syscalls its author knew.
//! When a C library meets a newer syscall it probes for it and falls back on
//! `ENOSYS` ("this kernel does not have it"), but an `EPERM` (Docker's default
//! action) is taken as a real failure: glibc's `clone3` → `clone` fallback is
//! the classic case. runc solves this in `libcontainer/seccomp/patchbpf` by
//! prepending a stub to libseccomp's program; this module implements the same
//! idea in its simplest correct form.
//!
//! # What exactly the stub does
//!
//! Applied when the default action is not permissive, i.e. not
//! `SCMP_ACT_ALLOW`, `SCMP_ACT_LOG` or `SCMP_ACT_TRACE` (a tracer is expected
//! to cope with new syscalls itself), and not already `SCMP_ACT_ERRNO(ENOSYS)`.
//!
//! 1. The architecture set is the profile's `architectures` plus the native
//!    architecture (always, as libseccomp always includes it).
//! 2. For each architecture, *max* is the largest syscall number, in that
//!    architecture's table, of any name in any rule of the profile (whatever
//!    the rule's action or arguments). Names libseccomp does not know, or that
//!    do not exist on that architecture, do not count. An architecture with
//!    no known name gets no stub section.
//! 3. The stub loads `seccomp_data.arch` and dispatches on the kernel's
//!    `AUDIT_ARCH_*` value. In an architecture's section, a syscall number
//!    greater than *max* returns `SECCOMP_RET_ERRNO | ENOSYS`; anything else
//!    falls through to the unmodified libseccomp program, which starts by
//!    re-checking the architecture itself. Architectures outside the set fall
//!    through directly (libseccomp then applies its bad-architecture action).
//! 4. x86_64 and x32 share `AUDIT_ARCH_X86_64`; their section first tests
//!    `__X32_SYSCALL_BIT` (bit 30) and compares against the x86_64 or the x32
//!    *max* (x32 numbers include the bit, as libseccomp reports them). A mode
//!    the profile does not cover falls through.
//! 5. On s390 and s390x, syscall 0 also returns `ENOSYS`: unknown syscalls
//!    with large numbers are multiplexed through it (as runc does).
//!
//! The `ENOSYS` value is the build target's (38 on x86 and arm, 89 on MIPS).
//! The stub is a few instructions per architecture and jumps only forward,
//! so it never changes how the rest of the program behaves.
//!
//! # Known limitation (shared with runc)
//!
//! Numbers are compared against the largest *known* one only: a syscall the
//! profile does not list that is numbered below *max* still gets the default
//! action, as do syscalls added out of order in the table. And a syscall the
//! profile allows but the linked libseccomp (2.5.4) does not know is simply
//! absent from the filter: if its number is above *max* it gets `ENOSYS`, so
//! a C library falls back rather than failing.

use std::collections::BTreeMap;

use libseccomp::ScmpSyscall;
use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompAction};

use crate::{
    arch,
    bpf::{Asm, JEQ_K, JGT_K, JSET_K, JumpOutOfRange, OFF_ARCH, OFF_NR, SockFilter, Target},
};

/// `SECCOMP_RET_ERRNO`.
const RET_ERRNO: u32 = 0x0005_0000;
/// `__X32_SYSCALL_BIT`.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// What the stub returns for a syscall above the profile's largest.
pub const RET_ENOSYS: u32 = RET_ERRNO | libc::ENOSYS as u32;

/// Whether a profile gets the stub (see the module documentation).
pub fn applies(s: &LinuxSeccomp) -> bool {
    match s.default_action() {
        LinuxSeccompAction::ScmpActAllow
        | LinuxSeccompAction::ScmpActLog
        | LinuxSeccompAction::ScmpActTrace => false,
        LinuxSeccompAction::ScmpActErrno => s.default_errno_ret() != Some(libc::ENOSYS as u32),
        _ => true,
    }
}

/// The largest syscall number the profile names, per architecture of the
/// filter (the profile's plus the native one). Architectures where no name
/// resolves are left out.
pub fn max_syscalls(s: &LinuxSeccomp) -> Vec<(Arch, u32)> {
    let mut archs: Vec<Arch> = s
        .architectures()
        .iter()
        .flatten()
        .map(|&a| arch::concrete(a))
        .chain([arch::NATIVE])
        .filter(|&a| arch::supported(a))
        .collect();
    archs.sort_by_key(|&a| a as u32);
    archs.dedup();
    let names: Vec<&str> = s
        .syscalls()
        .iter()
        .flatten()
        .flat_map(|r| r.names().iter().map(String::as_str))
        .collect();
    archs
        .into_iter()
        .filter_map(|a| {
            let token = arch::to_scmp(a);
            names
                .iter()
                .filter_map(|n| ScmpSyscall::from_name_by_arch(n, token).ok())
                .filter_map(|nr| u32::try_from(nr.as_raw_syscall()).ok())
                .max()
                .map(|max| (a, max))
        })
        .collect()
}

/// The stub for these per-architecture maxima, to be placed in front of
/// libseccomp's program: falling off its end means "continue with the
/// filter".
pub fn stub(maxima: &[(Arch, u32)]) -> Result<Vec<SockFilter>, JumpOutOfRange> {
    // Group by the value the kernel reports in seccomp_data.arch.
    let mut groups: BTreeMap<u32, Vec<(Arch, u32)>> = BTreeMap::new();
    for &(a, max) in maxima {
        groups
            .entry(arch::audit_arch(a))
            .or_default()
            .push((arch::concrete(a), max));
    }

    let mut asm = Asm::default();
    let enosys = asm.label();
    // Never bound: resolves to one past the stub, the filter's first insn.
    let filter = asm.label();

    asm.load(OFF_ARCH);
    let sections: Vec<_> = groups
        .iter()
        .map(|(&audit, g)| (audit, g, asm.label()))
        .collect();
    for &(audit, _, label) in &sections {
        asm.cond(JEQ_K, audit, Target::To(label), Target::Next);
    }
    asm.jump(filter);

    for (_, group, label) in sections {
        asm.bind(label);
        asm.load(OFF_NR);
        let max_of = |want: Arch| group.iter().find(|(a, _)| *a == want).map(|&(_, m)| m);
        if group
            .iter()
            .any(|(a, _)| matches!(a, Arch::ScmpArchX86_64 | Arch::ScmpArchX32))
        {
            let x32 = asm.label();
            asm.cond(JSET_K, X32_SYSCALL_BIT, Target::To(x32), Target::Next);
            if let Some(max) = max_of(Arch::ScmpArchX86_64) {
                asm.cond(JGT_K, max, Target::To(enosys), Target::Next);
            }
            asm.jump(filter);
            asm.bind(x32);
            if let Some(max) = max_of(Arch::ScmpArchX32) {
                asm.cond(JGT_K, max, Target::To(enosys), Target::Next);
            }
            asm.jump(filter);
            continue;
        }
        for &(a, max) in group {
            if matches!(a, Arch::ScmpArchS390 | Arch::ScmpArchS390x) {
                asm.cond(JEQ_K, 0, Target::To(enosys), Target::Next);
            }
            asm.cond(JGT_K, max, Target::To(enosys), Target::Next);
        }
        asm.jump(filter);
    }

    asm.bind(enosys);
    asm.ret(RET_ENOSYS);
    debug_assert!(asm.len() > 0);
    asm.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{JA, LD_W_ABS, RET_K};

    #[derive(Debug, PartialEq)]
    enum Outcome {
        Ret(u32),
        IntoFilter,
    }

    /// Executes the subset of classic BPF the stub uses.
    fn run(prog: &[SockFilter], audit: u32, nr: u32) -> Outcome {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let Some(i) = prog.get(pc) else {
                assert_eq!(pc, prog.len(), "jumped past the end");
                return Outcome::IntoFilter;
            };
            pc += 1;
            match i.code {
                LD_W_ABS => acc = if i.k == OFF_NR { nr } else { audit },
                RET_K => return Outcome::Ret(i.k),
                JA => pc += i.k as usize,
                JEQ_K | JGT_K | JSET_K => {
                    let taken = match i.code {
                        JEQ_K => acc == i.k,
                        JGT_K => acc > i.k,
                        _ => acc & i.k != 0,
                    };
                    pc += usize::from(if taken { i.jt } else { i.jf });
                }
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    const X86_64: u32 = 0xc000_003e;
    const I386: u32 = 0x4000_0003;

    #[test]
    fn x86_64_above_max_is_enosys() {
        let p = stub(&[(Arch::ScmpArchX86_64, 300)]).unwrap();
        assert_eq!(run(&p, X86_64, 301), Outcome::Ret(RET_ENOSYS));
        assert_eq!(run(&p, X86_64, 0x8000_0000), Outcome::Ret(RET_ENOSYS));
        // -1 has the x32 bit set: x32 mode, which this profile leaves to
        // libseccomp.
        assert_eq!(run(&p, X86_64, 0xffff_ffff), Outcome::IntoFilter);
        assert_eq!(run(&p, X86_64, 300), Outcome::IntoFilter);
        assert_eq!(run(&p, X86_64, 0), Outcome::IntoFilter);
        // x32 not in the profile: left to libseccomp.
        assert_eq!(run(&p, X86_64, X32_SYSCALL_BIT | 999), Outcome::IntoFilter);
        // Other architectures: left to libseccomp's bad-arch action.
        assert_eq!(run(&p, I386, 999), Outcome::IntoFilter);
    }

    #[test]
    fn x86_64_x32_and_i386_each_use_their_own_max() {
        let p = stub(&[
            (Arch::ScmpArchX86_64, 300),
            (Arch::ScmpArchX32, X32_SYSCALL_BIT | 200),
            (Arch::ScmpArchX86, 400),
        ])
        .unwrap();
        assert_eq!(run(&p, X86_64, 301), Outcome::Ret(RET_ENOSYS));
        assert_eq!(run(&p, X86_64, 250), Outcome::IntoFilter);
        assert_eq!(
            run(&p, X86_64, X32_SYSCALL_BIT | 201),
            Outcome::Ret(RET_ENOSYS)
        );
        assert_eq!(run(&p, X86_64, X32_SYSCALL_BIT | 200), Outcome::IntoFilter);
        assert_eq!(run(&p, I386, 401), Outcome::Ret(RET_ENOSYS));
        assert_eq!(run(&p, I386, 350), Outcome::IntoFilter);
    }

    #[test]
    fn x32_alone_leaves_x86_64_mode_to_the_filter() {
        let p = stub(&[(Arch::ScmpArchX32, X32_SYSCALL_BIT | 200)]).unwrap();
        assert_eq!(run(&p, X86_64, 999), Outcome::IntoFilter);
        assert_eq!(
            run(&p, X86_64, X32_SYSCALL_BIT | 201),
            Outcome::Ret(RET_ENOSYS)
        );
    }

    #[test]
    fn s390x_multiplexer_is_enosys() {
        let p = stub(&[(Arch::ScmpArchS390x, 400)]).unwrap();
        let s390x = arch::audit_arch(Arch::ScmpArchS390x);
        assert_eq!(run(&p, s390x, 0), Outcome::Ret(RET_ENOSYS));
        assert_eq!(run(&p, s390x, 1), Outcome::IntoFilter);
        assert_eq!(run(&p, s390x, 401), Outcome::Ret(RET_ENOSYS));
    }

    #[test]
    fn every_architecture_at_once_fits_the_jump_fields() {
        let bit = |a| {
            if a == Arch::ScmpArchX32 {
                X32_SYSCALL_BIT
            } else {
                0
            }
        };
        let maxima: Vec<_> = arch::ALL
            .iter()
            .map(|&a| (a, bit(a) | (100 + a as u32 % 97)))
            .collect();
        let p = stub(&maxima).unwrap();
        for &(a, max) in &maxima {
            let audit = arch::audit_arch(a);
            assert_eq!(run(&p, audit, max + 1), Outcome::Ret(RET_ENOSYS), "{a}");
            assert_eq!(run(&p, audit, bit(a) | 1), Outcome::IntoFilter, "{a}");
        }
    }

    #[test]
    fn permissive_defaults_get_no_stub() {
        let parse = |j: &str| serde_json::from_str::<LinuxSeccomp>(j).unwrap();
        assert!(!applies(&parse(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#)));
        assert!(!applies(&parse(r#"{"defaultAction":"SCMP_ACT_LOG"}"#)));
        assert!(!applies(&parse(r#"{"defaultAction":"SCMP_ACT_TRACE"}"#)));
        assert!(!applies(&parse(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38}"#
        )));
        assert!(applies(&parse(r#"{"defaultAction":"SCMP_ACT_ERRNO"}"#)));
        assert!(applies(&parse(
            r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS"}"#
        )));
    }

    #[test]
    fn maxima_come_from_libseccomp_tables() {
        let s: LinuxSeccomp = serde_json::from_str(
            r#"{"defaultAction":"SCMP_ACT_ERRNO",
                "architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
                "syscalls":[{"names":["read","getpid","no_such_syscall"],"action":"SCMP_ACT_ALLOW"},
                            {"names":["exit_group"],"action":"SCMP_ACT_ALLOW"}]}"#,
        )
        .unwrap();
        let m = max_syscalls(&s);
        let get = |a| m.iter().find(|(x, _)| *x == a).map(|&(_, n)| n);
        assert_eq!(get(Arch::ScmpArchX86_64), Some(231)); // exit_group
        assert_eq!(get(Arch::ScmpArchX86), Some(252)); // exit_group on i386
        assert_eq!(get(Arch::ScmpArchX32), Some(X32_SYSCALL_BIT | 231));
    }
}
