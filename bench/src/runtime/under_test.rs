//! One OCI runtime binary under test: where it is, its version, its own
//! state directory and bundle in the scratch space, the commands the
//! scenarios run with it, and the probe that decides whether it can run a
//! container on this host at all (and if not, says why).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;

use super::workdir::{self, Workdir};
use crate::spawn;

/// A runtime binary under test.
#[derive(Debug)]
pub struct RuntimeUnderTest {
    /// Short name (the file name): "runc", "crun", "berth-runtime".
    pub name: String,
    /// The binary.
    pub path: PathBuf,
    /// First line of `--version`.
    pub version: String,
    /// Its `--root`.
    pub root: PathBuf,
    bundle: PathBuf,
    stderr: PathBuf,
    /// Its `create --pid-file`.
    pub pid_file: PathBuf,
    rootfs: PathBuf,
}

/// The default runtimes: the berth-runtime we ship (scripts/build-runtime),
/// then runc and crun where Debian installs them.
pub fn default_paths() -> Vec<PathBuf> {
    vec![
        berth_runtime_path(),
        PathBuf::from("/usr/sbin/runc"),
        PathBuf::from("/usr/bin/crun"),
    ]
}

/// The shipped build, `target/<host>/runtime/berth-runtime` (what
/// scripts/build-runtime makes), else `target/release/berth-runtime`.
fn berth_runtime_path() -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let shipped = std::fs::read_dir(&target)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("runtime/berth-runtime"))
        .find(|p| p.exists());
    shipped.unwrap_or_else(|| target.join("release/berth-runtime"))
}

impl RuntimeUnderTest {
    /// Set up `path` in `work`; `Err` carries why it cannot be used (not
    /// there, `--version` fails).
    pub fn new(path: &Path, work: &Workdir, taken: &[String]) -> Result<Self, String> {
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| format!("{} names no file", path.display()))?;
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        let dir = work.path();
        let rt = RuntimeUnderTest {
            root: dir.join(&name),
            bundle: dir.join(format!("bundle-{name}")),
            stderr: dir.join(format!("{name}.stderr")),
            pid_file: dir.join(format!("{name}.pid")),
            rootfs: work.rootfs(),
            version: String::new(),
            path: path.to_path_buf(),
            name,
        };
        if !path.exists() {
            return Err(format!("{} does not exist", path.display()));
        }
        let out = Command::new(path)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot execute {}: {e}", path.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} --version failed: {}",
                path.display(),
                out.status
            ));
        }
        let version = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        Ok(RuntimeUnderTest { version, ..rt })
    }

    /// The cgroup directory all of this runtime's containers go under.
    pub fn cgroup_parent(&self) -> String {
        format!("berth-bench-{}", self.name)
    }

    /// The cgroupsPath of container `id`.
    pub fn cgroups_path(&self, id: &str) -> String {
        format!("/{}/{id}", self.cgroup_parent())
    }

    /// Write the bundle's config.json for container `id`.
    pub fn prepare(&self, id: &str) -> anyhow::Result<()> {
        let config = workdir::container_config(&self.rootfs, &self.cgroups_path(id));
        workdir::write_config(&self.bundle, &config)
    }

    /// `<runtime> --root <root> <args…>`, stdout to /dev/null, stderr to
    /// this runtime's stderr file (truncated).
    pub fn command(&self, args: &[&str]) -> anyhow::Result<Command> {
        let stderr = File::create(&self.stderr)
            .with_context(|| format!("create {}", self.stderr.display()))?;
        let mut cmd = Command::new(&self.path);
        cmd.arg("--root")
            .arg(&self.root)
            .args(args)
            .stdout(Stdio::null())
            .stderr(stderr);
        Ok(cmd)
    }

    /// `run --bundle <bundle> <id>`.
    pub fn run_command(&self, id: &str) -> anyhow::Result<Command> {
        let bundle = self.bundle.to_string_lossy();
        self.command(&["run", "--bundle", &bundle, id])
    }

    /// `create --bundle <bundle> --pid-file <pid file> <id>`.
    pub fn create_command(&self, id: &str) -> anyhow::Result<Command> {
        let bundle = self.bundle.to_string_lossy();
        let pid_file = self.pid_file.to_string_lossy();
        self.command(&["create", "--bundle", &bundle, "--pid-file", &pid_file, id])
    }

    /// The full command line of `run` for container `id`, for `strace`.
    pub fn run_argv(&self, id: &str) -> Vec<String> {
        vec![
            self.path.to_string_lossy().into_owned(),
            "--root".to_string(),
            self.root.to_string_lossy().into_owned(),
            "run".to_string(),
            "--bundle".to_string(),
            self.bundle.to_string_lossy().into_owned(),
            id.to_string(),
        ]
    }

    /// What the last command wrote to stderr, on one line.
    pub fn last_stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// Can this runtime run a container here? Runs one `run` of the
    /// benchmark container; `Err` is the reason it cannot, in the runtime's
    /// own words.
    pub fn probe(&self, id: &str) -> anyhow::Result<Result<(), String>> {
        self.prepare(id)?;
        let m = spawn::measure(&mut self.run_command(id)?)?;
        if m.status.success() {
            return Ok(Ok(()));
        }
        let said = self.last_stderr();
        // A failed run may leave a half-made container; the final cleanup
        // checks for it, this just gives the runtime its own chance first.
        if let Ok(mut delete) = self.command(&["delete", "--force", id]) {
            let _ = spawn::measure(&mut delete);
        }
        Ok(Err(format!("`run` failed ({}): {said}", m.status)))
    }
}
