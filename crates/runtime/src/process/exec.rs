//! A new process in a running container (`exec`): the runtime enters the
//! container's pid namespace for its children, clones the process straight
//! into the container's cgroup (v2), and the child joins every other
//! namespace of the container's init in one `setns` on its pidfd.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::channel::{self, Event, ToChild, ToRuntime};
use super::finalize::Launch;
use super::message::Message;
use crate::error::OsContext;
use crate::sys::Forked;
use crate::{Error, Result};

/// The namespaces (as `CLONE_NEW*` bits) in which `pid` differs from us.
pub fn differing_namespaces(pid: i32) -> Result<u64> {
    use rustix::fs::{AtFlags, CWD, statat};
    let mut flags = 0u64;
    for (name, flag) in [
        ("user", libc::CLONE_NEWUSER),
        ("mnt", libc::CLONE_NEWNS),
        ("pid", libc::CLONE_NEWPID),
        ("uts", libc::CLONE_NEWUTS),
        ("ipc", libc::CLONE_NEWIPC),
        ("net", libc::CLONE_NEWNET),
        ("cgroup", libc::CLONE_NEWCGROUP),
        ("time", libc::CLONE_NEWTIME),
    ] {
        let theirs = match statat(CWD, format!("/proc/{pid}/ns/{name}"), AtFlags::empty()) {
            Ok(st) => st,
            // A kernel without this namespace type.
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(Error::os(format!("stat /proc/{pid}/ns/{name}"), e)),
        };
        let ours = statat(CWD, format!("/proc/self/ns/{name}"), AtFlags::empty())
            .step(|| format!("stat /proc/self/ns/{name}"))?;
        if (theirs.st_dev, theirs.st_ino) != (ours.st_dev, ours.st_ino) {
            flags |= flag as u64;
        }
    }
    Ok(flags)
}

/// What the exec'd process needs.
#[derive(Debug)]
pub struct ExecContext<'a> {
    /// The container's id (its session keyring is `_ses.<id>`).
    pub id: &'a str,
    /// Keep the caller's session keyring (the container was created so).
    pub no_new_keyring: bool,
    /// The container's init.
    pub init_pid: i32,
    /// Its pidfd.
    pub init_pidfd: BorrowedFd<'a>,
    /// Namespaces to join (from [`differing_namespaces`]).
    pub namespaces: u64,
    /// The final steps.
    pub launch: Launch<'a>,
    /// `--console-socket` (with `process.terminal`).
    pub console_socket: Option<BorrowedFd<'a>>,
    /// `execCPUAffinity.initial`.
    pub affinity_initial: Option<&'a str>,
    /// `execCPUAffinity.final`.
    pub affinity_final: Option<&'a str>,
    /// How the process joins the container's cgroup.
    pub cgroup_manager: &'a berth_cgroups::Manager,
}

/// The new process, ready and executing (or about to).
#[derive(Debug)]
pub struct ExecSpawned {
    /// Its pid.
    pub pid: i32,
    /// Its pidfd.
    pub pidfd: Option<OwnedFd>,
    /// The channel; end-of-file on it means the exec happened.
    pub chan: ToChild,
}

/// Start a process in the container.
pub fn spawn(cx: &ExecContext<'_>) -> Result<ExecSpawned> {
    let (to_child, to_runtime) = channel::pair().step(|| "create the sync socket".to_string())?;
    let restore_pid = if cx.namespaces & libc::CLONE_NEWPID as u64 != 0 {
        let own = rustix::fs::open(
            "/proc/self/ns/pid",
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .step(|| "open /proc/self/ns/pid".to_string())?;
        rustix::thread::move_into_link_name_space(
            cx.init_pidfd,
            Some(rustix::thread::LinkNameSpaceType::ProcessID),
        )
        .step(|| "enter the container's pid namespace".to_string())?;
        Some(own)
    } else {
        None
    };
    let cloned = super::parent::clone_into(cx.cgroup_manager, 0);
    let in_child = matches!(&cloned, Ok((Ok(Forked::Child), _)));
    if let (Some(own), false) = (restore_pid, in_child) {
        let _ = rustix::thread::move_into_link_name_space(
            own.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::ProcessID),
        );
    }
    let (forked, placed) = cloned?;
    let (pid, pidfd) = match forked.step(|| "clone the exec process".to_string())? {
        Forked::Child => {
            drop(to_child);
            child_main(cx, &to_runtime)
        }
        Forked::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop(to_runtime);
    let kill = || {
        let p = rustix::process::Pid::from_raw(pid).expect("child pids are positive");
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
        let _ = rustix::process::waitpid(Some(p), crate::sys::WALL);
    };
    let result = (|| -> Result<()> {
        if !placed {
            cx.cgroup_manager.add_task(pid)?;
        }
        to_child
            .go()
            .step(|| "signal the exec process".to_string())?;
        match to_child
            .next()
            .step(|| "read from the exec process".to_string())?
        {
            Event::Message(Message::Ready, _) => Ok(()),
            Event::Message(Message::Failed(msg), _) => Err(Error::Init(msg)),
            Event::Message(other, _) => Err(Error::Init(format!(
                "unexpected message from the exec process: {other:?}"
            ))),
            Event::Closed => Err(Error::Init("the exec process exited during setup".into())),
        }
    })();
    if let Err(e) = result {
        kill();
        return Err(e);
    }
    Ok(ExecSpawned {
        pid,
        pidfd,
        chan: to_child,
    })
}

fn child_main(cx: &ExecContext<'_>, chan: &ToRuntime) -> ! {
    let err = match child(cx, chan) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    chan.failed(&err);
    // SAFETY: _exit ends this cloned child without running the runtime's
    // exit handlers or flushing stdio buffers copied from it.
    unsafe { libc::_exit(1) }
}

fn child(cx: &ExecContext<'_>, chan: &ToRuntime) -> Result<std::convert::Infallible, String> {
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    if let Some(list) = cx.affinity_initial {
        super::attributes::set_affinity(list)?;
    }
    cx.cgroup_manager
        .join_v1_self()
        .map_err(|e| format!("join the container's cgroup: {e}"))?;
    let others = cx.namespaces & !(libc::CLONE_NEWPID as u64);
    if others != 0 {
        join_by_pidfd(cx, others)?;
    }
    chan.wait_go()?;
    if !cx.no_new_keyring {
        crate::process::init::join_keyring(cx.id)?;
    }
    if cx.launch.process.terminal() == Some(true) {
        let socket = cx
            .console_socket
            .ok_or("process.terminal is true but no console socket was given")?;
        let size = cx
            .launch
            .process
            .console_size()
            .map(|b| (b.height() as u16, b.width() as u16));
        let pty = crate::console::open_pty(size).map_err(|e| format!("create the pty: {e}"))?;
        crate::console::send_master(socket, pty.master.as_fd(), &pty.name)
            .map_err(|e| format!("send the pty master to the console socket: {e}"))?;
        drop(pty.master);
        crate::console::make_controlling(&pty.slave)
            .map_err(|e| format!("make the pty our terminal: {e}"))?;
    }
    let prepared = cx.launch.prepare(Some(chan))?;
    if let Some(list) = cx.affinity_final {
        super::attributes::set_affinity(list)?;
    }
    let _ = rustix::process::set_parent_process_death_signal(None);
    chan.ready()?;
    Err(cx.launch.exec(prepared))
}

/// `setns(pidfd, flags)` (5.8+), or one namespace file at a time.
fn join_by_pidfd(cx: &ExecContext<'_>, flags: u64) -> Result<(), String> {
    use rustix::thread::ThreadNameSpaceType as T;
    let set = T::from_bits_retain(flags as u32);
    match rustix::thread::move_into_thread_name_spaces(cx.init_pidfd, set) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::INVAL) => {
            for (name, flag) in [
                ("user", libc::CLONE_NEWUSER),
                ("ipc", libc::CLONE_NEWIPC),
                ("uts", libc::CLONE_NEWUTS),
                ("net", libc::CLONE_NEWNET),
                ("cgroup", libc::CLONE_NEWCGROUP),
                ("time", libc::CLONE_NEWTIME),
                ("mnt", libc::CLONE_NEWNS),
            ] {
                if flags & flag as u64 == 0 {
                    continue;
                }
                let fd = rustix::fs::open(
                    format!("/proc/{}/ns/{name}", cx.init_pid),
                    rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .map_err(|e| format!("open the container's {name} namespace: {e}"))?;
                rustix::thread::move_into_link_name_space(fd.as_fd(), None)
                    .map_err(|e| format!("join the container's {name} namespace: {e}"))?;
            }
            Ok(())
        }
        Err(e) => Err(format!("join the container's namespaces: {e}")),
    }
}
