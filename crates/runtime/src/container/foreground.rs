//! Staying with a container process in the foreground (`run` and `exec`
//! without `--detach`): forward signals to it, proxy its terminal, reap, and
//! report its exit code (128+N when killed by signal N, as runc).

use std::io::{Read, Write};
use std::os::fd::OwnedFd;

use rustix::event::{PollFd, PollFlags};

use crate::error::OsContext;
use crate::sys::SignalSet;
use crate::{Error, Result};

/// A process the runtime waits for.
#[derive(Debug)]
pub struct Supervised {
    /// Its pid.
    pub pid: i32,
    /// Its pidfd.
    pub pidfd: Option<OwnedFd>,
    /// The pty master when the process has a terminal we proxy.
    pub pty: Option<OwnedFd>,
}

/// Puts the host terminal in raw mode and restores it.
struct RawMode(Option<rustix::termios::Termios>);

impl RawMode {
    fn enter() -> RawMode {
        let stdin = rustix::stdio::stdin();
        match rustix::termios::tcgetattr(stdin) {
            Ok(orig) => {
                let mut raw = orig.clone();
                raw.make_raw();
                let _ =
                    rustix::termios::tcsetattr(stdin, rustix::termios::OptionalActions::Now, &raw);
                RawMode(Some(orig))
            }
            Err(_) => RawMode(None),
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(orig) = &self.0 {
            let _ = rustix::termios::tcsetattr(
                rustix::stdio::stdin(),
                rustix::termios::OptionalActions::Now,
                orig,
            );
        }
    }
}

fn copy_host_size(pty: &OwnedFd) {
    if let Ok(ws) = rustix::termios::tcgetwinsize(rustix::stdio::stdout()) {
        let _ = rustix::termios::tcsetwinsize(pty, ws);
    }
}

impl Supervised {
    /// Wait for the process; returns its exit code. `signals` is the
    /// signalfd of the blocked signals to forward.
    pub fn wait(self, signals: &OwnedFd) -> Result<i32> {
        let _raw = self.pty.as_ref().map(|pty| {
            copy_host_size(pty);
            RawMode::enter()
        });
        let pid = rustix::process::Pid::from_raw(self.pid).expect("pids are positive");
        let mut stdin_open = true;
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            if let Some(code) = self.try_reap(pid)? {
                if let Some(pty) = &self.pty {
                    drain(pty, &mut buf);
                }
                return Ok(code);
            }
            let mut fds = vec![PollFd::new(signals, PollFlags::IN)];
            let pidfd_idx = self.pidfd.as_ref().map(|p| {
                fds.push(PollFd::new(p, PollFlags::IN));
                fds.len() - 1
            });
            let stdin = rustix::stdio::stdin();
            let (pty_idx, in_idx) = match &self.pty {
                Some(pty) => {
                    fds.push(PollFd::new(pty, PollFlags::IN));
                    let p = fds.len() - 1;
                    let i = stdin_open.then(|| {
                        fds.push(PollFd::new(&stdin, PollFlags::IN));
                        fds.len() - 1
                    });
                    (Some(p), i)
                }
                None => (None, None),
            };
            let ts = rustix::time::Timespec {
                tv_sec: 1,
                tv_nsec: 0,
            };
            match rustix::event::poll(&mut fds, if pidfd_idx.is_some() { None } else { Some(&ts) })
            {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::os("poll", e)),
            }
            let ready = |i: Option<usize>| i.is_some_and(|i| !fds[i].revents().is_empty());
            let sig_ready = !fds[0].revents().is_empty();
            let pty_ready = ready(pty_idx);
            let in_ready = ready(in_idx);
            drop(fds);
            if sig_ready {
                self.forward(signals, pid)?;
            }
            if pty_ready && let Some(pty) = &self.pty {
                match rustix::io::read(pty, &mut buf) {
                    Ok(0) | Err(rustix::io::Errno::IO) => {}
                    Ok(n) => {
                        let mut out = std::io::stdout().lock();
                        let _ = out.write_all(&buf[..n]);
                        let _ = out.flush();
                    }
                    Err(_) => {}
                }
            }
            if in_ready && let Some(pty) = &self.pty {
                match std::io::stdin().lock().read(&mut buf) {
                    Ok(0) | Err(_) => {
                        stdin_open = false;
                        // End of input: send EOF to the terminal (^D).
                        let _ = rustix::io::write(pty, &[4]);
                    }
                    Ok(n) => {
                        let _ = rustix::io::write(pty, &buf[..n]);
                    }
                }
            }
        }
    }

    fn try_reap(&self, pid: rustix::process::Pid) -> Result<Option<i32>> {
        // Reap any child (pid -1: the container process has its own session,
        // so "our process group" would miss it), not only the one we wait
        // for: we may be a subreaper.
        loop {
            match rustix::process::wait(rustix::process::WaitOptions::NOHANG | crate::sys::WALL) {
                Ok(Some((p, status))) => {
                    if p == pid {
                        return Ok(Some(exit_code(status)));
                    }
                }
                Ok(None) => return Ok(None),
                Err(rustix::io::Errno::CHILD) => {
                    return Err(Error::Init("lost track of the container process".into()));
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::os("waitpid", e)),
            }
        }
    }

    fn forward(&self, signals: &OwnedFd, pid: rustix::process::Pid) -> Result<()> {
        let mut info = [0u8; 128];
        while let Ok(n) = rustix::io::read(signals, &mut info) {
            if n < 128 {
                break;
            }
            let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]) as i32;
            match signo {
                libc::SIGCHLD => {}
                libc::SIGWINCH => {
                    if let Some(pty) = &self.pty {
                        copy_host_size(pty);
                    }
                }
                _ => {
                    if let Some(sig) = rustix::process::Signal::from_named_raw(signo) {
                        let _ = match &self.pidfd {
                            Some(fd) => rustix::process::pidfd_send_signal(fd, sig),
                            None => rustix::process::kill_process(pid, sig),
                        };
                    }
                }
            }
        }
        Ok(())
    }
}

fn drain(pty: &OwnedFd, buf: &mut [u8]) {
    let _ = rustix::io::ioctl_fionbio(pty, true);
    let mut out = std::io::stdout().lock();
    while let Ok(n) = rustix::io::read(pty, &mut *buf) {
        if n == 0 {
            break;
        }
        let _ = out.write_all(&buf[..n]);
    }
    let _ = out.flush();
}

/// runc's exit code for a wait status.
pub fn exit_code(status: rustix::process::WaitStatus) -> i32 {
    if let Some(code) = status.exit_status() {
        code
    } else if let Some(sig) = status.terminating_signal() {
        128 + sig
    } else {
        255
    }
}

/// Block the signals we forward and open a signalfd for them. Returns the
/// previous mask (restored by the caller when done).
pub fn forwardable_signals() -> Result<(OwnedFd, SignalSet)> {
    let all = SignalSet::full();
    let old = crate::sys::set_signal_mask(&all).step(|| "block signals".to_string())?;
    let fd = crate::sys::signalfd(&all).step(|| "create a signalfd".to_string())?;
    let _ = rustix::io::ioctl_fionbio(&fd, true);
    Ok((fd, old))
}
