//! The container's init: the cloned child that turns itself into the
//! container's first process. Runs single-threaded from the moment of the
//! clone until `execve`; every failure is reported to the runtime as text
//! and ends the process.

use std::convert::Infallible;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::{LinuxNamespaceType as Ns, Spec};

use super::channel::ToRuntime;
use super::finalize::Launch;
use crate::hooks::{self, HookKind};
use crate::namespaces::Plan;
use crate::rootfs::{Rootfs, idmap};
use crate::state::Status;

/// How the init learns that `start` was called.
#[derive(Debug)]
pub enum StartSignal<'a> {
    /// `create`: block opening `exec.fifo` (in this state directory) for
    /// writing until `start` opens it for reading.
    Fifo(BorrowedFd<'a>),
    /// `run`: wait for [`super::message::Message::Start`].
    Channel,
}

/// Everything the init needs; it lives in the runtime's memory, which the
/// clone copied.
#[derive(Debug)]
pub struct InitContext<'a> {
    /// Container id.
    pub id: &'a str,
    /// The configuration.
    pub spec: &'a Spec,
    /// Bundle directory.
    pub bundle: &'a Path,
    /// Root filesystem on the host.
    pub rootfs: &'a Path,
    /// The namespace plan.
    pub plan: &'a Plan,
    /// The container's cgroup (for cgroup mounts).
    pub cgroup: Option<&'a berth_cgroups::CgroupState>,
    /// The container's cgroup; the first child joins its v1 hierarchies.
    pub cgroup_manager: &'a berth_cgroups::Manager,
    /// Idmapped trees prepared by the runtime.
    pub idmapped: &'a idmap::Prepared,
    /// The final steps; `None` when the config has no `process` (allowed
    /// at create; `start` then fails, as the spec says).
    pub launch: Option<Launch<'a>>,
    /// Where to send the pty master (`--console-socket`).
    pub console_socket: Option<BorrowedFd<'a>>,
    /// Start protocol.
    pub start: StartSignal<'a>,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// `--no-new-keyring`.
    pub no_new_keyring: bool,
}

/// Entry point of the init; never returns.
pub fn main(cx: &InitContext<'_>, chan: &ToRuntime, join_namespaces: bool) -> ! {
    let err = match run(cx, chan, join_namespaces) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    chan.failed(&err);
    // SAFETY: _exit ends this cloned child without running the runtime's
    // exit handlers or flushing stdio buffers copied from it.
    unsafe { libc::_exit(1) }
}

fn run(
    cx: &InitContext<'_>,
    chan: &ToRuntime,
    join_namespaces: bool,
) -> Result<Infallible, String> {
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    // `join_namespaces` is true when we are the runtime's first child; the
    // intermediate (which joined namespaces and the cgroup) says false.
    if join_namespaces {
        cx.cgroup_manager
            .join_v1_self()
            .map_err(|e| format!("join the container's cgroup: {e}"))?;
        crate::namespaces::join_all(&cx.plan.join)?;
    }
    chan.wait_go()?;
    let linux = cx.spec.linux().as_ref();
    if cx.plan.is_new(Ns::User) {
        crate::identity::become_root()
            .map_err(|e| format!("become root in the new user namespace: {e}"))?;
    }
    if cx.plan.is_new(Ns::Network) {
        crate::sys::loopback_up().map_err(|e| format!("bring up lo: {e}"))?;
    }
    if cx.plan.is_new(Ns::Cgroup) {
        crate::sys::unshare(rustix::thread::UnshareFlags::NEWCGROUP)
            .map_err(|e| format!("unshare the cgroup namespace: {e}"))?;
    }
    let process = cx.launch.as_ref().map(|l| l.process);
    if let Some(label) = process
        .and_then(|p| p.selinux_label().as_deref())
        .filter(|l| !l.is_empty())
    {
        crate::lsm::selinux_keycreate(label)
            .map_err(|e| format!("label the session keyring: {e}"))?;
    }
    if !cx.no_new_keyring {
        join_keyring(cx.id)?;
    }
    if let Some(h) = cx.spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        rustix::system::sethostname(h.as_bytes())
            .map_err(|e| format!("set hostname {h:?}: {e}"))?;
    }
    if let Some(d) = cx.spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        rustix::system::setdomainname(d.as_bytes())
            .map_err(|e| format!("set domainname {d:?}: {e}"))?;
    }

    let rootfs = Rootfs {
        rootfs: cx.rootfs,
        bundle: cx.bundle,
        spec: cx.spec,
        userns: cx.plan.has(Ns::User),
        cgroup: cx.cgroup,
        cgroupns: cx.plan.has(Ns::Cgroup),
        idmapped: cx.idmapped,
    };
    let own_mounts = cx.plan.is_new(Ns::Mount);
    if own_mounts {
        rootfs.prepare().map_err(|e| e.to_string())?;
    }
    let spec_hooks = cx.spec.hooks().as_ref();
    let wants_runtime_hooks = spec_hooks.is_some_and(|h| {
        h.prestart().as_ref().is_some_and(|v| !v.is_empty())
            || h.create_runtime().as_ref().is_some_and(|v| !v.is_empty())
    });
    if wants_runtime_hooks {
        chan.run_hooks()?;
    }
    let host_pid = own_host_pid();
    let annotations = cx.spec.annotations().clone().unwrap_or_default();
    if let Some(list) = spec_hooks.and_then(|h| h.create_container().as_ref()) {
        let state = hooks::state_json(cx.id, Status::Creating, host_pid, cx.bundle, &annotations);
        hooks::run_all(HookKind::CreateContainer, list, &state).map_err(|e| e.to_string())?;
    }
    if own_mounts {
        rootfs.enter(cx.no_pivot).map_err(|e| e.to_string())?;
    } else {
        rootfs.chroot_only().map_err(|e| e.to_string())?;
    }
    if process.is_some_and(|p| p.terminal() == Some(true)) {
        setup_console(cx, own_mounts)?;
    }
    // Sysctls go through /proc/sys, which finish() makes read-only.
    if let Some(sysctl) = linux.and_then(|l| l.sysctl().as_ref()) {
        crate::sysctl::apply(sysctl)?;
    }
    if own_mounts {
        rootfs.finish().map_err(|e| e.to_string())?;
    }
    if let Some(l) = linux {
        super::attributes::apply_linux(l)?;
    }

    let prepared = match &cx.launch {
        Some(launch) => Some(launch.prepare(Some(chan))?),
        None => None,
    };
    let _ = rustix::process::set_parent_process_death_signal(None);
    chan.ready()?;
    // `start` is waiting on the FIFO for our verdict: it runs the poststart
    // hooks only after the startContainer hooks succeeded (and reports
    // their failure), so the lifecycle order holds.
    let fifo = match cx.start {
        StartSignal::Channel => {
            chan.wait_start()?;
            None
        }
        StartSignal::Fifo(dir) => Some(open_fifo(dir)?),
    };
    let hooks_result = match spec_hooks.and_then(|h| h.start_container().as_ref()) {
        Some(list) => {
            let state =
                hooks::state_json(cx.id, Status::Created, host_pid, cx.bundle, &annotations);
            hooks::run_all(HookKind::StartContainer, list, &state).map_err(|e| e.to_string())
        }
        None => Ok(()),
    };
    if let Some(fifo) = fifo {
        let verdict = match &hooks_result {
            Ok(()) => b"0".to_vec(),
            Err(e) => [b"1".as_slice(), e.as_bytes()].concat(),
        };
        rustix::io::write(&fifo, &verdict).map_err(|e| format!("write the exec fifo: {e}"))?;
    }
    hooks_result?;
    match (&cx.launch, prepared) {
        (Some(launch), Some(prepared)) => Err(launch.exec(prepared)),
        _ => Err("config.json has no process to start".into()),
    }
}

/// Our pid in the runtime's pid namespace: before pivot_root, `/proc` is
/// still the host's, whose `self` link names it.
fn own_host_pid() -> i32 {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str()?.parse().ok())
        .unwrap_or(0)
}

/// Make a pty in the container's devpts, show it as /dev/console, send its
/// master to the console socket and make it our terminal.
fn setup_console(cx: &InitContext<'_>, own_mounts: bool) -> Result<(), String> {
    let socket = cx
        .console_socket
        .ok_or("process.terminal is true but no console socket was given")?;
    let size = cx
        .launch
        .as_ref()
        .and_then(|l| l.process.console_size())
        .map(|b| (b.height() as u16, b.width() as u16));
    let pty = crate::console::open_pty(size).map_err(|e| format!("create the console pty: {e}"))?;
    if own_mounts {
        crate::rootfs::devices::console(&pty.name).map_err(|e| e.to_string())?;
    }
    crate::console::send_master(socket, pty.master.as_fd(), &pty.name)
        .map_err(|e| format!("send the pty master to the console socket: {e}"))?;
    drop(pty.master);
    crate::console::make_controlling(&pty.slave)
        .map_err(|e| format!("make the pty our terminal: {e}"))
}

/// Block until `start` opens the FIFO for reading.
fn open_fifo(dir: BorrowedFd<'_>) -> Result<OwnedFd, String> {
    rustix::fs::openat(
        dir,
        crate::state::FIFO_FILE,
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| format!("open the exec fifo: {e}"))
}

/// Join the container's session keyring `_ses.<id>` (the init and every
/// exec'd process, as runc).
pub(super) fn join_keyring(id: &str) -> Result<(), String> {
    match crate::sys::join_session_keyring(&format!("_ses.{id}")) {
        Ok(()) => Ok(()),
        // Kernels without keyrings, and seccomp profiles of an outer
        // container that deny keyctl: go on with the inherited keyring.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM)) => Ok(()),
        Err(e) => Err(format!("join a new session keyring: {e}")),
    }
}
