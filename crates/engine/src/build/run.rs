//! `RUN`: a container made from the current image, exactly as `docker
//! run` would make it (create, attach, start, wait), with the build's
//! network mode, extra hosts, shm size, resources and the allowed build
//! args in its environment; its output streamed into the build's stream
//! as it comes (stderr in dockerd's red: `ESC[91m … ESC[0m`); its changes
//! committed as the step's layer, then the container removed (`rm`).
//!
//! The cache key is dockerd's: the command, prefixed with `|N K=V…` when
//! build args are in effect, so the same `RUN` with other args runs again.

use std::io::Read;
use std::os::unix::net::UnixStream;

use berth_build::ShellOrExec;
use berth_models::progress::JsonMessage;

use super::BuildError;
use super::dispatch::{Build, State};
use crate::containers::attach::{AttachStreams, Attached};
use crate::containers::wait::WaitCondition;
use crate::progress::Progress;

impl Build<'_> {
    pub(crate) fn dispatch_run(
        &mut self,
        state: &mut State,
        cmd: &ShellOrExec,
    ) -> Result<(), BuildError> {
        let command = self.resolve_cmd(state, cmd);
        let args = self.allowed_args(state);
        let mut save_cmd = command.clone();
        if !args.is_empty() {
            let mut shown: Vec<String> = args
                .iter()
                .filter(|a| {
                    let key = a.split_once('=').map_or(a.as_str(), |(k, _)| k);
                    self.referenced_or_not_builtin(state, key)
                })
                .cloned()
                .collect();
            shown.sort();
            let mut prefixed = vec![format!("|{}", shown.len())];
            prefixed.extend(shown);
            prefixed.extend(command.iter().cloned());
            save_cmd = prefixed;
        }
        let mut probe = state.run.clone();
        probe.cmd = Some(save_cmd);
        if !command.is_empty() {
            probe.entrypoint = None;
        }
        if self.probe_cache(state, &probe)? {
            return Ok(());
        }
        let mut config = state.run.clone();
        config.cmd = Some(command.clone());
        config
            .env
            .get_or_insert_with(Vec::new)
            .extend(args.iter().cloned());
        if !command.is_empty() {
            config.entrypoint = Some(vec![String::new()]);
        }
        config.healthcheck = None;
        let Some(id) = self.intermediate(state, config)? else {
            return Err(BuildError::Step(format!(
                "The command '{}' cannot run: the image so far is empty (FROM scratch has no filesystem to run in)",
                command.join(" ")
            )));
        };
        let code = match self.run_attached(&id) {
            Ok(code) => code,
            Err(BuildError::Cancelled) => {
                // Nobody is listening any more: stop and clean up.
                self.remove_container(&id);
                return Err(BuildError::Cancelled);
            }
            Err(e) => return Err(e),
        };
        if code != 0 {
            return Err(BuildError::NonZero {
                command: command.join(" "),
                code,
            });
        }
        let record = self.engine.container(&id)?;
        let mut lease = self
            .engine
            .leases
            .lease([crate::images::gc::ALL_BLOBS.to_string()]);
        let (layer, diff_id) =
            self.engine
                .write_snapshot_diff(&record.snapshot, &id, state.top_layer())?;
        let layer = (diff_id.as_str() != super::commit::EMPTY_LAYER).then_some((layer, diff_id));
        let new = self.commit_step_leased(state, &probe, layer, Some(&id), &mut lease)?;
        drop(lease);
        self.step_done(&id);
        self.advance(state, &new)
    }

    /// Starts container `id` with its output streamed; its exit code.
    fn run_attached(&mut self, id: &str) -> Result<i64, BuildError> {
        let (attached, _) = self.engine.attach_container(
            id,
            AttachStreams {
                stdin: false,
                stdout: true,
                stderr: true,
            },
        )?;
        let waiter = self
            .engine
            .wait_container_begin(id, WaitCondition::NotRunning)?;
        self.engine.start_container(id)?;
        let stream = match attached {
            Attached::Now(s) => Some(s),
            Attached::Later(rx) => rx.blocking_recv().ok().and_then(Result::ok),
            Attached::Done => None,
        };
        if let Some(stream) = stream
            && let Err(e) = self.pump(stream)
        {
            let _ = self.engine.kill_container(id, "SIGKILL");
            return Err(e);
        }
        Ok(self.engine.wait_container(&waiter).status_code)
    }

    /// Forwards Docker's framed stdout/stderr stream as `stream` messages.
    /// Frames of one stream that follow each other without a pause (a
    /// shell's `set -x` writes a line in pieces) make one message, as
    /// dockerd's copier reading its pipe in bulk does.
    fn pump(&self, mut stream: UnixStream) -> Result<(), BuildError> {
        let mut pending: Option<(u8, Vec<u8>)> = None;
        loop {
            // A silent command: look for a client that went away meanwhile.
            while !readable_within(&stream, 250) {
                if self.out.cancelled() {
                    return Err(BuildError::Cancelled);
                }
            }
            let frame = read_frame(&mut stream)?;
            let Some((kind, data)) = frame else {
                return self.flush(&mut pending);
            };
            match &mut pending {
                Some((k, buf)) if *k == kind => buf.extend_from_slice(&data),
                _ => {
                    self.flush(&mut pending)?;
                    pending = Some((kind, data));
                }
            }
            if !readable_soon(&stream) {
                self.flush(&mut pending)?;
            }
        }
    }

    fn flush(&self, pending: &mut Option<(u8, Vec<u8>)>) -> Result<(), BuildError> {
        let Some((kind, data)) = pending.take() else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(&data);
        let stream = if kind == 2 {
            format!("\u{1b}[91m{text}\u{1b}[0m")
        } else {
            text.into_owned()
        };
        self.out.raw(JsonMessage {
            stream,
            ..Default::default()
        })
    }
}

/// One frame (stream type, payload); `None` at the end.
fn read_frame(stream: &mut UnixStream) -> Result<Option<(u8, Vec<u8>)>, BuildError> {
    let ended = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
        )
    };
    let mut header = [0u8; 8];
    if let Err(e) = stream.read_exact(&mut header) {
        return if ended(&e) {
            Ok(None)
        } else {
            Err(BuildError::io("reading the RUN output", e))
        };
    }
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let mut data = vec![0u8; len];
    if let Err(e) = stream.read_exact(&mut data) {
        return if ended(&e) {
            Ok(None)
        } else {
            Err(BuildError::io("reading the RUN output", e))
        };
    }
    Ok(Some((header[0], data)))
}

/// Whether more output arrives within a few milliseconds.
fn readable_soon(stream: &UnixStream) -> bool {
    readable_within(stream, 5)
}

/// Whether `stream` has something to read (or has ended) within `ms`.
fn readable_within(stream: &UnixStream, ms: i64) -> bool {
    let mut fds = [rustix::event::PollFd::new(
        stream,
        rustix::event::PollFlags::IN,
    )];
    let ts = rustix::event::Timespec {
        tv_sec: ms / 1000,
        tv_nsec: (ms % 1000) * 1_000_000,
    };
    // An error: the read that follows reports it.
    rustix::event::poll(&mut fds, Some(&ts)).map_or(true, |n| n > 0)
}
