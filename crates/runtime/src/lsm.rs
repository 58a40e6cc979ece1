//! Linux security modules: an AppArmor profile or an SELinux label for the
//! process, applied where the kernel has the LSM and refused clearly where it
//! has not (never silently dropped).

use std::path::Path;

/// Is AppArmor enabled on this host?
pub fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .map(|s| s.trim() == "Y")
        .unwrap_or(false)
}

/// Whether AppArmor has `profile` loaded: `Some(bool)` when the loaded
/// profiles can be listed (securityfs mounted), `None` when they cannot.
pub fn apparmor_profile_loaded(profile: &str) -> Option<bool> {
    if profile == "unconfined" {
        return Some(true);
    }
    let list = std::fs::read_to_string("/sys/kernel/security/apparmor/profiles").ok()?;
    Some(
        list.lines()
            .any(|l| l.rsplit_once(" (").map(|(name, _)| name) == Some(profile)),
    )
}

/// Is SELinux enabled (selinuxfs mounted)?
pub fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// Arrange for the next `execve` to run under AppArmor `profile`.
pub fn apparmor_exec(profile: &str) -> std::io::Result<()> {
    let msg = format!("exec {profile}");
    // Newer kernels have an AppArmor-specific attr directory.
    std::fs::write("/proc/thread-self/attr/apparmor/exec", &msg)
        .or_else(|_| std::fs::write("/proc/thread-self/attr/exec", &msg))
}

/// Arrange for the next `execve` to run with SELinux `label`.
pub fn selinux_exec(label: &str) -> std::io::Result<()> {
    std::fs::write("/proc/thread-self/attr/exec", label)
}

/// Label keyrings created from now on (the session keyring of the container).
pub fn selinux_keycreate(label: &str) -> std::io::Result<()> {
    std::fs::write("/proc/thread-self/attr/keycreate", label)
}
