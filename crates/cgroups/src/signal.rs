//! Signalling every process of a cgroup so that none escapes: freeze the cgroup, signal each
//! process, thaw. Best effort: every failure is collected and reported.

use std::io;

use crate::error::{Error, ErrorList, Result};

/// The largest signal number (`SIGRTMAX` on Linux).
const SIGMAX: i32 = 64;

/// Send `sig` to `pid`. `kill(2)` directly: rustix cannot name the real-time signals
/// (`SIGRTMIN+3` is what systemd containers stop on).
pub(crate) fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    let r = unsafe { libc::kill(pid, sig) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Check a signal number before anything is frozen.
pub(crate) fn check(sig: i32) -> Result<()> {
    if (1..=SIGMAX).contains(&sig) {
        Ok(())
    } else {
        Err(Error::InvalidSignal { signal: sig })
    }
}

/// How to freeze and thaw the cgroup being signalled.
#[derive(Clone, Copy)]
pub(crate) struct Freezer<'a> {
    pub freeze: &'a dyn Fn() -> Result<()>,
    pub thaw: &'a dyn Fn() -> Result<()>,
}

/// Freeze (if a freezer is given), signal every pid listed, thaw. A process that exited
/// meanwhile (`ESRCH`) is not an error.
pub(crate) fn signal_all_frozen(
    sig: i32,
    freezer: Option<Freezer<'_>>,
    pids: &dyn Fn() -> Result<Vec<i32>>,
) -> Result<()> {
    check(sig)?;
    let mut errors = Vec::new();
    let frozen = match freezer {
        Some(f) => match (f.freeze)() {
            Ok(()) => true,
            Err(e) => {
                // Signal anyway: killing most processes is better than none.
                errors.push(e);
                false
            }
        },
        None => false,
    };
    match pids() {
        Ok(pids) => {
            for pid in pids {
                match kill(pid, sig) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                    Err(source) => errors.push(Error::Signal {
                        pid,
                        signal: sig,
                        source,
                    }),
                }
            }
        }
        Err(e) => errors.push(e),
    }
    if frozen
        && let Some(f) = freezer
        && let Err(e) = (f.thaw)()
    {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::SignalAll(ErrorList(errors)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_numbers_are_checked() {
        assert!(check(0).is_err());
        assert!(check(65).is_err());
        assert!(check(9).is_ok());
        assert!(check(37).is_ok());
        let e = signal_all_frozen(0, None, &|| Ok(vec![])).unwrap_err();
        assert!(matches!(e, Error::InvalidSignal { .. }));
    }

    #[test]
    fn errors_are_collected_and_thaw_still_runs() {
        use std::cell::Cell;
        let thawed = Cell::new(false);
        let freeze = || Ok(());
        let thaw = || {
            thawed.set(true);
            Ok(())
        };
        // Signal 0 is invalid; use a real signal on a pid that cannot exist (ESRCH is ignored)
        // and a list failure that must be reported.
        let e = signal_all_frozen(
            libc::SIGTERM,
            Some(Freezer {
                freeze: &freeze,
                thaw: &thaw,
            }),
            &|| Err(Error::InvalidPid { pid: -1 }),
        )
        .unwrap_err();
        assert!(thawed.get());
        assert!(
            matches!(e, Error::SignalAll(ref l) if l.0.len() == 1),
            "{e}"
        );
        signal_all_frozen(libc::SIGTERM, None, &|| Ok(vec![i32::MAX])).unwrap();
    }
}
