//! Attaching to a container's stdio. A running container's shim hands out
//! a stream at once; an attach to a container not started yet (what
//! `docker run` does before `start`) waits here and is connected by
//! `start` after the shim created the container and before it runs, so no
//! output is lost.

use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::{ContainerError, Status};

/// Which streams an attacher wants.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttachStreams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

type Pending = (AttachStreams, oneshot::Sender<Result<UnixStream, String>>);

/// Attachers waiting for their container to start.
#[derive(Debug, Default)]
pub struct Attaches {
    pending: Mutex<HashMap<String, Vec<Pending>>>,
}

impl Attaches {
    fn add(
        &self,
        id: &str,
        streams: AttachStreams,
    ) -> oneshot::Receiver<Result<UnixStream, String>> {
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default()
            .push((streams, tx));
        rx
    }

    /// Hands every waiting attacher of `id` a stream from `client`.
    pub(crate) fn connect(&self, id: &str, client: &berth_shim::Client) {
        let waiting = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        for (s, tx) in waiting.unwrap_or_default() {
            let stream = client
                .attach(s.stdin, s.stdout, s.stderr)
                .map_err(|e| e.to_string());
            let _ = tx.send(stream);
        }
    }

    /// Drops the attachers of a removed container (their streams end).
    pub(crate) fn cancel(&self, id: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// What an attach gets.
#[derive(Debug)]
pub enum Attached {
    /// The container runs: here is its stream.
    Now(UnixStream),
    /// It has not started: the stream comes when it does.
    Later(oneshot::Receiver<Result<UnixStream, String>>),
    /// It has exited: nothing to stream.
    Done,
}

impl crate::Engine {
    /// Attaches to `name`; also returns whether it has a tty (raw stream).
    pub fn attach_container(
        &self,
        name: &str,
        streams: AttachStreams,
    ) -> Result<(Attached, bool), ContainerError> {
        let record = self.container(name)?;
        let tty = record.config.tty;
        match record.state.status {
            Status::Running => {
                let shim = self
                    .shims
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&record.id)
                    .cloned();
                match shim {
                    Some(s) => Ok((
                        Attached::Now(s.attach(streams.stdin, streams.stdout, streams.stderr)?),
                        tty,
                    )),
                    None => Ok((Attached::Done, tty)),
                }
            }
            Status::Paused => Err(ContainerError::Conflict(
                "You cannot attach to a paused container, unpause it first".into(),
            )),
            Status::Created | Status::Exited | Status::Restarting => {
                Ok((Attached::Later(self.attaches.add(&record.id, streams)), tty))
            }
            _ => Ok((Attached::Done, tty)),
        }
    }

    /// `POST /containers/{id}/resize`.
    pub fn resize_container(
        &self,
        name: &str,
        height: u16,
        width: u16,
    ) -> Result<(), ContainerError> {
        let record = self.container(name)?;
        let shim = self
            .shims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&record.id)
            .cloned();
        match shim {
            Some(s) if record.state.status.is_live() => Ok(s.resize(height, width)?),
            _ => Err(ContainerError::Conflict(format!(
                "Container {} is not running",
                record.id
            ))),
        }
    }
}
