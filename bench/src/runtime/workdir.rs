//! The benchmark's scratch space, one directory under /tmp removed at the
//! end:
//!
//! ```text
//! /tmp/berth-bench-XXXXXX/
//!     rootfs/                  busybox-static root, shared read-only by all
//!     <runtime>/               that runtime's --root (its state directory)
//!     bundle-<runtime>/        config.json, rewritten per container (its
//!                              cgroupsPath names the container id)
//!     <runtime>.stderr         the last command's stderr, quoted on failure
//!     <runtime>.pid            --pid-file of `create`
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

/// The scratch directory.
#[derive(Debug)]
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    /// Create it under /tmp and fill in the busybox root filesystem.
    pub fn create() -> anyhow::Result<Workdir> {
        if !Path::new(berth_testutil::BUSYBOX).exists() {
            bail!(
                "{} is missing: install Debian's busybox-static (apt-get install busybox-static)",
                berth_testutil::BUSYBOX
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("berth-bench-")
            .tempdir_in("/tmp")
            .context("create a scratch directory in /tmp")?;
        berth_testutil::make_rootfs(&dir.path().join("rootfs"));
        Ok(Workdir { dir })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The shared root filesystem.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }

    /// Remove the directory and everything in it.
    pub fn remove(self) -> anyhow::Result<()> {
        let path = self.dir.path().to_path_buf();
        self.dir
            .close()
            .with_context(|| format!("remove {}", path.display()))
    }
}

/// The configuration of every benchmarked container: what `runc spec`
/// (runc 1.1) writes — namespaces pid, network, ipc, uts, mount; runc's
/// mounts, masked and read-only paths; three capabilities; no new
/// privileges; a read-only root; its `ociVersion` "1.0.2-dev", which every
/// runtime here accepts (crun 1.8 refuses "1.2.0") — with `terminal: false`,
/// `args: ["true"]`, the shared root filesystem, and `cgroups_path`.
pub fn container_config(rootfs: &Path, cgroups_path: &str) -> Value {
    let mut config =
        berth_testutil::default_config(&["true"], cgroups_path.trim_start_matches('/'));
    config["root"] = serde_json::json!({
        "path": rootfs.to_string_lossy(),
        "readonly": true,
    });
    config["hostname"] = Value::from("berth-bench");
    config["ociVersion"] = Value::from("1.0.2-dev");
    config
}

/// Write `config.json` into `bundle` (created if needed).
pub fn write_config(bundle: &Path, config: &Value) -> anyhow::Result<()> {
    std::fs::create_dir_all(bundle).with_context(|| format!("create {}", bundle.display()))?;
    let path = bundle.join("config.json");
    let bytes = serde_json::to_vec_pretty(config).context("serialize config.json")?;
    std::fs::write(&path, bytes).with_context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_is_runc_spec_with_a_read_only_root_and_true() {
        let c = container_config(Path::new("/tmp/x/rootfs"), "/berth-bench-runc/c1");
        assert_eq!(c["process"]["args"], serde_json::json!(["true"]));
        assert_eq!(c["process"]["terminal"], Value::Bool(false));
        assert_eq!(c["root"]["readonly"], Value::Bool(true));
        assert_eq!(c["root"]["path"], Value::from("/tmp/x/rootfs"));
        assert_eq!(
            c["linux"]["cgroupsPath"],
            Value::from("/berth-bench-runc/c1")
        );
        let ns: Vec<&str> = c["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["pid", "network", "ipc", "uts", "mount"]);
        assert_eq!(c["mounts"].as_array().unwrap().len(), 7);
        assert_eq!(c["linux"]["maskedPaths"].as_array().unwrap().len(), 10);
    }

    #[test]
    fn the_workdir_has_a_busybox_root_and_is_removed() {
        let w = Workdir::create().unwrap();
        let path = w.path().to_path_buf();
        assert!(
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("berth-bench-")
        );
        assert!(w.rootfs().join("bin/true").exists());
        write_config(
            &path.join("bundle-x"),
            &container_config(&w.rootfs(), "/a/b"),
        )
        .unwrap();
        assert!(path.join("bundle-x/config.json").exists());
        w.remove().unwrap();
        assert!(!path.exists());
    }
}
