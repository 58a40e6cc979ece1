//! `linux.sysctl`: which keys a container may set (only those its own
//! namespaces scope, as runc allows), and writing them through the
//! container's `/proc/sys`.

use std::collections::HashMap;

use crate::{Error, Result};

const IPC_KEYS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Which of the relevant namespaces the container has of its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct OwnNamespaces {
    /// A private IPC namespace (new or joined).
    pub ipc: bool,
    /// A private network namespace (new or joined).
    pub net: bool,
    /// A private UTS namespace.
    pub uts: bool,
}

/// Refuse keys that would change the host's settings.
pub fn check(sysctl: &HashMap<String, String>, own: OwnNamespaces) -> Result<()> {
    for key in sysctl.keys() {
        let field = format!("linux.sysctl.{key}");
        if key.is_empty() || key.contains('/') || key.split('.').any(|p| p.is_empty() || p == "..")
        {
            return Err(Error::config(field, "not a valid sysctl name"));
        }
        let ok = if IPC_KEYS.contains(&key.as_str()) || key.starts_with("fs.mqueue.") {
            own.ipc
        } else if key.starts_with("net.") {
            own.net
        } else if key == "kernel.hostname" || key == "kernel.domainname" {
            own.uts
        } else {
            return Err(Error::config(
                field,
                "sysctl is not in a separate kernel namespace; setting it would change the host",
            ));
        };
        if !ok {
            return Err(Error::config(
                field,
                "sysctl needs a private namespace, and the container shares the host's",
            ));
        }
    }
    Ok(())
}

/// Write every key through `/proc/sys` (the container's procfs).
pub fn apply(sysctl: &HashMap<String, String>) -> std::result::Result<(), String> {
    for (key, value) in sysctl {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        std::fs::write(&path, value).map_err(|e| format!("write sysctl {key}={value}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(k: &str) -> HashMap<String, String> {
        [(k.to_string(), "1".to_string())].into()
    }

    #[test]
    fn allows_only_namespaced_keys() {
        let all = OwnNamespaces {
            ipc: true,
            net: true,
            uts: true,
        };
        assert!(check(&one("net.ipv4.ip_forward"), all).is_ok());
        assert!(check(&one("kernel.shmmax"), all).is_ok());
        assert!(check(&one("fs.mqueue.msg_max"), all).is_ok());
        assert!(check(&one("vm.swappiness"), all).is_err());
        assert!(check(&one("net/../../x"), all).is_err());
        let host_net = OwnNamespaces { net: false, ..all };
        let e = check(&one("net.ipv4.ip_forward"), host_net).unwrap_err();
        assert!(
            e.to_string().contains("linux.sysctl.net.ipv4.ip_forward"),
            "{e}"
        );
    }
}
