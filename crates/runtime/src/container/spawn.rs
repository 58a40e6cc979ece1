//! Create-and-hold for a supervisor that stays with the container (the
//! shim): the container is created in process like `run` does (no
//! `exec.fifo`; the init waits on its channel), and started later, from
//! the same process, with [`Held::start`].
//!
//! The caller is the init's parent: it reaps it (and should be a child
//! subreaper). The init inherits the caller's descriptors 0, 1 and 2 at
//! [`Container::create_held`] time, so a supervisor that wants pipes puts
//! them there around the call. With `process.terminal` the pty is made
//! inside the container and its master handed back in [`Held::pty`]
//! (through a private socket pair instead of `--console-socket`).

use std::os::fd::{AsFd, OwnedFd};

use super::Container;
use super::create::{self, CreateOptions, Mode};
use crate::error::OsContext;
use crate::hooks::HookError;
use crate::process::channel::{Event, ToChild};
use crate::process::message::Message;
use crate::{Error, Result};

/// A created container whose init waits for [`Held::start`].
#[derive(Debug)]
pub struct Held {
    /// The container (state written under the runtime root).
    pub container: Container,
    /// The init's pid in the caller's pid namespace.
    pub pid: i32,
    /// The init's pidfd (when the kernel gave one).
    pub pidfd: Option<OwnedFd>,
    /// The pty master when `process.terminal` is true.
    pub pty: Option<OwnedFd>,
    chan: ToChild,
}

impl Container {
    /// Create the container and keep its init waiting, in this process.
    /// `opts.console_socket` must be `None`: a terminal is returned in
    /// [`Held::pty`]. Errors are `create`'s; a missing or non-executable
    /// program is reported here (the init resolves it before `Ready`).
    pub fn create_held(opts: &CreateOptions) -> Result<Held> {
        if opts.console_socket.is_some() {
            return Err(Error::InvalidArgument(
                "create_held hands the pty back itself: no console socket".into(),
            ));
        }
        let mut opts = opts.clone();
        if opts.loaded.is_none() {
            opts.loaded = Some(crate::config::Bundle::load(&opts.bundle)?);
        }
        let terminal = opts
            .loaded
            .as_ref()
            .and_then(|b| b.spec.process().as_ref())
            .and_then(|p| p.terminal())
            == Some(true);
        let pair = if terminal {
            Some(
                crate::console::socket_pair()
                    .step(|| "create the console socket pair".to_string())?,
            )
        } else {
            None
        };
        let (container, spawned) = create::create(&opts, Mode::Run, pair.as_ref().map(|p| &p.1))?;
        let pty = match &pair {
            Some((ours, _)) => match crate::console::recv_fd(ours.as_fd()) {
                Ok(fd) => Some(fd),
                Err(e) => {
                    let _ = container.delete(true);
                    return Err(Error::os("receive the pty master", e));
                }
            },
            None => None,
        };
        Ok(Held {
            container,
            pid: spawned.pid,
            pidfd: spawned.pidfd,
            pty,
            chan: spawned.chan,
        })
    }
}

impl Held {
    /// Let the init execute the user process; returns once it did (the
    /// channel closes at `execve`), with the poststart hooks that failed
    /// (warnings), or with the init's failure (a startContainer hook).
    /// On failure the init exits by itself; the caller reaps it and
    /// deletes the container as after any exit.
    pub fn start(&self) -> Result<Vec<HookError>> {
        if !self.container.state.has_process {
            return Err(Error::InvalidArgument(format!(
                "cannot start container {}: config.json has no process",
                self.container.state.id
            )));
        }
        self.chan
            .start()
            .step(|| "start the container".to_string())?;
        match self
            .chan
            .next()
            .step(|| "wait for the container to start".to_string())?
        {
            Event::Closed => {}
            Event::Message(Message::Failed(msg), _) => return Err(Error::Init(msg)),
            Event::Message(other, _) => {
                return Err(Error::Init(format!(
                    "unexpected message from the container init: {other:?}"
                )));
            }
        }
        Ok(self.container.poststart())
    }
}
