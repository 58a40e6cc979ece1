//! OCI hooks: run a hook with the container state on its stdin, within its
//! timeout, and report its exit status and output when it fails.

use std::io::{Read, Seek, Write};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;

/// Which lifecycle point a hook belongs to (for messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// `prestart` (deprecated; same point as createRuntime).
    Prestart,
    /// `createRuntime`, in the runtime's namespaces.
    CreateRuntime,
    /// `createContainer`, in the container's namespaces before pivot_root.
    CreateContainer,
    /// `startContainer`, in the container right before the user process.
    StartContainer,
    /// `poststart`, after the user process started.
    Poststart,
    /// `poststop`, after the container is deleted.
    Poststop,
}

impl std::fmt::Display for HookKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HookKind::Prestart => "prestart",
            HookKind::CreateRuntime => "createRuntime",
            HookKind::CreateContainer => "createContainer",
            HookKind::StartContainer => "startContainer",
            HookKind::Poststart => "poststart",
            HookKind::Poststop => "poststop",
        })
    }
}

/// A hook that could not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The hook's binary could not be started.
    #[error("{kind} hook #{index} ({path}): cannot start: {source}")]
    Spawn {
        /// Lifecycle point.
        kind: HookKind,
        /// Position in its list.
        index: usize,
        /// The hook's path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The hook exited non-zero or was killed.
    #[error("{kind} hook #{index} ({path}) failed: {status}{output}")]
    Failed {
        /// Lifecycle point.
        kind: HookKind,
        /// Position in its list.
        index: usize,
        /// The hook's path.
        path: String,
        /// Exit status description.
        status: String,
        /// Its combined stdout and stderr, prefixed for the message.
        output: String,
    },
    /// The hook ran longer than its timeout and was killed.
    #[error("{kind} hook #{index} ({path}) timed out after {secs} s")]
    Timeout {
        /// Lifecycle point.
        kind: HookKind,
        /// Position in its list.
        index: usize,
        /// The hook's path.
        path: String,
        /// The timeout.
        secs: i64,
    },
}

/// The state JSON a hook reads on its stdin (the runtime-spec's state).
pub fn state_json(
    id: &str,
    status: crate::state::Status,
    pid: i32,
    bundle: &std::path::Path,
    annotations: &std::collections::HashMap<String, String>,
) -> Vec<u8> {
    let mut v = serde_json::json!({
        "ociVersion": crate::config::OCI_VERSION,
        "id": id,
        "status": status.as_str(),
        "bundle": bundle,
    });
    if pid > 0 {
        v["pid"] = pid.into();
    }
    if !annotations.is_empty() {
        v["annotations"] = serde_json::to_value(annotations).unwrap_or_default();
    }
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Run `hooks` in order with `state` (the container's state JSON) on stdin;
/// stop at the first failure.
pub fn run_all(kind: HookKind, hooks: &[Hook], state: &[u8]) -> Result<(), HookError> {
    for (index, hook) in hooks.iter().enumerate() {
        run_one(kind, index, hook, state)?;
    }
    Ok(())
}

/// Run every hook, even after failures, returning the failures (for the
/// points where the spec says to warn and continue: poststart, poststop).
pub fn run_all_warn(kind: HookKind, hooks: &[Hook], state: &[u8]) -> Vec<HookError> {
    hooks
        .iter()
        .enumerate()
        .filter_map(|(i, h)| run_one(kind, i, h, state).err())
        .collect()
}

fn run_one(kind: HookKind, index: usize, hook: &Hook, state: &[u8]) -> Result<(), HookError> {
    let path = hook.path().display().to_string();
    let spawn_err = |source| HookError::Spawn {
        kind,
        index,
        path: path.clone(),
        source,
    };
    let mut cmd = Command::new(hook.path());
    if let Some(args) = hook.args() {
        use std::os::unix::process::CommandExt;
        if let Some((argv0, rest)) = args.split_first() {
            cmd.arg0(argv0).args(rest);
        }
    }
    if let Some(env) = hook.env() {
        cmd.env_clear();
        for kv in env {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            cmd.env(k, v);
        }
    }
    // Output goes to an anonymous file, read back only on failure: no pipe
    // to drain while waiting, whatever the hook prints.
    let out: OwnedFd =
        rustix::fs::memfd_create("berth-hook-output", rustix::fs::MemfdFlags::CLOEXEC)
            .map_err(|e| spawn_err(e.into()))?;
    let out = std::fs::File::from(out);
    cmd.stdin(Stdio::piped())
        .stdout(out.try_clone().map_err(spawn_err)?)
        .stderr(out.try_clone().map_err(spawn_err)?);
    let mut child = cmd.spawn().map_err(spawn_err)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin may close it: not an error.
        let _ = stdin.write_all(state);
    }
    let deadline = hook
        .timeout()
        .filter(|&t| t > 0)
        .map(|t| (t, Instant::now() + Duration::from_secs(t as u64)));
    let status = match deadline {
        None => child.wait().map_err(spawn_err)?,
        Some((secs, deadline)) => {
            let pidfd = rustix::process::pidfd_open(
                rustix::process::Pid::from_raw(child.id() as i32).expect("child pid is positive"),
                rustix::process::PidfdFlags::empty(),
            )
            .map_err(|e| spawn_err(e.into()))?;
            loop {
                if let Some(st) = child.try_wait().map_err(spawn_err)? {
                    break st;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(HookError::Timeout {
                        kind,
                        index,
                        path,
                        secs,
                    });
                }
                let mut fds = [rustix::event::PollFd::new(
                    &pidfd,
                    rustix::event::PollFlags::IN,
                )];
                let ts = rustix::time::Timespec::try_from(left).unwrap_or(rustix::time::Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                });
                let _ = rustix::event::poll(&mut fds, Some(&ts));
            }
        }
    };
    if status.success() {
        return Ok(());
    }
    let mut output = String::new();
    let mut out = out;
    if out.rewind().is_ok() {
        let _ = out.take(4096).read_to_string(&mut output);
    }
    let output = output.trim();
    Err(HookError::Failed {
        kind,
        index,
        path,
        status: status.to_string(),
        output: if output.is_empty() {
            String::new()
        } else {
            format!(", output: {output}")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::HookBuilder;

    fn sh(script: &str, timeout: Option<i64>) -> Hook {
        let b = HookBuilder::default().path("/bin/sh").args(vec![
            "sh".to_string(),
            "-c".to_string(),
            script.to_string(),
        ]);
        match timeout {
            Some(t) => b.timeout(t).build().unwrap(),
            None => b.build().unwrap(),
        }
    }

    #[test]
    fn hook_gets_state_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("state");
        let hook = sh(&format!("cat > {}", out.display()), None);
        run_all(HookKind::Poststart, &[hook], br#"{"id":"x"}"#).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), br#"{"id":"x"}"#);
    }

    #[test]
    fn failure_reports_status_and_output() {
        let err = run_all(
            HookKind::CreateRuntime,
            &[sh("echo oops >&2; exit 3", None)],
            b"{}",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("createRuntime hook #0"), "{msg}");
        assert!(msg.contains("exit status: 3"), "{msg}");
        assert!(msg.contains("oops"), "{msg}");
    }

    #[test]
    fn timeout_kills_the_hook() {
        let t0 = Instant::now();
        let err = run_all(HookKind::Prestart, &[sh("sleep 30", Some(1))], b"{}").unwrap_err();
        assert!(matches!(err, HookError::Timeout { secs: 1, .. }), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn warn_mode_runs_every_hook() {
        let errs = run_all_warn(
            HookKind::Poststop,
            &[sh("exit 1", None), sh("exit 0", None), sh("exit 2", None)],
            b"{}",
        );
        assert_eq!(errs.len(), 2);
    }
}
