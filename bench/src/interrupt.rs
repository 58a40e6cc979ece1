//! Stopping cleanly on SIGINT, SIGTERM or SIGHUP: the handler only raises a
//! flag; the benchmark checks it between samples, stops measuring, and still
//! runs its cleanup (containers deleted, cgroups and temp dirs removed).
//! Handlers are reset to the default by `execve`, so the measured commands
//! never inherit them.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_signal: libc::c_int) {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Install the handler for SIGINT, SIGTERM and SIGHUP.
pub fn install() -> io::Result<()> {
    let handler: extern "C" fn(libc::c_int) = on_signal;
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe; `signal` has no other preconditions.
        let previous = unsafe { libc::signal(signal, handler as libc::sighandler_t) };
        if previous == libc::SIG_ERR {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Has a stop been asked for?
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_raises_the_flag_and_does_not_kill() {
        install().unwrap();
        assert!(!requested());
        rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::HUP)
            .unwrap();
        // The signal is process-directed: another thread of the test
        // harness may take it, so give the handler a moment.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while !requested() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(requested());
    }
}
