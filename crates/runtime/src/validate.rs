//! Everything about a configuration that can be checked before anything is
//! created, with errors naming the field at fault. Checks that need the
//! host's cgroups or seccomp support are delegated to those crates.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType as Ns, Spec};

use crate::config::{Bundle, escapes};
use crate::namespaces::{self, Plan};
use crate::{Error, Result};

/// What validation resolved, for create to use.
#[derive(Debug)]
pub struct Checked {
    /// The root filesystem on the host.
    pub rootfs: PathBuf,
    /// The namespace plan (namespaces to join are open).
    pub plan: Plan,
}

/// Validate a bundle for `create`.
pub fn check(bundle: &Bundle) -> Result<Checked> {
    let spec = &bundle.spec;
    let rootfs = check_root(bundle)?;
    // `process` may be absent at create (the spec only requires it for
    // start, which then fails).
    if let Some(process) = spec.process() {
        check_process(process, "process")?;
    }
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| Error::config("linux", "required on Linux"))?;
    let plan = namespaces::plan(Some(linux))?;
    check_namespaced_settings(spec, &plan)?;
    check_mounts(spec)?;
    if let Some(sysctl) = linux.sysctl() {
        crate::sysctl::check(
            sysctl,
            crate::sysctl::OwnNamespaces {
                ipc: plan.has(Ns::Ipc),
                net: plan.has(Ns::Network),
                uts: plan.has(Ns::Uts),
            },
        )?;
    }
    if let Some(seccomp) = linux.seccomp() {
        berth_seccomp::validate(seccomp)?;
    }
    if let Some(devices) = linux.devices() {
        for (i, d) in devices.iter().enumerate() {
            if !d.path().is_absolute() {
                return Err(Error::config(
                    format!("linux.devices[{i}].path"),
                    "must be absolute",
                ));
            }
        }
    }
    if let Some(p) = linux
        .rootfs_propagation()
        .as_deref()
        .filter(|p| !p.is_empty())
        && crate::rootfs::options::propagation(p).is_none()
    {
        return Err(Error::config(
            "linux.rootfsPropagation",
            format!(
                "unknown propagation {p:?} (shared, slave, private, unbindable, or r-prefixed)"
            ),
        ));
    }
    if let Some(label) = linux.mount_label().as_deref().filter(|l| !l.is_empty())
        && !crate::lsm::selinux_enabled()
    {
        return Err(Error::config(
            "linux.mountLabel",
            format!("SELinux label {label:?} asked for, but SELinux is not enabled on this host"),
        ));
    }
    if linux.net_devices().as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(Error::config(
            "linux.netDevices",
            "moving network devices into the container is not supported by berth-runtime",
        ));
    }
    if let Some(p) = linux.personality()
        && p.flags().as_ref().is_some_and(|f| !f.is_empty())
    {
        return Err(Error::config(
            "linux.personality.flags",
            "personality flags are not supported",
        ));
    }
    if let Some(rdt) = linux.intel_rdt() {
        crate::resctrl::check(rdt)?;
    }
    check_hooks(spec)?;
    Ok(Checked { rootfs, plan })
}

fn check_root(bundle: &Bundle) -> Result<PathBuf> {
    let root = bundle
        .spec
        .root()
        .as_ref()
        .ok_or_else(|| Error::config("root", "required"))?;
    let path = root.path();
    if path.as_os_str().is_empty() {
        return Err(Error::config("root.path", "must not be empty"));
    }
    if path.is_relative() && escapes(path) {
        return Err(Error::config(
            "root.path",
            format!(
                "{} is relative but points outside the bundle",
                path.display()
            ),
        ));
    }
    let rootfs = bundle.rootfs().unwrap_or_default();
    match std::fs::metadata(&rootfs) {
        Ok(m) if m.is_dir() => Ok(rootfs),
        Ok(_) => Err(Error::config(
            "root.path",
            format!("{} is not a directory", rootfs.display()),
        )),
        Err(e) => Err(Error::config(
            "root.path",
            format!("{}: {e}", rootfs.display()),
        )),
    }
}

/// Checks on a process object (the init's, or one given to `exec`).
pub fn check_process(p: &oci_spec::runtime::Process, field: &str) -> Result<()> {
    if p.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(Error::config(
            format!("{field}.args"),
            "must name the program to run",
        ));
    }
    if !p.cwd().is_absolute() {
        return Err(Error::config(
            format!("{field}.cwd"),
            format!(
                "{:?} is not an absolute path",
                p.cwd().display().to_string()
            ),
        ));
    }
    if let Some(env) = p.env() {
        for (i, kv) in env.iter().enumerate() {
            if !kv.contains('=') || kv.starts_with('=') {
                return Err(Error::config(
                    format!("{field}.env[{i}]"),
                    format!("{kv:?} is not KEY=value"),
                ));
            }
        }
    }
    if let Some(r) = p.rlimits() {
        crate::rlimits::check(r, &format!("{field}.rlimits"))?;
    }
    if let Some(profile) = p.apparmor_profile().as_deref().filter(|s| !s.is_empty()) {
        if !crate::lsm::apparmor_enabled() {
            return Err(Error::config(
                format!("{field}.apparmorProfile"),
                format!(
                    "AppArmor profile {profile:?} asked for, but AppArmor is not enabled on this host"
                ),
            ));
        }
        if crate::lsm::apparmor_profile_loaded(profile) == Some(false) {
            return Err(Error::config(
                format!("{field}.apparmorProfile"),
                format!("AppArmor profile {profile:?} is not loaded"),
            ));
        }
    }
    if let Some(label) = p.selinux_label().as_deref().filter(|s| !s.is_empty())
        && !crate::lsm::selinux_enabled()
    {
        return Err(Error::config(
            format!("{field}.selinuxLabel"),
            format!("SELinux label {label:?} asked for, but SELinux is not enabled on this host"),
        ));
    }
    if let Some(io) = p.io_priority()
        && !(0..=7).contains(&io.priority())
    {
        return Err(Error::config(
            format!("{field}.ioPriority.priority"),
            "must be 0 to 7",
        ));
    }
    if let Some(s) = p.scheduler()
        && s.nice().is_some_and(|n| !(-20..=19).contains(&n))
    {
        return Err(Error::config(
            format!("{field}.scheduler.nice"),
            "must be -20 to 19",
        ));
    }
    Ok(())
}

fn check_namespaced_settings(spec: &Spec, plan: &Plan) -> Result<()> {
    let linux = spec.linux().as_ref();
    if !plan.is_new(Ns::Mount) {
        let masked = linux
            .and_then(|l| l.masked_paths().as_ref())
            .is_some_and(|v| !v.is_empty());
        let ro = linux
            .and_then(|l| l.readonly_paths().as_ref())
            .is_some_and(|v| !v.is_empty());
        if masked || ro {
            return Err(Error::config(
                if masked {
                    "linux.maskedPaths"
                } else {
                    "linux.readonlyPaths"
                },
                "masking or protecting paths needs a new mount namespace",
            ));
        }
    }
    if spec.hostname().as_deref().is_some_and(|h| !h.is_empty()) && !plan.has(Ns::Uts) {
        return Err(Error::config(
            "hostname",
            "setting the hostname needs a private UTS namespace",
        ));
    }
    if spec.domainname().as_deref().is_some_and(|h| !h.is_empty()) && !plan.has(Ns::Uts) {
        return Err(Error::config(
            "domainname",
            "setting the domainname needs a private UTS namespace",
        ));
    }
    let uid = linux
        .and_then(|l| l.uid_mappings().as_deref())
        .unwrap_or_default();
    let gid = linux
        .and_then(|l| l.gid_mappings().as_deref())
        .unwrap_or_default();
    if plan.is_new(Ns::User) {
        if uid.is_empty() || gid.is_empty() {
            return Err(Error::config(
                "linux.uidMappings",
                "a new user namespace needs uidMappings and gidMappings",
            ));
        }
        namespaces::check_maps(uid, "linux.uidMappings")?;
        namespaces::check_maps(gid, "linux.gidMappings")?;
    } else if !uid.is_empty() || !gid.is_empty() {
        return Err(Error::config(
            "linux.uidMappings",
            "id mappings are only for a new user namespace (add one to linux.namespaces without a path)",
        ));
    }
    if let Some(offsets) = linux.and_then(|l| l.time_offsets().as_ref()) {
        if !offsets.is_empty() && !plan.is_new(Ns::Time) {
            return Err(Error::config(
                "linux.timeOffsets",
                "needs a new time namespace",
            ));
        }
        for k in offsets.keys() {
            if k != "monotonic" && k != "boottime" {
                return Err(Error::config(
                    format!("linux.timeOffsets.{k}"),
                    "only the monotonic and boottime clocks can be offset",
                ));
            }
        }
    }
    Ok(())
}

fn check_mounts(spec: &Spec) -> Result<()> {
    for (i, m) in spec
        .mounts()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let dest = m.destination();
        let field = format!("mounts[{i}].destination");
        if dest.as_os_str().is_empty() {
            return Err(Error::config(field, "must not be empty"));
        }
        let rel: &Path = dest.strip_prefix("/").unwrap_or(dest);
        if escapes(rel) {
            return Err(Error::config(
                field,
                format!("{} leads outside the container's root", dest.display()),
            ));
        }
        let opts = crate::rootfs::options::parse(
            m.options().as_deref().unwrap_or_default(),
            m.typ().as_deref(),
        );
        if opts.is_bind() && m.source().as_ref().is_none_or(|s| s.as_os_str().is_empty()) {
            return Err(Error::config(
                format!("mounts[{i}].source"),
                "a bind mount needs a source",
            ));
        }
        if !opts.is_bind() && m.typ().as_deref().is_none_or(str::is_empty) {
            return Err(Error::config(
                format!("mounts[{i}].type"),
                "needed unless the mount is a bind mount",
            ));
        }
    }
    Ok(())
}

fn check_hooks(spec: &Spec) -> Result<()> {
    let Some(h) = spec.hooks() else { return Ok(()) };
    let lists = [
        ("prestart", h.prestart()),
        ("createRuntime", h.create_runtime()),
        ("createContainer", h.create_container()),
        ("startContainer", h.start_container()),
        ("poststart", h.poststart()),
        ("poststop", h.poststop()),
    ];
    for (name, list) in lists {
        for (i, hook) in list.as_deref().unwrap_or_default().iter().enumerate() {
            if !hook.path().is_absolute() {
                return Err(Error::config(
                    format!("hooks.{name}[{i}].path"),
                    "must be absolute",
                ));
            }
            if hook.timeout().is_some_and(|t| t <= 0) {
                return Err(Error::config(
                    format!("hooks.{name}[{i}].timeout"),
                    "must be positive",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(json: &str) -> (tempfile::TempDir, Bundle) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rootfs")).unwrap();
        std::fs::write(dir.path().join("config.json"), json).unwrap();
        let b = Bundle::load(dir.path()).unwrap();
        (dir, b)
    }

    fn err(json: &str) -> String {
        let (_d, b) = bundle(json);
        check(&b).unwrap_err().to_string()
    }

    const PROC: &str = r#""process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"}"#;

    #[test]
    fn accepts_a_plain_config() {
        let (_d, b) = bundle(&format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},{PROC},
               "linux":{{"namespaces":[{{"type":"pid"}},{{"type":"mount"}}]}}}}"#
        ));
        check(&b).unwrap();
    }

    #[test]
    fn refuses_with_the_field_named() {
        let e = err(&format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"../../etc"}},{PROC},"linux":{{}}}}"#
        ));
        assert!(
            e.contains("root.path") && e.contains("outside the bundle"),
            "{e}"
        );
        let e = err(&format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},{PROC},"linux":{{}},
               "mounts":[{{"destination":"/../../x","type":"tmpfs","source":"tmpfs"}}]}}"#
        ));
        assert!(e.contains("mounts[0].destination"), "{e}");
        let e = err(&format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},{PROC},
               "linux":{{"namespaces":[{{"type":"user"}}]}}}}"#
        ));
        assert!(e.contains("linux.uidMappings"), "{e}");
        let e = err(&format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},{PROC},"hostname":"x","linux":{{}}}}"#
        ));
        assert!(e.contains("hostname") && e.contains("UTS"), "{e}");
        let e = err(
            r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"linux":{},
               "process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"relative"}}"#,
        );
        assert!(e.contains("process.cwd"), "{e}");
        let e = err(&format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},{PROC},"linux":{{}},
               "hooks":{{"prestart":[{{"path":"rel/hook"}}]}}}}"#
        ));
        assert!(e.contains("hooks.prestart[0].path"), "{e}");
    }
}
