//! Starting berthd on demand.
//!
//! When the daemon address is the default socket
//! (`unix:///run/berth/berth.sock`), nothing answers there, the user
//! is root and `BERTH_NO_AUTOSTART` is not `1`, `berth` starts `berthd`
//! itself: the `berthd` next to the `berth` executable, else the one on
//! `PATH`, with its default flags, in a process group of its own (so the
//! terminal's Ctrl-C does not reach it), stdin from /dev/null and output
//! appended to `/var/log/berthd.log`. It says so once on stderr, waits up
//! to 5 s for `/_ping` to answer, and carries on with the command.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::host::Host;

/// Where an auto-started daemon's output goes.
pub const LOG_FILE: &str = "/var/log/berthd.log";
/// How long to wait for the daemon to answer.
pub const WAIT: Duration = Duration::from_secs(5);

/// Starting the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum AutostartError {
    /// No `berthd` next to `berth` nor on `PATH`.
    #[error(
        "Cannot connect to the Berth daemon at {host}, and no berthd was found to start (looked next to {exe} and on PATH)"
    )]
    NotFound {
        /// The daemon address.
        host: String,
        /// The berth executable's path.
        exe: String,
    },
    /// Spawning it failed.
    #[error("starting {path}: {source}")]
    Spawn {
        /// The berthd binary.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It exited before answering.
    #[error("{path} exited during start-up ({status}); see {LOG_FILE}")]
    Exited {
        /// The berthd binary.
        path: PathBuf,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// It did not answer in time.
    #[error("{path} did not answer on {host} within {} s; see {LOG_FILE}", WAIT.as_secs())]
    Timeout {
        /// The berthd binary.
        path: PathBuf,
        /// The daemon address.
        host: String,
    },
}

/// Should `berth` try to start the daemon for `host`?
pub fn applies(host: &Host) -> bool {
    host.is_default()
        && rustix::process::geteuid().is_root()
        && std::env::var("BERTH_NO_AUTOSTART").map_or(true, |v| v != "1")
}

/// The berthd to start.
pub fn find_berthd() -> Option<PathBuf> {
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        let p = dir.join("berthd");
        if is_executable(&p) {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("berthd"))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Start berthd and wait until `ready` says it answers.
pub fn start(host: &Host, ready: &dyn Fn() -> bool) -> Result<(), AutostartError> {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "berth".into());
    let Some(path) = find_berthd() else {
        return Err(AutostartError::NotFound {
            host: host.url(),
            exe,
        });
    };
    eprintln!(
        "Starting the Berth daemon ({}): nothing answers at {} (set BERTH_NO_AUTOSTART=1 to turn this off)",
        path.display(),
        host.url()
    );
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(LOG_FILE)
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null());
    let log2 = std::fs::OpenOptions::new()
        .append(true)
        .open(LOG_FILE)
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null());
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(&path)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .current_dir("/")
        .process_group(0)
        .spawn()
        .map_err(|source| AutostartError::Spawn {
            path: path.clone(),
            source,
        })?;
    let deadline = Instant::now() + WAIT;
    loop {
        if ready() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(AutostartError::Exited { path, status });
        }
        if Instant::now() > deadline {
            return Err(AutostartError::Timeout {
                path,
                host: host.url(),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_for_the_default_socket() {
        let default = Host::parse("", false).unwrap();
        let other = Host::parse("unix:///tmp/x.sock", false).unwrap();
        assert!(!applies(&other));
        // the default socket: depends on root and BERTH_NO_AUTOSTART only
        let root = rustix::process::geteuid().is_root();
        let off = std::env::var("BERTH_NO_AUTOSTART").is_ok_and(|v| v == "1");
        assert_eq!(applies(&default), root && !off);
    }
}
