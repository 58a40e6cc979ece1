//! `docker run --init` without a binary in the container: when the config
//! carries the annotation `org.berth.init` = `true`, the container's init,
//! after every lockdown step (namespaces, mounts, seccomp, capabilities,
//! user), forks once more. The child executes the user process; the
//! parent stays as pid 1, named `berth-init`, and does what tini does:
//!
//! - forwards every signal it receives to the child (except the
//!   synchronous ones and SIGTTIN/SIGTTOU), so `docker stop` reaches a
//!   program that does not expect to be pid 1;
//! - reaps every zombie re-parented to it;
//! - exits with the child's status (128+N when a signal N killed it), which
//!   ends the pid namespace.
//!
//! It keeps only descriptors 0-2 (everything else, the runtime's channel
//! included, is closed), and runs under the container's seccomp filter and
//! credentials, so it gives a process in the container nothing more than
//! the user process has. With a terminal the child gets its own process
//! group and becomes the terminal's foreground group (as tini), so ^C
//! reaches it once, not through pid 1 as well.

use crate::sys::{SignalSet, WALL, set_signal_mask, signalfd};

/// The annotation that asks for the minimal init.
pub const ANNOTATION: &str = "org.berth.init";

/// Does `spec` ask for the minimal init?
pub fn wanted(spec: &oci_spec::runtime::Spec) -> bool {
    spec.annotations()
        .as_ref()
        .and_then(|a| a.get(ANNOTATION))
        .is_some_and(|v| v == "true")
}

/// Fork: returns `Ok` in the child, which goes on to execute the user
/// process; the parent never returns (it is pid 1 until the child exits).
pub fn split() -> Result<(), String> {
    // Blocked until each side has set up: no signal is lost in between
    // (the child's mask is emptied right before execve).
    set_signal_mask(&SignalSet::full()).map_err(|e| format!("block signals: {e}"))?;
    let forked = crate::sys::clone3(&crate::sys::CloneArgs::default())
        .map_err(|e| format!("fork the user process from the init: {e}"))?;
    match forked {
        crate::sys::Forked::Child => {
            if rustix::termios::isatty(rustix::stdio::stdin()) {
                let _ = rustix::process::setpgid(None, None);
                let _ =
                    rustix::termios::tcsetpgrp(rustix::stdio::stdin(), rustix::process::getpid());
            }
            Ok(())
        }
        crate::sys::Forked::Parent { pid, .. } => supervise(pid),
    }
}

/// Signals never forwarded: those the kernel raises for a fault of the
/// receiver, and the terminal's stop requests.
fn forwarded(sig: i32) -> bool {
    !matches!(
        sig,
        libc::SIGCHLD
            | libc::SIGFPE
            | libc::SIGILL
            | libc::SIGSEGV
            | libc::SIGBUS
            | libc::SIGABRT
            | libc::SIGTRAP
            | libc::SIGSYS
            | libc::SIGTTIN
            | libc::SIGTTOU
    )
}

fn supervise(child: i32) -> ! {
    let _ = rustix::thread::set_name(c"berth-init");
    crate::sys::close_from(3);
    let sigfd = signalfd(&SignalSet::full()).ok();
    let child_pid = rustix::process::Pid::from_raw(child).expect("child pids are positive");
    loop {
        let mut sig = libc::SIGCHLD;
        if let Some(fd) = &sigfd {
            let mut info = [0u8; 128];
            match rustix::io::read(fd, &mut info) {
                Ok(128) => sig = i32::from_ne_bytes([info[0], info[1], info[2], info[3]]),
                _ => continue,
            }
        }
        if sig != libc::SIGCHLD {
            if forwarded(sig)
                && let Some(s) = rustix::process::Signal::from_named_raw(sig)
            {
                let _ = rustix::process::kill_process(child_pid, s);
            }
            continue;
        }
        // Without a signalfd (a profile that denies it), block in wait.
        let flags = if sigfd.is_some() {
            rustix::process::WaitOptions::NOHANG | WALL
        } else {
            WALL
        };
        loop {
            match rustix::process::wait(flags) {
                Ok(Some((pid, status))) if pid == child_pid => {
                    exit_now(if let Some(c) = status.exit_status() {
                        c
                    } else if let Some(s) = status.terminating_signal() {
                        128 + s
                    } else {
                        255
                    })
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(rustix::io::Errno::INTR) => {}
                // No child left without having seen ours: nothing to wait for.
                Err(_) => exit_now(255),
            }
        }
    }
}

fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends this process without running the exit handlers or
    // flushing buffers copied from the runtime.
    unsafe { libc::_exit(code) }
}
