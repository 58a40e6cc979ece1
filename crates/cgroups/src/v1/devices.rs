//! cgroup v1 devices controller: `devices.deny`/`devices.allow` lines, written in the order the
//! rules are given, after a leading `a` deny (skipped when the first rule already denies all)
//! so that the rule list is the whole allowlist, as runc does.
//!
//! On `update` this briefly denies everything before the allow rules are back; the kernel has
//! no atomic replace for v1 device lists.

use std::path::Path;

use oci_spec::runtime::LinuxDeviceCgroup;

use crate::device_rule::DeviceRule;
use crate::error::Result;
use crate::knob;

pub(crate) fn apply(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<()> {
    let rules = DeviceRule::parse_all(rules)?;
    let starts_with_deny_all = rules
        .first()
        .is_some_and(|r| !r.allow && r.matches_everything());
    if !starts_with_deny_all {
        knob::set(dir, "devices.deny", "a", "linux.resources.devices")?;
    }
    for (i, r) in rules.iter().enumerate() {
        let file = if r.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        for line in r.v1_lines() {
            knob::set(dir, file, &line, &format!("linux.resources.devices[{i}]"))?;
        }
    }
    Ok(())
}
