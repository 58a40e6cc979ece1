//! The stdio of the processes the shim starts. A container process inherits
//! the shim's descriptors 0, 1 and 2 at clone time, so [`Plan::install`]
//! puts the process's ends there just around the create/exec call and
//! [`Restore`] puts `/dev/null` (and the shim's own stderr) back. The
//! shim's ends are [`ProcIo`]: non-blocking, close-on-exec.

use std::os::fd::{AsFd, OwnedFd};

/// The shim's side of one process's stdio.
#[derive(Debug, Default)]
pub(crate) struct ProcIo {
    /// Output is one stream (a terminal).
    pub tty: bool,
    /// Stdout pipe's read end, or the pty master.
    pub out: Option<OwnedFd>,
    /// Stderr pipe's read end.
    pub err: Option<OwnedFd>,
    /// Stdin pipe's write end (no terminal).
    pub stdin: Option<OwnedFd>,
    /// With a terminal: input goes to the master.
    pub pty_input: bool,
    /// The pty master, kept for resizing and input even after its output
    /// ended.
    pub master: Option<OwnedFd>,
    /// Input not yet taken by the process.
    pub pending_in: Vec<u8>,
    /// Close stdin once `pending_in` is written.
    pub close_after_flush: bool,
}

/// Input kept waiting for a process before clients are throttled.
pub(crate) const STDIN_BUFFER: usize = 64 * 1024;

impl ProcIo {
    /// All output has ended.
    pub fn output_done(&self) -> bool {
        self.out.is_none() && self.err.is_none()
    }

    /// Input can still be delivered.
    pub fn stdin_open(&self) -> bool {
        self.stdin.is_some() || self.pty_input
    }

    /// Where input is written.
    pub fn stdin_fd(&self) -> Option<&OwnedFd> {
        if self.tty {
            self.pty_input.then_some(self.master.as_ref()).flatten()
        } else {
            self.stdin.as_ref()
        }
    }

    /// Queue input and write what the process takes now.
    pub fn feed(&mut self, data: &[u8]) {
        if !self.stdin_open() {
            return;
        }
        self.pending_in.extend_from_slice(data);
        self.flush_in();
    }

    /// Write queued input (non-blocking). A broken pipe closes stdin.
    pub fn flush_in(&mut self) {
        while !self.pending_in.is_empty() {
            let Some(fd) = self.stdin_fd() else {
                self.pending_in.clear();
                return;
            };
            match rustix::io::write(fd, &self.pending_in) {
                Ok(n) => {
                    self.pending_in.drain(..n);
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => return,
                Err(_) => {
                    self.pending_in.clear();
                    self.stdin = None;
                    self.pty_input = false;
                    return;
                }
            }
        }
        if self.close_after_flush {
            self.close_stdin();
        }
    }

    /// End the process's input once what is queued is written: close the
    /// pipe, or with a terminal send EOF (^D).
    pub fn close_stdin(&mut self) {
        if !self.pending_in.is_empty() {
            self.close_after_flush = true;
            return;
        }
        self.close_after_flush = false;
        if self.tty {
            if self.pty_input
                && let Some(m) = &self.master
            {
                let _ = rustix::io::write(m, &[4]);
            }
            self.pty_input = false;
        } else {
            self.stdin = None;
        }
    }
}

/// What a new process gets on 0, 1 and 2.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The process's ends (dup'ed onto 0, 1, 2 by [`Plan::install`]).
    theirs: [Option<OwnedFd>; 3],
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    Ok((r, w))
}

fn nonblocking(fd: &OwnedFd) -> std::io::Result<()> {
    rustix::io::ioctl_fionbio(fd, true)?;
    Ok(())
}

impl Plan {
    /// Pipes for the streams asked for (the rest is `/dev/null`); with a
    /// terminal everything is `/dev/null` (the runtime makes the pty).
    pub fn new(
        tty: bool,
        stdin: bool,
        stdout: bool,
        stderr: bool,
    ) -> std::io::Result<(Plan, ProcIo)> {
        let mut io = ProcIo {
            tty,
            ..ProcIo::default()
        };
        let mut theirs: [Option<OwnedFd>; 3] = [None, None, None];
        if !tty {
            if stdin {
                let (r, w) = pipe()?;
                nonblocking(&w)?;
                theirs[0] = Some(r);
                io.stdin = Some(w);
            }
            if stdout {
                let (r, w) = pipe()?;
                nonblocking(&r)?;
                theirs[1] = Some(w);
                io.out = Some(r);
            }
            if stderr {
                let (r, w) = pipe()?;
                nonblocking(&r)?;
                theirs[2] = Some(w);
                io.err = Some(r);
            }
        }
        Ok((Plan { theirs }, io))
    }

    /// Put the process's ends on 0, 1, 2 (`devnull` where none).
    pub fn install(&self, devnull: &OwnedFd) -> std::io::Result<()> {
        let pick = |i: usize| self.theirs[i].as_ref().unwrap_or(devnull).as_fd();
        rustix::stdio::dup2_stdin(pick(0))?;
        rustix::stdio::dup2_stdout(pick(1))?;
        rustix::stdio::dup2_stderr(pick(2))?;
        Ok(())
    }
}

/// The shim's own 0, 1, 2 between process starts: `/dev/null`, `/dev/null`
/// and its log.
#[derive(Debug)]
pub(crate) struct Restore {
    /// `/dev/null`, read-write.
    pub devnull: OwnedFd,
    /// The shim's stderr (`shim.log`).
    pub stderr: OwnedFd,
}

impl Restore {
    /// Put them back.
    pub fn restore(&self) {
        let _ = rustix::stdio::dup2_stdin(&self.devnull);
        let _ = rustix::stdio::dup2_stdout(&self.devnull);
        let _ = rustix::stdio::dup2_stderr(&self.stderr);
    }
}

/// Make a received pty master non-blocking and return it for [`ProcIo`].
pub(crate) fn adopt_master(io: &mut ProcIo, master: OwnedFd, input: bool) -> std::io::Result<()> {
    nonblocking(&master)?;
    io.out = Some(rustix::io::fcntl_dupfd_cloexec(&master, 3)?);
    io.master = Some(master);
    io.pty_input = input;
    Ok(())
}
