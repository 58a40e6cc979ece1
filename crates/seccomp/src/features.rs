//! The `seccomp` object of the runtime's `features` command
//! (runtime-spec features.md): what this build recognizes, and which filter
//! flags the running kernel accepts.

use oci_spec::runtime::{LinuxSeccompAction, Seccomp};

use crate::{arch, filter_flags};

const ACTIONS: [LinuxSeccompAction; 9] = [
    LinuxSeccompAction::ScmpActAllow,
    LinuxSeccompAction::ScmpActErrno,
    LinuxSeccompAction::ScmpActKill,
    LinuxSeccompAction::ScmpActKillProcess,
    LinuxSeccompAction::ScmpActKillThread,
    LinuxSeccompAction::ScmpActLog,
    LinuxSeccompAction::ScmpActNotify,
    LinuxSeccompAction::ScmpActTrace,
    LinuxSeccompAction::ScmpActTrap,
];

const OPERATORS: [&str; 7] = [
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_LE",
    "SCMP_CMP_LT",
    "SCMP_CMP_MASKED_EQ",
    "SCMP_CMP_NE",
];

/// `enabled`, `actions`, `operators`, `archs` (those the linked libseccomp
/// supports), `knownFlags` and `supportedFlags` (those the running kernel
/// accepts, probed with a NULL program: nothing is installed).
pub fn features() -> Seccomp {
    let mut s = Seccomp::default();
    s.set_enabled(Some(true))
        .set_actions(Some(ACTIONS.to_vec()))
        .set_operators(Some(OPERATORS.iter().map(|o| o.to_string()).collect()))
        .set_archs(Some(arch::supported_list().to_vec()))
        .set_known_flags(Some(
            filter_flags::SPEC_FLAGS
                .iter()
                .map(|&f| filter_flags::name(f))
                .collect(),
        ))
        .set_supported_flags(Some(
            filter_flags::SPEC_FLAGS
                .iter()
                .filter(|&&f| filter_flags::kernel_supports(f))
                .map(|&f| filter_flags::name(f))
                .collect(),
        ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_spec_names_it() {
        let v = serde_json::to_value(features()).unwrap();
        assert_eq!(v["enabled"], true);
        assert!(
            v["actions"]
                .as_array()
                .unwrap()
                .contains(&"SCMP_ACT_NOTIFY".into())
        );
        assert!(
            v["operators"]
                .as_array()
                .unwrap()
                .contains(&"SCMP_CMP_MASKED_EQ".into())
        );
        let archs = v["archs"].as_array().unwrap();
        for a in [
            "SCMP_ARCH_X86_64",
            "SCMP_ARCH_X86",
            "SCMP_ARCH_X32",
            "SCMP_ARCH_AARCH64",
        ] {
            assert!(archs.contains(&a.into()), "{a} missing from {archs:?}");
        }
        // libseccomp 2.5.4 predates these.
        for a in [
            "SCMP_ARCH_LOONGARCH64",
            "SCMP_ARCH_M68K",
            "SCMP_ARCH_SH",
            "SCMP_ARCH_SHEB",
        ] {
            assert!(!archs.contains(&a.into()), "{a} listed in {archs:?}");
        }
        assert_eq!(v["knownFlags"].as_array().unwrap().len(), 4);
        // Linux 6.18 accepts all four.
        assert_eq!(v["supportedFlags"], v["knownFlags"]);
    }
}
