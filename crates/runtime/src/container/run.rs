//! `run`: create and start in one go, then (unless detached) stay with the
//! container until it exits and delete it.

use std::os::fd::{AsFd, OwnedFd};

use super::Container;
use super::create::{self, CreateOptions, Mode};
use super::foreground::{self, Supervised};
use crate::error::OsContext;
use crate::hooks::HookError;
use crate::process::channel::Event;
use crate::process::message::Message;
use crate::{Error, Result};

/// `run`'s options on top of `create`'s.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Everything `create` takes.
    pub create: CreateOptions,
    /// Return once the process started.
    pub detach: bool,
    /// Do not delete the container after it exits.
    pub keep: bool,
    /// Do not become a child subreaper.
    pub no_subreaper: bool,
}

/// What `run` ended with.
#[derive(Debug)]
pub struct RunOutcome {
    /// The exit code (0 when detached).
    pub code: i32,
    /// poststart/poststop hooks that failed (warnings).
    pub warnings: Vec<HookError>,
}

impl Container {
    /// Run a container.
    pub fn run(opts: &RunOptions) -> Result<RunOutcome> {
        // In the foreground, a terminal without a console socket is ours to
        // proxy: a socket pair stands in for the console socket.
        let mut create_opts = opts.create.clone();
        if create_opts.loaded.is_none() {
            create_opts.loaded = Some(crate::config::Bundle::load(&opts.create.bundle)?);
        }
        let terminal = create_opts
            .loaded
            .as_ref()
            .and_then(|b| b.spec.process().as_ref())
            .and_then(|p| p.terminal())
            == Some(true);
        let own_console = terminal && !opts.detach && opts.create.console_socket.is_none();
        let pair = if own_console {
            Some(
                crate::console::socket_pair()
                    .step(|| "create the console socket pair".to_string())?,
            )
        } else {
            None
        };
        let signals = if opts.detach {
            None
        } else {
            if !opts.no_subreaper {
                let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
            }
            Some(foreground::forwardable_signals()?)
        };
        let (container, spawned) =
            create::create(&create_opts, Mode::Run, pair.as_ref().map(|p| &p.1))?;
        let pty: Option<OwnedFd> = match &pair {
            Some((ours, _)) => Some(
                crate::console::recv_fd(ours.as_fd())
                    .step(|| "receive the pty master".to_string())?,
            ),
            None => None,
        };
        drop(pair);

        // Start: the init executes the user process; EOF on the channel
        // means the exec happened.
        spawned
            .chan
            .start()
            .step(|| "start the container".to_string())?;
        match spawned
            .chan
            .next()
            .step(|| "wait for the container to start".to_string())?
        {
            Event::Closed => {}
            Event::Message(Message::Failed(msg), _) => {
                let _ = container.delete(true);
                return Err(Error::Init(msg));
            }
            Event::Message(other, _) => {
                return Err(Error::Init(format!(
                    "unexpected message from the container init: {other:?}"
                )));
            }
        }
        let mut warnings = container.poststart();
        let Some((sigfd, old_mask)) = signals else {
            return Ok(RunOutcome { code: 0, warnings });
        };
        let code = Supervised {
            pid: spawned.pid,
            pidfd: spawned.pidfd,
            pty,
        }
        .wait(&sigfd);
        let _ = crate::sys::set_signal_mask(&old_mask);
        let code = code?;
        if !opts.keep {
            warnings.extend(container.delete(true)?);
        }
        Ok(RunOutcome { code, warnings })
    }
}
