//! `exec`: run another process in a running container, in all of its
//! namespaces and its cgroup, with its seccomp profile.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use oci_spec::runtime::Process;

use super::Container;
use super::foreground::{self, Supervised};
use crate::error::OsContext;
use crate::process::exec::{self as pexec, ExecContext};
use crate::process::finalize::Launch;
use crate::state::Status;
use crate::{Error, Result};

/// What `exec` takes besides the process.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// The process to start.
    pub process: Option<Process>,
    /// Send the pty master here (with `process.terminal`).
    pub console_socket: Option<PathBuf>,
    /// Write the new process's pid here.
    pub pid_file: Option<PathBuf>,
    /// Return once the process started.
    pub detach: bool,
    /// Pass descriptors 3..3+n.
    pub preserve_fds: u32,
    /// Exec even into a paused container.
    pub ignore_paused: bool,
}

/// A process `exec` started and left running (see
/// [`Container::exec_process`]): the caller is its parent and reaps it.
#[derive(Debug)]
pub struct ExecProcess {
    /// Its pid in the caller's pid namespace.
    pub pid: i32,
    /// Its pidfd (when the kernel gave one).
    pub pidfd: Option<OwnedFd>,
    /// The pty master, when the process has a terminal and no console
    /// socket was given.
    pub pty: Option<OwnedFd>,
}

impl Container {
    /// Start a process in the container; returns its exit code (0 when
    /// detached).
    pub fn exec(&self, opts: &ExecOptions) -> Result<i32> {
        let terminal = opts
            .process
            .as_ref()
            .is_some_and(|p| p.terminal() == Some(true));
        if terminal && opts.detach && opts.console_socket.is_none() {
            return Err(Error::InvalidArgument(
                "cannot allocate a tty in detached mode without --console-socket".into(),
            ));
        }
        let signals = if opts.detach {
            None
        } else {
            Some(foreground::forwardable_signals()?)
        };
        let started = self.exec_process(opts)?;
        let Some((sigfd, old_mask)) = signals else {
            return Ok(0);
        };
        let code = Supervised {
            pid: started.pid,
            pidfd: started.pidfd,
            pty: started.pty,
        }
        .wait(&sigfd);
        let _ = crate::sys::set_signal_mask(&old_mask);
        code
    }

    /// Start a process in the container and return once it executed its
    /// program (or with the reason it could not, e.g. `exec: "x":
    /// executable file not found in $PATH`). The caller is its parent:
    /// it reaps it. With `process.terminal` and no console socket, the pty
    /// master is returned in [`ExecProcess::pty`] (for a supervisor that
    /// serves the terminal itself, such as the shim). `opts.detach` is not
    /// looked at.
    pub fn exec_process(&self, opts: &ExecOptions) -> Result<ExecProcess> {
        let status = self.status();
        match status {
            Status::Running | Status::Created => {}
            Status::Paused if opts.ignore_paused => {}
            Status::Paused => {
                return Err(Error::BadState {
                    op: "exec in",
                    id: self.state.id.clone(),
                    status: "paused (use --ignore-paused to override)".into(),
                });
            }
            s => return Err(self.bad_state("exec in", s)),
        }
        let process = opts
            .process
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("exec needs a process".into()))?;
        crate::validate::check_process(process, "process")?;
        let terminal = process.terminal() == Some(true);
        if !terminal && opts.console_socket.is_some() {
            return Err(Error::InvalidArgument(
                "--console-socket is only meaningful when the process has a terminal".into(),
            ));
        }
        let spec = self.spec()?;
        let seccomp = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
            Some(s) => Some(
                berth_seccomp::Cache::new(self.root.join(".cache/seccomp")).load_or_compile(s)?,
            ),
            None => None,
        };
        let cgroup = self.cgroup()?;
        let init_pidfd = rustix::process::pidfd_open(
            rustix::process::Pid::from_raw(self.state.pid)
                .ok_or_else(|| self.bad_state("exec in", Status::Stopped))?,
            rustix::process::PidfdFlags::empty(),
        )
        .step(|| format!("open a pidfd for the container init {}", self.state.pid))?;
        if crate::state::liveness(self.state.pid, self.state.pid_start)
            != crate::state::Liveness::Alive
        {
            return Err(self.bad_state("exec in", Status::Stopped));
        }
        let namespaces = pexec::differing_namespaces(self.state.pid)?;

        let own_console = terminal && opts.console_socket.is_none();
        let pair = if own_console {
            Some(
                crate::console::socket_pair()
                    .step(|| "create the console socket pair".to_string())?,
            )
        } else {
            None
        };
        let console: Option<OwnedFd> = match &opts.console_socket {
            Some(path) => Some(
                crate::console::connect(path).step(|| format!("connect to {}", path.display()))?,
            ),
            None => None,
        };
        let env = process.env().clone().unwrap_or_default();
        let affinity = process.exec_cpu_affinity().as_ref();
        let cx = ExecContext {
            id: &self.state.id,
            no_new_keyring: self.state.no_new_keyring,
            init_pid: self.state.pid,
            init_pidfd: init_pidfd.as_fd(),
            namespaces,
            launch: Launch {
                process,
                env: &env,
                seccomp: seccomp.as_ref(),
                last_cap: crate::capabilities::last_cap(),
                preserved_fds: opts.preserve_fds,
                mini_init: false,
            },
            console_socket: pair
                .as_ref()
                .map(|p| p.1.as_fd())
                .or(console.as_ref().map(|c| c.as_fd())),
            affinity_initial: affinity.and_then(|a| a.initial().as_deref()),
            affinity_final: affinity.and_then(|a| a.cpu_affinity_final().as_deref()),
            cgroup_manager: &cgroup,
        };
        let spawned = pexec::spawn(&cx)?;
        let pty = match &pair {
            Some((ours, _)) => Some(
                crate::console::recv_fd(ours.as_fd())
                    .step(|| "receive the pty master".to_string())?,
            ),
            None => None,
        };
        drop(pair);
        if let Some(pid_file) = &opts.pid_file {
            super::create::write_pid_file(pid_file, spawned.pid)?;
        }
        // End-of-file: the process executed its program; a message is a
        // failure at the very end (execve itself).
        match spawned
            .chan
            .next()
            .step(|| "wait for the exec".to_string())?
        {
            crate::process::channel::Event::Closed => {}
            crate::process::channel::Event::Message(
                crate::process::message::Message::Failed(m),
                _,
            ) => {
                // It exits right after saying so: reap it.
                if let Some(p) = rustix::process::Pid::from_raw(spawned.pid) {
                    let _ = rustix::process::waitpid(Some(p), crate::sys::WALL);
                }
                return Err(Error::Init(m));
            }
            crate::process::channel::Event::Message(m, _) => {
                return Err(Error::Init(format!(
                    "unexpected message from the exec process: {m:?}"
                )));
            }
        }
        Ok(ExecProcess {
            pid: spawned.pid,
            pidfd: spawned.pidfd,
            pty,
        })
    }
}
