//! `linux.resources.devices` rules, checked once and shared by the v1 writer (`devices.allow` /
//! `devices.deny` lines) and the v2 eBPF program emitter.
//!
//! Conventions (the same for v1 and v2):
//! - `type` absent or `a` matches both character and block devices; `u` is a character device;
//!   `p` (FIFO) is refused, FIFOs are not subject to the device controller;
//! - `major`/`minor` absent or `-1` match any number;
//! - `access` absent or empty means `rwm`;
//! - evaluation (v2 program; v1 is the kernel's own): the last rule that matches a request
//!   decides, no match denies. An allow rule matches when it grants every requested access
//!   bit; a deny rule matches when it names any requested bit, so `deny c 1:5 w` also refuses
//!   an `open(O_RDWR)` of `/dev/zero` that an earlier `allow c 1:* rwm` would let through.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

/// A malformed device rule.
#[derive(Debug, thiserror::Error)]
pub enum DeviceRuleError {
    /// The rule's type is not a device type.
    #[error(
        "linux.resources.devices[{index}].type: {typ:?} is not a device controller type (a, b, c, u)"
    )]
    Type { index: usize, typ: String },
    /// A device number is negative (other than -1) or too large.
    #[error("linux.resources.devices[{index}].{what}: {value} is not a device number")]
    Number {
        index: usize,
        what: &'static str,
        value: i64,
    },
    /// The access string has other letters than r, w, m.
    #[error(
        "linux.resources.devices[{index}].access: {access:?} is not a combination of r, w and m"
    )]
    Access { index: usize, access: String },
}

/// The device types a rule can match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeviceKind {
    /// Both character and block devices.
    All,
    Char,
    Block,
}

/// Access bits, with the kernel's BPF values (`BPF_DEVCG_ACC_*`).
pub(crate) const ACC_MKNOD: u32 = 1;
pub(crate) const ACC_READ: u32 = 2;
pub(crate) const ACC_WRITE: u32 = 4;
pub(crate) const ACC_ALL: u32 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// One checked rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeviceRule {
    pub allow: bool,
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// `ACC_*` bits, never 0.
    pub access: u32,
}

/// Largest device number the rules accept: Linux device numbers are 12-bit major and 20-bit
/// minor, and the eBPF emitter compares them as sign-extended 32-bit immediates.
const MAX_DEVICE_NUMBER: i64 = i32::MAX as i64;

fn number(
    index: usize,
    what: &'static str,
    v: Option<i64>,
) -> Result<Option<u32>, DeviceRuleError> {
    match v {
        None | Some(-1) => Ok(None),
        Some(n) if (0..=MAX_DEVICE_NUMBER).contains(&n) => Ok(u32::try_from(n).ok()),
        Some(value) => Err(DeviceRuleError::Number { index, what, value }),
    }
}

impl DeviceRule {
    /// Check the OCI rule at `index`.
    pub(crate) fn parse(index: usize, r: &LinuxDeviceCgroup) -> Result<Self, DeviceRuleError> {
        let kind = match r.typ() {
            None | Some(LinuxDeviceType::A) => DeviceKind::All,
            Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => DeviceKind::Char,
            Some(LinuxDeviceType::B) => DeviceKind::Block,
            Some(t @ LinuxDeviceType::P) => {
                return Err(DeviceRuleError::Type {
                    index,
                    typ: t.as_str().to_owned(),
                });
            }
        };
        let access_str = r.access().as_deref().unwrap_or("");
        let mut access = 0;
        for c in access_str.chars() {
            access |= match c {
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                'm' => ACC_MKNOD,
                _ => {
                    return Err(DeviceRuleError::Access {
                        index,
                        access: access_str.to_owned(),
                    });
                }
            };
        }
        if access == 0 {
            access = ACC_ALL;
        }
        Ok(DeviceRule {
            allow: r.allow(),
            kind,
            major: number(index, "major", r.major())?,
            minor: number(index, "minor", r.minor())?,
            access,
        })
    }

    /// Check every rule of a list.
    pub(crate) fn parse_all(rules: &[LinuxDeviceCgroup]) -> Result<Vec<Self>, DeviceRuleError> {
        rules
            .iter()
            .enumerate()
            .map(|(i, r)| Self::parse(i, r))
            .collect()
    }

    /// Whether the rule matches every device with every access.
    pub(crate) fn matches_everything(&self) -> bool {
        self.kind == DeviceKind::All
            && self.major.is_none()
            && self.minor.is_none()
            && self.access == ACC_ALL
    }

    /// The lines to write to v1 `devices.allow`/`devices.deny`. A type-`a` rule limited to some
    /// numbers or accesses is written as a `c` and a `b` line, because the v1 kernel reads any line
    /// starting with `a` as "all devices" whatever follows.
    pub(crate) fn v1_lines(&self) -> Vec<String> {
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_owned(), |n| n.to_string());
        let mut acc = String::with_capacity(3);
        if self.access & ACC_READ != 0 {
            acc.push('r');
        }
        if self.access & ACC_WRITE != 0 {
            acc.push('w');
        }
        if self.access & ACC_MKNOD != 0 {
            acc.push('m');
        }
        let line = |t: char| format!("{t} {}:{} {acc}", num(self.major), num(self.minor));
        match self.kind {
            DeviceKind::All if self.matches_everything() => vec!["a".to_owned()],
            DeviceKind::All => vec![line('c'), line('b')],
            DeviceKind::Char => vec![line('c')],
            DeviceKind::Block => vec![line('b')],
        }
    }

    /// Whether the rule matches a request (`kind` Char or Block, one or more `ACC_*` bits).
    #[cfg(test)]
    pub(crate) fn matches(&self, kind: DeviceKind, major: u32, minor: u32, access: u32) -> bool {
        let access_matches = if self.allow {
            access & self.access == access
        } else {
            access & self.access != 0
        };
        (self.kind == DeviceKind::All || self.kind == kind)
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
            && access_matches
    }
}

/// Reference semantics: the last matching rule decides; no match denies.
#[cfg(test)]
pub(crate) fn evaluate(
    rules: &[DeviceRule],
    kind: DeviceKind,
    major: u32,
    minor: u32,
    access: u32,
) -> bool {
    rules
        .iter()
        .rev()
        .find(|r| r.matches(kind, major, minor, access))
        .is_some_and(|r| r.allow)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;

    pub(crate) fn rule(
        allow: bool,
        t: Option<LinuxDeviceType>,
        maj: Option<i64>,
        min: Option<i64>,
        acc: &str,
    ) -> LinuxDeviceCgroup {
        let mut b = LinuxDeviceCgroupBuilder::default()
            .allow(allow)
            .access(acc.to_owned());
        if let Some(t) = t {
            b = b.typ(t);
        }
        if let Some(m) = maj {
            b = b.major(m);
        }
        if let Some(m) = min {
            b = b.minor(m);
        }
        b.build().unwrap()
    }

    #[test]
    fn parse_defaults_and_errors() {
        let r = DeviceRule::parse(0, &rule(false, None, None, None, "")).unwrap();
        assert!(r.matches_everything());
        assert_eq!(r.v1_lines(), vec!["a"]);
        let r = DeviceRule::parse(
            0,
            &rule(true, Some(LinuxDeviceType::C), Some(1), Some(3), "rw"),
        )
        .unwrap();
        assert_eq!(r.v1_lines(), vec!["c 1:3 rw"]);
        let r = DeviceRule::parse(
            0,
            &rule(true, Some(LinuxDeviceType::A), Some(-1), Some(5), "m"),
        )
        .unwrap();
        assert_eq!(r.v1_lines(), vec!["c *:5 m", "b *:5 m"]);
        let e = DeviceRule::parse(2, &rule(true, Some(LinuxDeviceType::P), None, None, "r"))
            .unwrap_err();
        assert!(
            e.to_string().starts_with("linux.resources.devices[2].type"),
            "{e}"
        );
        let e = DeviceRule::parse(1, &rule(true, None, Some(-2), None, "r")).unwrap_err();
        assert!(e.to_string().contains("devices[1].major"), "{e}");
        let e = DeviceRule::parse(0, &rule(true, None, None, None, "rx")).unwrap_err();
        assert!(e.to_string().contains("access"), "{e}");
    }

    #[test]
    fn reference_semantics_last_match_wins_default_deny() {
        let rules = DeviceRule::parse_all(&[
            rule(false, Some(LinuxDeviceType::A), None, None, "rwm"),
            rule(true, Some(LinuxDeviceType::C), Some(1), None, "rwm"),
            rule(false, Some(LinuxDeviceType::C), Some(1), Some(5), "w"),
        ])
        .unwrap();
        assert!(evaluate(
            &rules,
            DeviceKind::Char,
            1,
            3,
            ACC_READ | ACC_WRITE
        ));
        assert!(evaluate(&rules, DeviceKind::Char, 1, 5, ACC_READ));
        assert!(!evaluate(&rules, DeviceKind::Char, 1, 5, ACC_WRITE));
        // A partial deny refuses any request that includes a denied bit.
        assert!(!evaluate(
            &rules,
            DeviceKind::Char,
            1,
            5,
            ACC_READ | ACC_WRITE
        ));
        assert!(!evaluate(&rules, DeviceKind::Block, 1, 3, ACC_READ));
        assert!(!evaluate(&[], DeviceKind::Char, 1, 3, ACC_READ));
    }
}
