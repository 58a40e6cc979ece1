//! Signals: names and numbers as runc accepts them, the mask and dispositions
//! a container process must start with, and a signalfd for forwarding.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// The signals runc knows by name (without the `SIG` prefix).
const NAMES: &[(&str, i32)] = &[
    ("ABRT", libc::SIGABRT),
    ("ALRM", libc::SIGALRM),
    ("BUS", libc::SIGBUS),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("FPE", libc::SIGFPE),
    ("HUP", libc::SIGHUP),
    ("ILL", libc::SIGILL),
    ("INT", libc::SIGINT),
    ("IO", libc::SIGIO),
    ("IOT", libc::SIGIOT),
    ("KILL", libc::SIGKILL),
    ("PIPE", libc::SIGPIPE),
    ("POLL", libc::SIGPOLL),
    ("PROF", libc::SIGPROF),
    ("PWR", libc::SIGPWR),
    ("QUIT", libc::SIGQUIT),
    ("SEGV", libc::SIGSEGV),
    ("STKFLT", libc::SIGSTKFLT),
    ("STOP", libc::SIGSTOP),
    ("SYS", libc::SIGSYS),
    ("TERM", libc::SIGTERM),
    ("TRAP", libc::SIGTRAP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("VTALRM", libc::SIGVTALRM),
    ("WINCH", libc::SIGWINCH),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
];

/// Parse a signal as runc does: a number, `TERM`, `SIGTERM`, `term`,
/// `RTMIN+3`.
pub fn signal_by_name(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = NAMES.iter().find(|(k, _)| *k == name) {
        return Some(n);
    }
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().ok()?
        };
        let n = base + sign * off;
        (libc::SIGRTMIN()..=libc::SIGRTMAX())
            .contains(&n)
            .then_some(n)
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(libc::SIGRTMIN(), rest.trim_start_matches('+'), 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return rt(libc::SIGRTMAX(), rest.trim_start_matches('-'), -1);
    }
    None
}

/// The conventional name of a signal number (`SIGTERM`), for messages.
pub fn signal_name(n: i32) -> String {
    NAMES
        .iter()
        .find(|(_, v)| *v == n)
        .map(|(k, _)| format!("SIG{k}"))
        .unwrap_or_else(|| format!("signal {n}"))
}

/// A set of signals (`sigset_t`).
#[derive(Clone, Copy)]
pub struct SignalSet(libc::sigset_t);

impl std::fmt::Debug for SignalSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignalSet")
    }
}

impl SignalSet {
    /// The empty set.
    pub fn empty() -> SignalSet {
        // SAFETY: sigemptyset initialises the zeroed set it is given.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            SignalSet(set)
        }
    }

    /// Every signal.
    pub fn full() -> SignalSet {
        // SAFETY: sigfillset initialises the zeroed set it is given.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut set);
            SignalSet(set)
        }
    }
}

/// Set the signal mask; returns the previous one.
pub fn set_signal_mask(set: &SignalSet) -> io::Result<SignalSet> {
    let mut old = SignalSet::empty();
    // SAFETY: both sets are valid sigset_t values.
    let ret = unsafe { libc::sigprocmask(libc::SIG_SETMASK, &set.0, &mut old.0) };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// Give every signal its default disposition. `execve` resets handlers but
/// keeps "ignored" (the Rust runtime ignores SIGPIPE, for one), and a
/// container process must not start with signals ignored behind its back.
pub fn reset_signal_dispositions() {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: SIG_DFL is always a valid disposition; invalid signal
        // numbers (32, 33 reserved by libc) fail harmlessly with EINVAL.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

/// A signalfd that reads the signals in `set` (which the caller blocks).
pub fn signalfd(set: &SignalSet) -> io::Result<OwnedFd> {
    // SAFETY: `set` is a valid sigset_t; -1 asks for a new descriptor.
    let fd = unsafe { libc::signalfd(-1, &set.0, libc::SFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: signalfd returned a new descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_signals_like_runc() {
        assert_eq!(signal_by_name("9"), Some(9));
        assert_eq!(signal_by_name("KILL"), Some(libc::SIGKILL));
        assert_eq!(signal_by_name("SIGTERM"), Some(libc::SIGTERM));
        assert_eq!(signal_by_name("term"), Some(libc::SIGTERM));
        assert_eq!(signal_by_name("RTMIN+2"), Some(libc::SIGRTMIN() + 2));
        assert_eq!(signal_by_name("SIGRTMAX-1"), Some(libc::SIGRTMAX() - 1));
        assert_eq!(signal_by_name("NOPE"), None);
        assert_eq!(signal_by_name("0"), None);
        assert_eq!(signal_by_name("65"), None);
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
    }
}
