//! `linux.intelRdt`: a resctrl group (`/sys/fs/resctrl/<closID>`) with the
//! requested schemata, holding the container's processes. Hosts without
//! resctrl get a clear error, never a silent skip.

use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxIntelRdt;

use crate::error::OsContext;
use crate::{Error, Result};

const ROOT: &str = "/sys/fs/resctrl";

/// Is the resctrl filesystem mounted?
pub fn available() -> bool {
    Path::new(ROOT).join("info").is_dir()
}

/// Refuse an intelRdt object this host cannot honour.
pub fn check(rdt: &LinuxIntelRdt) -> Result<()> {
    if !available() {
        return Err(Error::config(
            "linux.intelRdt",
            "Intel RDT is not available on this host (no resctrl filesystem at /sys/fs/resctrl)",
        ));
    }
    if let Some(id) = rdt.clos_id()
        && (id.is_empty() || id.contains('/') || id == "." || id == "..")
    {
        return Err(Error::config(
            "linux.intelRdt.closID",
            format!("{id:?} is not a valid group name"),
        ));
    }
    Ok(())
}

/// Make (or join, for a shared closID) the group; returns its directory and
/// whether we created it.
pub fn create(id: &str, rdt: &LinuxIntelRdt) -> Result<(PathBuf, bool)> {
    let dir = Path::new(ROOT).join(rdt.clos_id().as_deref().unwrap_or(id));
    let created = match std::fs::create_dir(&dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => {
            return Err(Error::os(
                format!("create resctrl group {}", dir.display()),
                e,
            ));
        }
    };
    let mut lines: Vec<String> = Vec::new();
    lines.extend(rdt.l3_cache_schema().clone());
    lines.extend(rdt.mem_bw_schema().clone());
    lines.extend(rdt.schemata().clone().unwrap_or_default());
    for line in lines
        .iter()
        .flat_map(|l| l.lines())
        .filter(|l| !l.trim().is_empty())
    {
        std::fs::write(dir.join("schemata"), line)
            .step(|| format!("write resctrl schemata {line:?} to {}", dir.display()))?;
    }
    Ok((dir, created))
}

/// Put `pid` into the group.
pub fn add_task(dir: &Path, pid: i32) -> Result<()> {
    std::fs::write(dir.join("tasks"), pid.to_string())
        .step(|| format!("add pid {pid} to resctrl group {}", dir.display()))
}

/// Remove a group we created.
pub fn remove(dir: &Path) -> Result<()> {
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::os(
            format!("remove resctrl group {}", dir.display()),
            e,
        )),
    }
}
