//! Architectures: the OCI `SCMP_ARCH_*` names, libseccomp's tokens, the
//! kernel's `AUDIT_ARCH_*` values a BPF program compares `seccomp_data.arch`
//! against, and which of them the linked libseccomp supports.

use std::sync::OnceLock;

use libseccomp::{ScmpAction, ScmpArch, ScmpFilterContext};
use oci_spec::runtime::Arch;

/// Every concrete architecture the runtime-spec names (all but
/// `SCMP_ARCH_NATIVE`).
pub(crate) const ALL: [Arch; 23] = [
    Arch::ScmpArchX86,
    Arch::ScmpArchX86_64,
    Arch::ScmpArchX32,
    Arch::ScmpArchArm,
    Arch::ScmpArchAarch64,
    Arch::ScmpArchMips,
    Arch::ScmpArchMips64,
    Arch::ScmpArchMips64n32,
    Arch::ScmpArchMipsel,
    Arch::ScmpArchMipsel64,
    Arch::ScmpArchMipsel64n32,
    Arch::ScmpArchPpc,
    Arch::ScmpArchPpc64,
    Arch::ScmpArchPpc64le,
    Arch::ScmpArchS390,
    Arch::ScmpArchS390x,
    Arch::ScmpArchParisc,
    Arch::ScmpArchParisc64,
    Arch::ScmpArchRiscv64,
    Arch::ScmpArchLoongarch64,
    Arch::ScmpArchM68k,
    Arch::ScmpArchSh,
    Arch::ScmpArchSheb,
];

/// The architecture this crate was built for (what libseccomp calls native).
pub(crate) const NATIVE: Arch = native();

const fn native() -> Arch {
    if cfg!(all(target_arch = "x86_64", target_pointer_width = "32")) {
        Arch::ScmpArchX32
    } else if cfg!(target_arch = "x86_64") {
        Arch::ScmpArchX86_64
    } else if cfg!(target_arch = "x86") {
        Arch::ScmpArchX86
    } else if cfg!(target_arch = "aarch64") {
        Arch::ScmpArchAarch64
    } else if cfg!(target_arch = "arm") {
        Arch::ScmpArchArm
    } else if cfg!(target_arch = "riscv64") {
        Arch::ScmpArchRiscv64
    } else if cfg!(target_arch = "s390x") {
        Arch::ScmpArchS390x
    } else if cfg!(target_arch = "loongarch64") {
        Arch::ScmpArchLoongarch64
    } else if cfg!(all(target_arch = "powerpc64", target_endian = "little")) {
        Arch::ScmpArchPpc64le
    } else if cfg!(target_arch = "powerpc64") {
        Arch::ScmpArchPpc64
    } else if cfg!(target_arch = "powerpc") {
        Arch::ScmpArchPpc
    } else if cfg!(all(target_arch = "mips64", target_endian = "little")) {
        Arch::ScmpArchMipsel64
    } else if cfg!(target_arch = "mips64") {
        Arch::ScmpArchMips64
    } else if cfg!(all(target_arch = "mips", target_endian = "little")) {
        Arch::ScmpArchMipsel
    } else if cfg!(target_arch = "mips") {
        Arch::ScmpArchMips
    } else {
        panic!("berth-seccomp: unsupported target architecture")
    }
}

/// Replaces `SCMP_ARCH_NATIVE` by the concrete native architecture.
pub(crate) fn concrete(arch: Arch) -> Arch {
    match arch {
        Arch::ScmpArchNative => NATIVE,
        other => other,
    }
}

/// libseccomp's token for an OCI architecture.
pub(crate) fn to_scmp(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

/// The kernel's `AUDIT_ARCH_*` value, as found in `seccomp_data.arch`.
///
/// x32 processes run under `AUDIT_ARCH_X86_64` and are told apart by bit 30
/// of the syscall number (`__X32_SYSCALL_BIT`).
pub(crate) fn audit_arch(arch: Arch) -> u32 {
    const LE64: u32 = 0x8000_0000 | 0x4000_0000; // __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
    const BE64: u32 = 0x8000_0000;
    const LE: u32 = 0x4000_0000;
    const CONVENTION_MIPS64_N32: u32 = 0x2000_0000;
    match concrete(arch) {
        Arch::ScmpArchX86 => LE | 3,                           // EM_386
        Arch::ScmpArchX86_64 | Arch::ScmpArchX32 => LE64 | 62, // EM_X86_64
        Arch::ScmpArchArm => LE | 40,                          // EM_ARM
        Arch::ScmpArchAarch64 => LE64 | 183,                   // EM_AARCH64
        Arch::ScmpArchMips => 8,                               // EM_MIPS
        Arch::ScmpArchMips64 => BE64 | 8,
        Arch::ScmpArchMips64n32 => BE64 | CONVENTION_MIPS64_N32 | 8,
        Arch::ScmpArchMipsel => LE | 8,
        Arch::ScmpArchMipsel64 => LE64 | 8,
        Arch::ScmpArchMipsel64n32 => LE64 | CONVENTION_MIPS64_N32 | 8,
        Arch::ScmpArchPpc => 20,          // EM_PPC
        Arch::ScmpArchPpc64 => BE64 | 21, // EM_PPC64
        Arch::ScmpArchPpc64le => LE64 | 21,
        Arch::ScmpArchS390 => 22, // EM_S390
        Arch::ScmpArchS390x => BE64 | 22,
        Arch::ScmpArchParisc => 15, // EM_PARISC
        Arch::ScmpArchParisc64 => BE64 | 15,
        Arch::ScmpArchRiscv64 => LE64 | 243,     // EM_RISCV
        Arch::ScmpArchLoongarch64 => LE64 | 258, // EM_LOONGARCH
        Arch::ScmpArchM68k => 4,                 // EM_68K
        Arch::ScmpArchSh => LE | 42,             // EM_SH
        Arch::ScmpArchSheb => 42,
        // `concrete` never returns Native; treat it as the build target.
        Arch::ScmpArchNative => audit_arch(NATIVE),
    }
}

/// Whether the linked libseccomp can build filters for `arch`.
pub(crate) fn supported(arch: Arch) -> bool {
    let arch = concrete(arch);
    supported_list().contains(&arch)
}

/// The concrete architectures the linked libseccomp supports, probed once by
/// adding each to a scratch filter (no kernel state is touched).
pub(crate) fn supported_list() -> &'static [Arch] {
    static SUPPORTED: OnceLock<Vec<Arch>> = OnceLock::new();
    SUPPORTED.get_or_init(|| {
        let Ok(mut ctx) = ScmpFilterContext::new(ScmpAction::Allow) else {
            return Vec::new();
        };
        ALL.iter()
            .copied()
            .filter(|&a| a == NATIVE || ctx.add_arch(to_scmp(a)).is_ok())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_values_match_the_kernel_uapi() {
        // From <linux/audit.h>.
        assert_eq!(audit_arch(Arch::ScmpArchX86_64), 0xc000_003e);
        assert_eq!(audit_arch(Arch::ScmpArchX32), 0xc000_003e);
        assert_eq!(audit_arch(Arch::ScmpArchX86), 0x4000_0003);
        assert_eq!(audit_arch(Arch::ScmpArchAarch64), 0xc000_00b7);
        assert_eq!(audit_arch(Arch::ScmpArchArm), 0x4000_0028);
        assert_eq!(audit_arch(Arch::ScmpArchS390x), 0x8000_0016);
        assert_eq!(audit_arch(Arch::ScmpArchRiscv64), 0xc000_00f3);
        assert_eq!(audit_arch(Arch::ScmpArchMipsel64n32), 0xe000_0008);
        assert_eq!(audit_arch(Arch::ScmpArchPpc64le), 0xc000_0015);
        // Apart from x32 (a libseccomp-only value), the OCI enum's
        // discriminants are libseccomp's tokens, which are the audit values.
        for a in ALL {
            if a != Arch::ScmpArchX32 {
                assert_eq!(audit_arch(a), a as u32, "{a}");
            }
        }
    }

    #[test]
    fn the_docker_architectures_are_supported() {
        for a in [Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32] {
            assert!(supported(a), "{a}");
        }
        assert!(supported(Arch::ScmpArchNative));
    }
}
