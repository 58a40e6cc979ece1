//! `create`: validate the bundle, claim the id, make the cgroup, and bring
//! the init up to the point where it waits for `start`. A failure at any
//! step tears down everything made so far.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxNamespaceType as Ns;

use super::Container;
use crate::config::Bundle;
use crate::error::OsContext;
use crate::process::finalize::Launch;
use crate::process::init::{InitContext, StartSignal};
use crate::process::parent::{self, Spawned};
use crate::state::{self, ContainerState};
use crate::{Error, Result};

/// What `create` (and `run`) take from the command line.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The runtime root (`--root`).
    pub root: PathBuf,
    /// Container id.
    pub id: String,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// Write the init's pid here.
    pub pid_file: Option<PathBuf>,
    /// Send the pty master to this unix socket.
    pub console_socket: Option<PathBuf>,
    /// Use move+chroot instead of pivot_root.
    pub no_pivot: bool,
    /// Keep the caller's session keyring.
    pub no_new_keyring: bool,
    /// Pass descriptors 3..3+n (plus LISTEN_FDS) to the container.
    pub preserve_fds: u32,
    /// The bundle, when the caller has loaded it already (else it is read
    /// from `bundle`).
    pub loaded: Option<Bundle>,
}

/// How the started process learns to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// `create` then a separate `start` (exec FIFO).
    Create,
    /// `run` (the channel).
    Run,
}

impl Container {
    /// `create`: the init waits for `start` when this returns.
    pub fn create(opts: &CreateOptions) -> Result<Container> {
        let (c, _spawned) = create(opts, Mode::Create, None)?;
        Ok(c)
    }
}

/// Undo a half-made container; disarmed once create succeeds.
struct Undo {
    dir: PathBuf,
    cgroup: Option<berth_cgroups::Manager>,
    resctrl: Option<PathBuf>,
    pid: Option<i32>,
    armed: bool,
}

impl Undo {
    fn run(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(pid) = self.pid.take()
            && let Some(p) = rustix::process::Pid::from_raw(pid)
        {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
            let _ = rustix::process::waitpid(Some(p), crate::sys::WALL);
        }
        if let Some(cg) = self.cgroup.take()
            && let Err(e) = cg.destroy()
        {
            errors.push(e.to_string());
        }
        if let Some(dir) = self.resctrl.take()
            && let Err(e) = crate::resctrl::remove(&dir)
        {
            errors.push(e.to_string());
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            errors.push(format!("remove {}: {e}", self.dir.display()));
        }
        errors
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        if self.armed {
            self.run();
        }
    }
}

/// Make sure descriptors 3..3+n exist, so that nothing the runtime opens
/// lands in the range handed to the container.
fn reserve_fds(n: u32) {
    for fd in 3..3 + n as i32 {
        let _ = crate::sys::ensure_open(fd);
    }
}

/// Descriptors passed with systemd's LISTEN_FDS.
fn listen_fds() -> u32 {
    std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Create the runtime root and the container's state directory.
fn claim(root: &Path, id: &str) -> Result<PathBuf> {
    if !root.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .step(|| format!("create the runtime root {}", root.display()))?;
    }
    let dir = root.join(id);
    match std::fs::DirBuilder::new().mode(0o711).create(&dir) {
        Ok(()) => {
            // The umask may have narrowed the mode.
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711));
            Ok(dir)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(Error::Exists(id.to_string()))
        }
        Err(e) => Err(Error::os(format!("create {}", dir.display()), e)),
    }
}

pub(super) fn create(
    opts: &CreateOptions,
    mode: Mode,
    console_override: Option<&OwnedFd>,
) -> Result<(Container, Spawned)> {
    super::check_id(&opts.id)?;
    let listen = listen_fds();
    let preserved = opts.preserve_fds + listen;
    reserve_fds(preserved);

    let bundle = match &opts.loaded {
        Some(b) => b.clone(),
        None => Bundle::load(&opts.bundle)?,
    };
    let checked = crate::validate::check(&bundle)?;
    let spec = &bundle.spec;
    let linux = spec.linux().as_ref().expect("validated");
    let process = spec.process().as_ref();
    let terminal = process.is_some_and(|p| p.terminal() == Some(true));
    if terminal && opts.console_socket.is_none() && console_override.is_none() {
        return Err(Error::InvalidArgument(
            "cannot allocate a tty without --console-socket when the runtime does not stay in the foreground"
                .into(),
        ));
    }
    if !terminal && opts.console_socket.is_some() {
        return Err(Error::InvalidArgument(
            "--console-socket is only meaningful when process.terminal is true".into(),
        ));
    }
    let mut cgroup = berth_cgroups::Manager::new(linux.cgroups_path().as_deref(), &opts.id)?;
    let mut resources = linux.resources().clone().unwrap_or_default();
    resources.set_devices(Some(crate::device_rules::effective(spec)));
    cgroup.validate(&resources)?;
    let seccomp = match linux.seccomp() {
        Some(s) => {
            Some(berth_seccomp::Cache::new(opts.root.join(".cache/seccomp")).load_or_compile(s)?)
        }
        None => None,
    };
    let idmapped = crate::rootfs::idmap::prepare(spec, &bundle.dir)?;
    let console = match (&opts.console_socket, console_override) {
        (_, Some(_)) => None,
        (Some(path), None) => Some(
            crate::console::connect(path)
                .step(|| format!("connect to the console socket {}", path.display()))?,
        ),
        (None, None) => None,
    };

    let dir = claim(&opts.root, &opts.id)?;
    let mut undo = Undo {
        dir: dir.clone(),
        cgroup: None,
        resctrl: None,
        pid: None,
        armed: true,
    };
    let result = (|| -> Result<(Container, Spawned)> {
        cgroup.create()?;
        undo.cgroup = Some(berth_cgroups::Manager::from_state(&cgroup.state())?);
        cgroup.apply(&resources)?;
        let rdt = match linux.intel_rdt() {
            Some(rdt) => {
                let (rdt_dir, made) = crate::resctrl::create(&opts.id, rdt)?;
                if made {
                    undo.resctrl = Some(rdt_dir.clone());
                }
                Some(rdt_dir)
            }
            None => None,
        };
        state::write_atomic(&dir.join(state::CONFIG_FILE), &bundle.raw)?;
        let dir_fd = match mode {
            Mode::Create => {
                rustix::fs::mknodat(
                    rustix::fs::CWD,
                    dir.join(state::FIFO_FILE),
                    rustix::fs::FileType::Fifo,
                    rustix::fs::Mode::from_raw_mode(0o622),
                    0,
                )
                .step(|| "create the exec fifo".to_string())?;
                prepare_fifo(&dir.join(state::FIFO_FILE), linux)?;
                Some(
                    rustix::fs::open(
                        &dir,
                        rustix::fs::OFlags::PATH
                            | rustix::fs::OFlags::DIRECTORY
                            | rustix::fs::OFlags::CLOEXEC,
                        rustix::fs::Mode::empty(),
                    )
                    .step(|| format!("open {}", dir.display()))?,
                )
            }
            Mode::Run => None,
        };
        let mut env = process.and_then(|p| p.env().clone()).unwrap_or_default();
        if listen > 0 {
            env.retain(|kv| !kv.starts_with("LISTEN_FDS=") && !kv.starts_with("LISTEN_PID="));
            env.push(format!("LISTEN_FDS={listen}"));
            env.push("LISTEN_PID=1".to_string());
        }
        let cgroup_state = cgroup.state();
        let cx = InitContext {
            id: &opts.id,
            spec,
            bundle: &bundle.dir,
            rootfs: &checked.rootfs,
            plan: &checked.plan,
            cgroup: Some(&cgroup_state),
            cgroup_manager: &cgroup,
            idmapped: &idmapped,
            launch: process.map(|process| Launch {
                process,
                env: &env,
                seccomp: seccomp.as_ref(),
                last_cap: crate::capabilities::last_cap(),
                preserved_fds: preserved,
                mini_init: crate::process::mini_init::wanted(spec),
            }),
            console_socket: console_override.or(console.as_ref()).map(|f| f.as_fd()),
            start: match &dir_fd {
                Some(fd) => StartSignal::Fifo(fd.as_fd()),
                None => StartSignal::Channel,
            },
            no_pivot: opts.no_pivot,
            no_new_keyring: opts.no_new_keyring,
        };
        let spawned = parent::spawn(&cx)?;
        undo.pid = Some(spawned.pid);
        if let Some(rdt_dir) = &rdt {
            crate::resctrl::add_task(rdt_dir, spawned.pid)?;
        }
        let (pid_start, _) = state::proc_stat(spawned.pid)
            .ok_or_else(|| Error::Init("the container init exited right after setup".into()))?;
        let st = ContainerState {
            id: opts.id.clone(),
            pid: spawned.pid,
            pid_start,
            bundle: bundle.dir.clone(),
            rootfs: checked.rootfs.clone(),
            created: crate::time::now(),
            annotations: spec.annotations().clone().unwrap_or_default(),
            oci_version: spec.version().clone(),
            cgroup: cgroup_state.clone(),
            userns: checked.plan.has(Ns::User),
            resctrl: undo.resctrl.clone(),
            no_new_keyring: opts.no_new_keyring,
            has_process: process.is_some(),
            post_hooks: spec.hooks().as_ref().is_some_and(|h| {
                h.poststart().as_ref().is_some_and(|l| !l.is_empty())
                    || h.poststop().as_ref().is_some_and(|l| !l.is_empty())
            }),
        };
        st.save(&dir)?;
        if let Some(pid_file) = &opts.pid_file {
            write_pid_file(pid_file, spawned.pid)?;
        }
        Ok((
            Container {
                root: opts.root.clone(),
                dir: dir.clone(),
                state: st,
            },
            spawned,
        ))
    })();
    match result {
        Ok(v) => {
            undo.armed = false;
            Ok(v)
        }
        Err(e) => {
            undo.armed = false;
            let mut cleanup = undo.run();
            // The spec: a failed create stops the container and continues
            // the lifecycle, whose last step is the poststop hooks.
            if let Some(list) = spec.hooks().as_ref().and_then(|h| h.poststop().as_ref()) {
                let state = crate::hooks::state_json(
                    &opts.id,
                    crate::state::Status::Stopped,
                    0,
                    &bundle.dir,
                    &spec.annotations().clone().unwrap_or_default(),
                );
                let failed =
                    crate::hooks::run_all_warn(crate::hooks::HookKind::Poststop, list, &state);
                cleanup.extend(failed.iter().map(|f| f.to_string()));
            }
            if cleanup.is_empty() {
                Err(e)
            } else {
                Err(Error::CleanupFailed {
                    error: Box::new(e),
                    cleanup: cleanup.join("; "),
                })
            }
        }
    }
}

/// The FIFO must be writable by the container's root whatever the umask,
/// and in a user namespace that root is an unprivileged host uid: give it
/// the file (as runc does).
fn prepare_fifo(path: &Path, linux: &oci_spec::runtime::Linux) -> Result<()> {
    rustix::fs::chmod(path, rustix::fs::Mode::from_raw_mode(0o622))
        .step(|| "chmod the exec fifo".to_string())?;
    let host_id = |maps: Option<&Vec<oci_spec::runtime::LinuxIdMapping>>| {
        maps.and_then(|m| {
            m.iter()
                .find(|m| m.container_id() == 0)
                .map(|m| m.host_id())
        })
    };
    let uid = host_id(linux.uid_mappings().as_ref());
    let gid = host_id(linux.gid_mappings().as_ref());
    if uid.is_some() || gid.is_some() {
        rustix::fs::chown(
            path,
            uid.map(rustix::fs::Uid::from_raw),
            gid.map(rustix::fs::Gid::from_raw),
        )
        .step(|| "chown the exec fifo to the container's root".to_string())?;
    }
    Ok(())
}

/// Write a pid file atomically (temp + rename), as runc does.
pub(crate) fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let path = crate::config::absolute(path);
    state::write_atomic(&path, pid.to_string().as_bytes())?;
    Ok(())
}
