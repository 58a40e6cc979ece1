//! The device cgroup rules a container gets: the config's
//! `linux.resources.devices`, then an allow rule for every `linux.devices`
//! entry, then the devices every container needs (as runc appends them):
//! mknod of any node (creating is harmless; opening is what rules guard),
//! the standard nodes, ptys, and tun.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType, Spec};

fn rule(
    typ: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut b = LinuxDeviceCgroupBuilder::default()
        .allow(true)
        .typ(typ)
        .access(access.to_string());
    if let Some(m) = major {
        b = b.major(m);
    }
    if let Some(m) = minor {
        b = b.minor(m);
    }
    b.build().expect("all fields are set")
}

/// The allow rules appended after the config's own.
fn defaults() -> Vec<LinuxDeviceCgroup> {
    use LinuxDeviceType::{B, C};
    vec![
        rule(C, None, None, "m"),
        rule(B, None, None, "m"),
        rule(C, Some(1), Some(3), "rwm"),    // null
        rule(C, Some(1), Some(8), "rwm"),    // random
        rule(C, Some(1), Some(7), "rwm"),    // full
        rule(C, Some(5), Some(0), "rwm"),    // tty
        rule(C, Some(1), Some(5), "rwm"),    // zero
        rule(C, Some(1), Some(9), "rwm"),    // urandom
        rule(C, Some(136), None, "rwm"),     // /dev/pts/*
        rule(C, Some(5), Some(2), "rwm"),    // ptmx
        rule(C, Some(10), Some(200), "rwm"), // tun
    ]
}

/// The full, ordered rule list for the container.
pub fn effective(spec: &Spec) -> Vec<LinuxDeviceCgroup> {
    let linux = spec.linux().as_ref();
    let mut rules: Vec<LinuxDeviceCgroup> = linux
        .and_then(|l| l.resources().as_ref())
        .and_then(|r| r.devices().clone())
        .unwrap_or_default();
    for d in linux
        .and_then(|l| l.devices().as_deref())
        .unwrap_or_default()
    {
        let typ = match d.typ() {
            LinuxDeviceType::B => LinuxDeviceType::B,
            LinuxDeviceType::P => continue,
            _ => LinuxDeviceType::C,
        };
        rules.push(rule(typ, Some(d.major()), Some(d.minor()), "rwm"));
    }
    rules.extend(defaults());
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rules_come_first_then_devices_then_defaults() {
        let spec: Spec = serde_json::from_str(
            r#"{"ociVersion":"1.2.0","linux":{
                "resources":{"devices":[{"allow":false,"access":"rwm"}]},
                "devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229}]}}"#,
        )
        .unwrap();
        let rules = effective(&spec);
        assert!(!rules[0].allow());
        assert_eq!((rules[1].major(), rules[1].minor()), (Some(10), Some(229)));
        assert_eq!(rules.len(), 2 + defaults().len());
        assert_eq!(rules[2].access().as_deref(), Some("m"));
    }
}
