//! The runtime's side of creating a container's init: everything between
//! "the configuration is valid" and "the init waits for start".

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};

use oci_spec::runtime::{LinuxNamespaceType as Ns, Spec};

use super::channel::{self, Event, ToChild};
use super::init::{self, InitContext};
use super::intermediate;
use super::message::Message;
use crate::error::OsContext;
use crate::hooks::{self, HookKind};
use crate::namespaces;
use crate::state::Status;
use crate::sys::{CloneArgs, Forked};
use crate::{Error, Result};

/// The init, set up and waiting for start.
#[derive(Debug)]
pub struct Spawned {
    /// Its pid in our pid namespace.
    pub pid: i32,
    /// Its pidfd (when the kernel gave one).
    pub pidfd: Option<OwnedFd>,
    /// The channel, for `run` to send `Start` and see the exec happen.
    pub chan: ToChild,
}

/// Kills and reaps a half-made child unless disarmed.
struct ChildGuard {
    pid: i32,
    armed: bool,
}

impl ChildGuard {
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.armed {
            let pid = rustix::process::Pid::from_raw(self.pid).expect("child pids are positive");
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            let _ = rustix::process::waitpid(Some(pid), crate::sys::WALL);
        }
    }
}

/// Restores one of our namespaces-for-children when dropped.
struct NsRestore(OwnedFd, rustix::thread::LinkNameSpaceType);

impl Drop for NsRestore {
    fn drop(&mut self) {
        let _ = rustix::thread::move_into_link_name_space(self.0.as_fd(), Some(self.1));
    }
}

fn open_ns(name: &str) -> Result<OwnedFd> {
    rustix::fs::open(
        format!("/proc/self/ns/{name}"),
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .step(|| format!("open /proc/self/ns/{name}"))
}

/// Make a new time namespace for our children and write its offsets (the
/// only moment they can be written: before any process is inside).
fn new_time_namespace(spec: &Spec) -> Result<NsRestore> {
    let restore = NsRestore(
        open_ns("time_for_children")?,
        rustix::thread::LinkNameSpaceType::Time,
    );
    crate::sys::unshare(rustix::thread::UnshareFlags::NEWTIME)
        .step(|| "unshare the time namespace".to_string())?;
    let offsets = spec
        .linux()
        .as_ref()
        .and_then(|l| l.time_offsets().as_ref());
    if let Some(offsets) = offsets {
        let text: String = offsets
            .iter()
            .map(|(clock, o)| {
                format!(
                    "{clock} {} {}\n",
                    o.secs().unwrap_or(0),
                    o.nanosecs().unwrap_or(0)
                )
            })
            .collect();
        std::fs::write("/proc/self/timens_offsets", &text)
            .step(|| format!("write time namespace offsets {text:?}"))?;
    }
    Ok(restore)
}

/// Create the init and drive it to `Ready`.
pub fn spawn(cx: &InitContext<'_>) -> Result<Spawned> {
    let (to_child, to_runtime) = channel::pair().step(|| "create the sync socket".to_string())?;
    let plan = cx.plan;
    let via_intermediate = plan.needs_intermediate();

    // Namespaces our children are created in: restored when these drop.
    let time_restore = if plan.is_new(Ns::Time) {
        Some(new_time_namespace(cx.spec)?)
    } else {
        None
    };
    let pid_restore = match (&plan.join_pid, via_intermediate) {
        (Some(j), false) => {
            let restore = NsRestore(
                open_ns("pid")?,
                rustix::thread::LinkNameSpaceType::ProcessID,
            );
            namespaces::enter(j).map_err(Error::Init)?;
            Some(restore)
        }
        _ => None,
    };
    let flags = if via_intermediate {
        0
    } else {
        plan.clone_flags()
    };
    let (forked, placed) = clone_into(cx.cgroup_manager, flags)?;
    let (pid, mut pidfd) = match forked.step(|| "clone the container init".to_string())? {
        // The child keeps the namespaces-for-children it was made with: the
        // restores below are the runtime's business only.
        Forked::Child => {
            drop(to_child);
            if via_intermediate {
                intermediate::main(cx, &to_runtime)
            } else {
                init::main(cx, &to_runtime, true)
            }
        }
        Forked::Parent { pid, pidfd } => {
            drop(pid_restore);
            drop(time_restore);
            (pid, pidfd)
        }
    };
    drop(to_runtime);
    let mut guard = ChildGuard { pid, armed: true };

    let linux = cx.spec.linux().as_ref();
    let uid_maps = linux
        .and_then(|l| l.uid_mappings().as_deref())
        .unwrap_or_default();
    let gid_maps = linux
        .and_then(|l| l.gid_mappings().as_deref())
        .unwrap_or_default();
    let mut init_pid = pid;
    if via_intermediate {
        init_pid = run_intermediate(&to_child, pid, uid_maps, gid_maps)?;
        // The intermediate is done (reap it); the guard now watches the init.
        let _ = rustix::process::waitpid(
            rustix::process::Pid::from_raw(pid),
            rustix::process::WaitOptions::empty(),
        );
        guard.pid = init_pid;
        pidfd = rustix::process::pidfd_open(
            rustix::process::Pid::from_raw(init_pid).expect("init pid is positive"),
            rustix::process::PidfdFlags::empty(),
        )
        .ok();
    }
    if !placed {
        cx.cgroup_manager.add_task(init_pid)?;
    }
    if plan.is_new(Ns::User) && !via_intermediate {
        namespaces::write_id_maps(init_pid, uid_maps, gid_maps).map_err(Error::Init)?;
    }
    to_child
        .go()
        .step(|| "signal the container init".to_string())?;

    let annotations: HashMap<String, String> = cx.spec.annotations().clone().unwrap_or_default();
    loop {
        match to_child
            .next()
            .step(|| "read from the container init".to_string())?
        {
            Event::Message(Message::RunHooks, _) => {
                let state =
                    hooks::state_json(cx.id, Status::Creating, init_pid, cx.bundle, &annotations);
                if let Some(h) = cx.spec.hooks() {
                    if let Some(list) = h.prestart() {
                        hooks::run_all(HookKind::Prestart, list, &state)?;
                    }
                    if let Some(list) = h.create_runtime() {
                        hooks::run_all(HookKind::CreateRuntime, list, &state)?;
                    }
                }
                to_child
                    .hooks_done()
                    .step(|| "signal the container init".to_string())?;
            }
            Event::Message(Message::SeccompListener, Some(fd)) => {
                send_seccomp_listener(cx, init_pid, fd, &annotations)?;
            }
            Event::Message(Message::Ready, _) => break,
            Event::Message(Message::Failed(msg), _) => {
                return Err(Error::Init(msg));
            }
            Event::Message(other, _) => {
                return Err(Error::Init(format!(
                    "unexpected message from the container init: {other:?}"
                )));
            }
            Event::Closed => {
                return Err(Error::Init(format!(
                    "the container init exited during setup ({})",
                    exit_description(init_pid)
                )));
            }
        }
    }
    guard.disarm();
    Ok(Spawned {
        pid: init_pid,
        pidfd,
        chan: to_child,
    })
}

/// Clone with `flags` straight into the cgroup2 part of `cgroup`. Returns
/// whether the child is placed once it joined its v1 hierarchies itself;
/// when the kernel could not put it into the cgroup2 directory (before 5.7,
/// no `CLONE_INTO_CGROUP`) the caller adds it before letting it go on.
pub(super) fn clone_into(
    cgroup: &berth_cgroups::Manager,
    flags: u64,
) -> Result<(std::io::Result<Forked>, bool)> {
    let Some(dir) = cgroup.cgroup2_dir_fd()? else {
        let forked = crate::sys::clone3(&CloneArgs {
            flags,
            cgroup: None,
            pidfd: true,
        });
        return Ok((forked, true));
    };
    match crate::sys::clone3(&CloneArgs {
        flags,
        cgroup: Some(dir.as_fd()),
        pidfd: true,
    }) {
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOSYS | libc::E2BIG | libc::EINVAL)
            ) =>
        {
            let forked = crate::sys::clone3(&CloneArgs {
                flags,
                cgroup: None,
                pidfd: true,
            });
            Ok((forked, false))
        }
        other => Ok((other, true)),
    }
}

/// Serve the intermediate until it reports the init's pid.
fn run_intermediate(
    chan: &ToChild,
    pid: i32,
    uid: &[oci_spec::runtime::LinuxIdMapping],
    gid: &[oci_spec::runtime::LinuxIdMapping],
) -> Result<i32> {
    loop {
        match chan
            .next()
            .step(|| "read from the intermediate process".to_string())?
        {
            Event::Message(Message::MapsPlease, _) => {
                namespaces::write_id_maps(pid, uid, gid).map_err(Error::Init)?;
                chan.maps_written()
                    .step(|| "signal the intermediate".to_string())?;
            }
            Event::Message(Message::InitPid(p), _) => return Ok(p),
            Event::Message(Message::Failed(msg), _) => return Err(Error::Init(msg)),
            Event::Message(other, _) => {
                return Err(Error::Init(format!(
                    "unexpected message from the intermediate: {other:?}"
                )));
            }
            Event::Closed => {
                return Err(Error::Init(
                    "the intermediate process exited during setup".into(),
                ));
            }
        }
    }
}

/// Pass a seccomp notify listener to the agent at `listenerPath`.
fn send_seccomp_listener(
    cx: &InitContext<'_>,
    pid: i32,
    fd: OwnedFd,
    annotations: &HashMap<String, String>,
) -> Result<()> {
    let seccomp = cx
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().as_ref())
        .ok_or_else(|| Error::Init("seccomp listener without a seccomp profile".into()))?;
    let path = seccomp.listener_path().as_ref().ok_or_else(|| {
        Error::config(
            "linux.seccomp.listenerPath",
            "required with SCMP_ACT_NOTIFY",
        )
    })?;
    let state: oci_spec::runtime::State = serde_json::from_slice(&hooks::state_json(
        cx.id,
        Status::Creating,
        pid,
        cx.bundle,
        annotations,
    ))
    .map_err(|e| Error::Init(format!("build the container state: {e}")))?;
    let mut process_state = oci_spec::runtime::ContainerProcessState::default();
    process_state.set_version(crate::config::OCI_VERSION.to_string());
    process_state.set_fds(vec!["seccompFd".to_string()]);
    process_state.set_pid(pid);
    process_state.set_metadata(seccomp.listener_metadata().clone());
    process_state.set_state(state);
    berth_seccomp::send_to_listener(path, fd.as_fd(), &process_state)?;
    Ok(())
}

/// How a child that closed its channel ended, for messages.
fn exit_description(pid: i32) -> String {
    match rustix::process::waitpid(
        rustix::process::Pid::from_raw(pid),
        rustix::process::WaitOptions::NOHANG | crate::sys::WALL,
    ) {
        Ok(Some((_, st))) => {
            if let Some(code) = st.exit_status() {
                format!("exit status {code}")
            } else if let Some(sig) = st.terminating_signal() {
                format!("killed by {}", crate::sys::signal_name(sig))
            } else {
                "ended".into()
            }
        }
        _ => "no exit status".into(),
    }
}
