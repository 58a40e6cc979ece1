//! Handing a `SCMP_ACT_NOTIFY` listener fd to the seccomp agent
//! (runtime-spec config-linux.md, "The Container Process State"): connect to
//! `listenerPath`, a unix stream socket, and send the
//! [`ContainerProcessState`] JSON with the fd attached as `SCM_RIGHTS`, its
//! name `"seccompFd"` at the same index in `fds`.

use std::{io::IoSlice, mem::MaybeUninit, os::fd::BorrowedFd, path::Path, path::PathBuf};

use oci_spec::runtime::{ContainerProcessState, SECCOMP_FD_NAME};
use rustix::{
    io::Errno,
    net::{
        AddressFamily, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketAddrUnix,
        SocketFlags, SocketType, connect, send, sendmsg, socket_with,
    },
};

/// The listener fd could not be handed to the agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenerError {
    /// The state could not be serialized.
    #[error("serialize the container process state for the seccomp agent: {source}")]
    Serialize {
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// `listenerPath` is not a usable unix socket address.
    #[error("seccomp listener path {path}: {source}")]
    Address {
        /// The path.
        path: PathBuf,
        /// Why (`ENAMETOOLONG`).
        #[source]
        source: Errno,
    },
    /// No socket could be created.
    #[error("create a unix socket for the seccomp agent: {source}")]
    Socket {
        /// The OS error.
        #[source]
        source: Errno,
    },
    /// Connecting to the agent failed.
    #[error("connect to the seccomp agent at {path}: {source}")]
    Connect {
        /// The path.
        path: PathBuf,
        /// The OS error (`ENOENT`: nothing there; `ECONNREFUSED`: no one listening).
        #[source]
        source: Errno,
    },
    /// Sending the state and the fd failed.
    #[error("send the seccomp listener fd to the agent at {path}: {source}")]
    Send {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: Errno,
    },
}

impl ListenerError {
    /// Whether the agent's socket does not exist.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, ListenerError::Connect { source, .. } if *source == Errno::NOENT)
    }
}

/// Connects to the seccomp agent at `listener_path` and sends `state` as JSON
/// with `fd` in `SCM_RIGHTS`. `state.fds` is sent as `["seccompFd"]` whatever
/// it holds, since exactly that one fd is attached. Blocks until the agent's
/// socket has taken the whole message.
pub fn send_to_listener(
    listener_path: &Path,
    fd: BorrowedFd<'_>,
    state: &ContainerProcessState,
) -> crate::Result<()> {
    Ok(send_state(listener_path, fd, state)?)
}

fn send_state(
    path: &Path,
    fd: BorrowedFd<'_>,
    state: &ContainerProcessState,
) -> Result<(), ListenerError> {
    let mut state = state.clone();
    state.set_fds(vec![SECCOMP_FD_NAME.to_string()]);
    let json = serde_json::to_vec(&state).map_err(|source| ListenerError::Serialize { source })?;

    let addr = SocketAddrUnix::new(path).map_err(|source| ListenerError::Address {
        path: path.to_path_buf(),
        source,
    })?;
    let sock = socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|source| ListenerError::Socket { source })?;
    connect(&sock, &addr).map_err(|source| ListenerError::Connect {
        path: path.to_path_buf(),
        source,
    })?;

    let send_err = |source| ListenerError::Send {
        path: path.to_path_buf(),
        source,
    };
    let fds = [fd];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    control.push(SendAncillaryMessage::ScmRights(&fds));
    let mut sent = loop {
        match sendmsg(
            &sock,
            &[IoSlice::new(&json)],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Err(Errno::INTR) => continue,
            other => break other.map_err(send_err)?,
        }
    };
    // A stream socket may take a large state in several pieces; the fd went
    // with the first.
    while sent < json.len() {
        match send(&sock, &json[sent..], SendFlags::NOSIGNAL) {
            Ok(n) => sent += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(send_err(e)),
        }
    }
    Ok(())
}
